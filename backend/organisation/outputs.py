"""Workshop outputs (工作室成果: 案例 cases, 主题班会设计 class-meeting designs, 视频 videos, 论文 papers).

Submitting: an active member of the workshop (a term covering today) gives a title, a kind, a summary and a file. The
file comes through the portal's one upload pipeline (`backend.media.uploads`: the resumable `/api/v1/uploads` with
the policy's size limit, the content sniffed and probed — PDF for cases, designs and papers; MP4/WebM for videos —
on local disk or S3; a rejected or abandoned upload leaves neither a row nor an object). The submission claims the
finished upload (`claim_upload`), so the stored object becomes this output's; a submission refused for any reason
writes nothing (the request rolls back, the upload stays the member's, ready, and is swept if never used). To let
members upload at all, this module registers them with `uploads.extra_uploaders` (media sits below organisation).

Reviewing: the workshop's host (主持人) accepts a pending output or returns it with a reason, which the member reads
on their outputs page (the portal has no notice/inbox package to send it through: see the notes of issue 16).

Promoting: the host turns an accepted output into a DRAFT course of the studio through the catalogue's own services
(`authoring.create_course`, `add_lesson`, `set_lesson_media`). Its owner is the host when the host is a trainer;
otherwise (a teacher host: only trainers and district admins author courses) the host names a trainer, who becomes
the owner. The first lesson is a video lesson for a video, otherwise a document lesson (the catalogue's lesson kinds
are video, document and text; a PDF is a document lesson, read page by page), pointing at the output's stored file.
The course claims credit hours from its content (the studio's estimate; at least 0.1), to be reviewed by its owner
before submitting: the district still publishes it through the studio's review.

Every change is audited (subject "workshop_output", the workshop's school).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.audit import service as audit
from backend.catalogue import authoring
from backend.kit import clock
from backend.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.learning import service as learning
from backend.media import uploads
from backend.notices import service as notices
from backend.organisation import scope, workshops
from backend.organisation.models import Workshop, WorkshopMember, WorkshopOutput
from backend.policies.service import Policy

KINDS = ("case", "meeting_design", "video", "paper")
KIND_LABELS = {
    "case": _("Case (案例)"),
    "meeting_design": _("Class-meeting design (主题班会设计)"),
    "video": _("Video (视频)"),
    "paper": _("Paper (论文)"),
}
STATUS_LABELS = {"pending": _("Awaiting the host's review"), "accepted": _("Accepted"), "returned": _("Returned")}
MAX_TITLE = 200
MAX_SUMMARY = 2000
MAX_REASON = 500
PROMOTED_TIER = "compass"  # 指南针: the tier of workshop study (backend.policies.taxonomy)


def media_kind(kind: str) -> str:
    """The upload a kind of output needs: a video for videos, a PDF document for the others."""
    return "video" if kind == "video" else "document"


# ---------------------------------------------------------------------------------------------------------------
# Who


def _active_terms(day: Any) -> Any:
    return (WorkshopMember.start <= day, or_(WorkshopMember.end.is_(None), WorkshopMember.end >= day))


def is_member(session: Session, user: User, workshop_id: int) -> bool:
    """A term of the user in this workshop covers today."""
    return (
        session.scalar(
            select(WorkshopMember.id)
            .where(
                WorkshopMember.workshop_id == workshop_id,
                WorkshopMember.user_id == user.id,
                *_active_terms(scope.today()),
            )
            .limit(1)
        )
        is not None
    )


def is_member_anywhere(session: Session, user: User) -> bool:
    """Active in some workshop today: such a teacher may upload (for an output) through the media pipeline."""
    return (
        session.scalar(
            select(WorkshopMember.id)
            .where(WorkshopMember.user_id == user.id, *_active_terms(scope.today()))
            .limit(1)
        )
        is not None
    )


uploads.extra_uploaders.append(is_member_anywhere)


def is_host(workshop: Workshop, user: User) -> bool:
    return workshop.host_id is not None and workshop.host_id == user.id


def _workshop(session: Session, workshop_id: int) -> Workshop:
    workshop = session.get(Workshop, workshop_id)
    if workshop is None:
        raise NotFound(_("This workshop does not exist or is not open to you."))
    return workshop


def _may_see(session: Session, actor: User, workshop: Workshop) -> bool:
    """Members and the host see a workshop's outputs; so do the admins who see the workshop."""
    if is_host(workshop, actor) or is_member(session, actor, workshop.id):
        return True
    if actor.role in scope.ADMIN_ROLES:
        try:
            workshops.get_workshop(session, actor, workshop.id)
        except NotFound:
            return False
        return True
    return False


def _hosted(session: Session, actor: User, output_id: int) -> tuple[WorkshopOutput, Workshop]:
    output = session.get(WorkshopOutput, output_id)
    if output is None:
        raise NotFound(_("This output does not exist."))
    workshop = _workshop(session, output.workshop_id)
    if not is_host(workshop, actor):
        if not _may_see(session, actor, workshop):
            raise NotFound(_("This output does not exist."))
        raise Forbidden(_("Only the workshop's host reviews and promotes its outputs."))
    return output, workshop


def _audit(session: Session, action: str, actor: User, output: WorkshopOutput, workshop: Workshop, **kw: Any) -> None:
    audit.record(
        session, action, actor_id=actor.id, subject_type="workshop_output", subject_id=output.id,
        school_id=workshop.school_id, **kw,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Submitting


def submit(
    session: Session, actor: User, workshop_id: int, *, title: str, kind: str, summary: str, upload_id: str
) -> WorkshopOutput:
    """A member's output with its uploaded file (the id of a finished upload of theirs)."""
    workshop = _workshop(session, workshop_id)
    if not is_member(session, actor, workshop.id):
        if not _may_see(session, actor, workshop):
            raise NotFound(_("This workshop does not exist or is not open to you."))
        raise Forbidden(_("Only the workshop's members submit outputs."))
    errors: dict[str, str] = {}
    title = (title or "").strip()
    summary = (summary or "").replace("\r\n", "\n").strip()
    if not title or len(title) > MAX_TITLE:
        errors["title"] = _("Enter a title of 1 to 200 characters.")
    if kind not in KINDS:
        errors["kind"] = _("Choose a kind of output from the list.")
    if len(summary) > MAX_SUMMARY:
        errors["summary"] = _("The summary can have at most 2000 characters.")
    if not (upload_id or "").strip():
        errors["upload_id"] = _("Upload the file first.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    try:
        stored = uploads.claim_upload(session, actor, upload_id.strip(), media_kind(kind))
    except (InvalidInput, NotFound) as exc:
        raise InvalidInput(_("Please correct the marked fields."), fields={"upload_id": exc.message}) from exc
    output = WorkshopOutput(
        workshop_id=workshop.id, author_id=actor.id, title=title, kind=kind, summary=summary,
        media_key=stored.key, media_type=stored.content_type, media_kind=stored.kind,
        media_name=stored.filename[:255], media_size=stored.size, duration_ms=stored.duration_ms, pages=stored.pages,
        poster_key=stored.poster_key, status="pending", created_at=clock.now(),
    )  # fmt: skip
    session.add(output)
    session.flush()
    _audit(session, "organisation.output_submit", actor, output, workshop,
           after={"title": title, "kind": kind, "file": output.media_name, "size": output.media_size})  # fmt: skip
    return output


# ---------------------------------------------------------------------------------------------------------------
# Reviewing and promoting


def accept(session: Session, actor: User, output_id: int) -> WorkshopOutput:
    output, workshop = _hosted(session, actor, output_id)
    if output.status != "pending":
        raise Conflict(_("Only an output awaiting review can be accepted or returned."))
    output.status, output.reviewed_by, output.reviewed_at, output.review_reason = "accepted", actor.id, clock.now(), ""
    session.flush()
    _audit(session, "organisation.output_accept", actor, output, workshop, on_behalf_of_id=output.author_id,
           before={"status": "pending"}, after={"status": "accepted"})  # fmt: skip
    return output


def return_output(session: Session, actor: User, output_id: int, reason: str) -> WorkshopOutput:
    """Returns a pending output to its member with the reason they will read."""
    output, workshop = _hosted(session, actor, output_id)
    if output.status != "pending":
        raise Conflict(_("Only an output awaiting review can be accepted or returned."))
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(
            _("Please correct the marked fields."), fields={"reason": _("Give the reason in 1 to 500 characters.")}
        )
    output.status, output.reviewed_by, output.reviewed_at = "returned", actor.id, clock.now()
    output.review_reason = reason
    session.flush()
    _audit(session, "organisation.output_return", actor, output, workshop, on_behalf_of_id=output.author_id,
           before={"status": "pending"}, after={"status": "returned", "reason": reason})  # fmt: skip
    notices.notify(session, output.author_id, _("Your output “%(title)s” was returned: %(reason)s"),
                   link="/organisation/outputs", title=output.title, reason=reason)  # fmt: skip
    return output


@dataclass(frozen=True)
class _Stored:
    """The output's file as the catalogue reads stored media (`authoring.StoredMediaLike`)."""

    key: str
    content_type: str
    kind: str
    duration_ms: int | None
    pages: int | None
    poster_key: str | None


def promote(
    session: Session, actor: User, output_id: int, policy: Policy, owner_id: int | None = None
) -> WorkshopOutput:
    """An accepted output becomes a draft course: owner the host (a trainer) or the trainer the host names."""
    output, workshop = _hosted(session, actor, output_id)
    if output.status != "accepted":
        raise Conflict(_("Only an accepted output can be promoted into the studio."))
    if output.course_id is not None:
        raise Conflict(_("This output is already a course in the studio."))
    owner: User | None = actor if actor.role == Role.trainer and owner_id in (None, actor.id) else None
    if owner is None:
        candidate = session.get(User, owner_id) if owner_id else None
        if candidate is None or not candidate.is_active or candidate.role != Role.trainer:
            raise InvalidInput(
                _("Please correct the marked fields."),
                fields={"owner": _("Choose the trainer who will own the course in the studio.")},
            )
        owner = candidate
    author = session.get(User, output.author_id)
    description = "\n\n".join(
        part
        for part in (
            output.summary,
            f"来源：{workshop.name}成果（{KIND_LABELS[output.kind]}），作者：{author.display_name if author else ''}。",
        )
        if part
    )
    fields = authoring.CourseFields(
        title=output.title, summary=output.summary[:500], description_md=description, tier=PROMOTED_TIER,
        topics=[], credit_hours=Decimal("0.1"), credit_category="practice",
    )  # fmt: skip
    course = authoring.create_course(session, owner, fields)
    lesson = authoring.add_lesson(session, owner, course, media_kind(output.kind), output.title)
    stored = _Stored(output.media_key, output.media_type, output.media_kind, output.duration_ms, output.pages,
                     output.poster_key)  # fmt: skip
    authoring.set_lesson_media(session, owner, course, lesson, stored)
    hours = max(Decimal("0.1"), authoring.estimate_content(course, policy).max_hours)
    if hours != course.credit_hours:
        authoring.update_course(session, owner, course, replace(fields, credit_hours=hours))
    output.course_id, output.promoted_by, output.promoted_at = course.id, actor.id, clock.now()
    session.flush()
    _audit(session, "organisation.output_promote", actor, output, workshop, on_behalf_of_id=output.author_id,
           after={"course_id": course.id, "code": course.code, "owner_id": owner.id, "lesson_kind": lesson.kind,
                  "credit_hours": str(course.credit_hours)})  # fmt: skip
    return output


# ---------------------------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class OutputRow:
    output: WorkshopOutput
    workshop_name: str
    author_name: str
    reviewer_name: str | None


def _rows(session: Session, outputs: list[WorkshopOutput]) -> list[OutputRow]:
    user_ids = {o.author_id for o in outputs} | {o.reviewed_by for o in outputs if o.reviewed_by}
    names = (
        dict(session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()) if user_ids else {}
    )
    ws_ids = {o.workshop_id for o in outputs}
    ws_names = (
        dict(session.execute(select(Workshop.id, Workshop.name).where(Workshop.id.in_(ws_ids))).all())
        if ws_ids
        else {}
    )
    return [
        OutputRow(o, ws_names.get(o.workshop_id, ""), names.get(o.author_id, ""), names.get(o.reviewed_by or 0))
        for o in outputs
    ]


def mine(session: Session, actor: User) -> list[OutputRow]:
    """The actor's own outputs, newest first, with the host's decision and reason."""
    return _rows(
        session,
        list(
            session.scalars(
                select(WorkshopOutput)
                .where(WorkshopOutput.author_id == actor.id)
                .order_by(WorkshopOutput.created_at.desc(), WorkshopOutput.id.desc())
            )
        ),
    )


def of_workshop(session: Session, actor: User, workshop_id: int) -> list[OutputRow]:
    """A workshop's outputs (members, the host and the admins who see the workshop), pending first."""
    workshop = _workshop(session, workshop_id)
    if not _may_see(session, actor, workshop):
        raise NotFound(_("This workshop does not exist or is not open to you."))
    outputs = list(
        session.scalars(
            select(WorkshopOutput)
            .where(WorkshopOutput.workshop_id == workshop.id)
            .order_by(WorkshopOutput.created_at.desc(), WorkshopOutput.id.desc())
        )
    )
    outputs.sort(key=lambda o: o.status != "pending")
    return _rows(session, outputs)


def get(session: Session, actor: User, output_id: int) -> OutputRow:
    output = session.get(WorkshopOutput, output_id)
    if output is None:
        raise NotFound(_("This output does not exist."))
    workshop = _workshop(session, output.workshop_id)
    if output.author_id != actor.id and not _may_see(session, actor, workshop):
        raise NotFound(_("This output does not exist."))
    return _rows(session, [output])[0]


def my_workshops(session: Session, actor: User) -> list[Workshop]:
    """Workshops the actor is an active member of, or hosts."""
    member_of = select(WorkshopMember.workshop_id).where(
        WorkshopMember.user_id == actor.id, *_active_terms(scope.today())
    )
    return list(
        session.scalars(
            select(Workshop)
            .where(or_(Workshop.id.in_(member_of), Workshop.host_id == actor.id))
            .order_by(Workshop.name, Workshop.id)
        )
    )


def learning_section(session: Session, user: User) -> tuple[str, dict[str, Any]] | None:
    """On a workshop member's "My learning": their workshops and a way to 我的成果 (submit, and read the host's
    decisions), which teachers otherwise reach by no link."""
    if user.role != Role.teacher:
        return None
    joined = my_workshops(session, user)
    if not joined:
        return None
    outputs = [row.output for row in mine(session, user)]
    counts = {status: sum(1 for o in outputs if o.status == status) for status in ("pending", "returned", "accepted")}
    return "organisation/_my_workshops.html", {"workshops": joined, "counts": counts}


learning.home_sections.append(learning_section)
