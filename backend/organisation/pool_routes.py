"""Pages and API of the reserve pool (班主任储备池) and of learning assigned to groups (issue 16).

Thin routes over `backend.organisation.pool` and `backend.organisation.assignments`, which decide who may act on
which school (school admins: their own school's teachers; the district: every school; reviews: the district only).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from backend.accounts.deps import AdminUser
from backend.accounts.models import Role, User
from backend.accounts.scope import school_scope
from backend.catalogue import service as catalogue
from backend.db import SessionDep
from backend.kit.errors import InvalidInput
from backend.kit.forms import FormDep
from backend.kit.i18n import _, translate
from backend.kit.numbers import Bool, Int
from backend.kit.web import redirect, render
from backend.organisation import assignments, pool, scope, workshops
from backend.organisation.routes import _number, _values
from backend.policies.service import load_policy

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["organisation"])

POOL_LABELS = {
    "outcome_labels": pool.OUTCOME_LABELS,
    "pool_status_labels": pool.STATUS_LABELS,
    "state_labels": assignments.STATE_LABELS,
    "kind_labels": assignments.KIND_LABELS,
}


def _teachers(session: Session, user: User) -> list[User]:
    """The teachers an admin may nominate or list: their school's (school admin) or the district's."""
    return list(
        session.scalars(
            select(User)
            .where(school_scope(user), User.role == Role.teacher, User.is_active.is_(True))
            .order_by(User.school_id, User.display_name, User.id)
            .limit(2000)
        )
    )


def _field_errors(request: Request, exc: InvalidInput) -> dict[str, Any]:
    locale = request.state.locale
    return {
        "errors": {k: translate(locale, v) for k, v in exc.fields.items()},
        "form_error": translate(locale, exc.message, **exc.params),
    }


# ---------------------------------------------------------------------------------------------------------------
# The reserve pool: pages


def _pool_page(request: Request, session: Session, user: User, status: int = 200, **extra: Any) -> Response:
    policy = load_policy(session)
    show_left = request.query_params.get("all") == "1"
    context: dict[str, Any] = POOL_LABELS | {
        "rows": pool.list_members(session, user, policy, include_left=show_left),
        "show_left": show_left,
        "teachers": _teachers(session, user),
        "outcomes": pool.OUTCOMES,
        "may_review": user.role == Role.district_admin,
        "policy": policy,
        "today": scope.today(),
        "saved": request.query_params.get("saved"),
        "errors": {},
        "values": {},
        "form": None,
    }
    return render(request, "organisation/pool.html", context | extra, status=status)


@pages.get("/organisation/pool")
def pool_page(request: Request, session: SessionDep, user: AdminUser) -> Response:
    return _pool_page(request, session, user)


@pages.post("/organisation/pool")
def nominate(request: Request, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    values = _values(form)
    try:
        teacher_id = _number(values.get("teacher"))
        if teacher_id is None:
            raise InvalidInput(_("Please correct the marked fields."), fields={"teacher": _("Choose a teacher.")})
        pool.nominate(
            session, user, teacher_id, load_policy(session), willing=values.get("willing") == "1",
            reason=values.get("reason", ""), since=values.get("since"),
        )  # fmt: skip
    except InvalidInput as exc:
        session.rollback()
        return _pool_page(request, session, user, 422, form="nominate", values=values, **_field_errors(request, exc))
    return redirect(request, "/organisation/pool?saved=nominated")


@pages.post("/organisation/pool/{member_id}/reviews")
def review(request: Request, member_id: int, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    values = _values(form)
    try:
        pool.review(session, user, member_id, values.get("outcome", ""), values.get("note", ""), values.get("day"))
    except InvalidInput as exc:
        session.rollback()
        return _pool_page(
            request, session, user, 422, form=f"review-{member_id}", values=values, **_field_errors(request, exc)
        )
    return redirect(request, f"/organisation/pool?saved=reviewed#member-{member_id}")


# ---------------------------------------------------------------------------------------------------------------
# Assignments: pages


def _assignments_page(request: Request, session: Session, user: User, status: int = 200, **extra: Any) -> Response:
    from backend.policies.taxonomy import TIERS

    schools = scope.schools_in_scope(session, user)
    context: dict[str, Any] = POOL_LABELS | {
        "views": assignments.list_views(session, user),
        "courses": catalogue.current_courses(session),
        "kinds": assignments.KINDS,
        "tier_list": TIERS,
        "workshop_rows": workshops.list_workshops(session, user),
        "schools": schools,
        "today": scope.today(),
        "saved": request.query_params.get("saved"),
        "errors": {},
        "values": {},
        "report": None,
    }
    return render(request, "organisation/assignments.html", context | extra, status=status)


@pages.get("/organisation/assignments")
def assignments_page(request: Request, session: SessionDep, user: AdminUser) -> Response:
    return _assignments_page(request, session, user)


@pages.post("/organisation/assignments")
def create_assignment(request: Request, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    values = _values(form)
    kind = values.get("kind", "")
    teacher_ids: list[int] = []
    try:
        if kind == "list":
            upload = form.get("file")
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise InvalidInput(
                    _("Please correct the marked fields."), fields={"file": _("Choose the file to upload.")}
                )
            content = upload.file.read(assignments.MAX_LIST_BYTES + 1)
            teacher_ids, problems = assignments.parse_list(session, user, content, upload.filename)
            if problems:  # all or nothing: one bad row and nothing is assigned
                return _assignments_page(
                    request, session, user, 422, values=values, report=problems, filename=upload.filename
                )
        value = values.get("value_" + kind, "") if kind in ("tier", "workshop", "school") else ""
        created = assignments.create(
            session, user, course_id=_number(values.get("course")), kind=kind, value=value, due=values.get("due"),
            note=values.get("note", ""), teacher_ids=teacher_ids,
        )  # fmt: skip
    except InvalidInput as exc:
        session.rollback()
        return _assignments_page(request, session, user, 422, values=values, **_field_errors(request, exc))
    return redirect(request, f"/organisation/assignments/{created.id}?saved=created")


@pages.get("/organisation/assignments/{assignment_id}")
def assignment_page(request: Request, assignment_id: int, session: SessionDep, user: AdminUser) -> Response:
    view = assignments.progress(session, user, assignment_id)
    return render(
        request, "organisation/assignment.html",
        POOL_LABELS | {"view": view, "saved": request.query_params.get("saved")},
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# JSON API


class ReviewOut(BaseModel):
    day: date
    outcome: str = Field(description="keep (继续储备) | ready (可聘任) | exit (退出)")
    note: str
    reviewer: str


class AssignedOut(BaseModel):
    assignment_id: int
    course_id: int
    course_title: str
    due: date
    state: str = Field(description="completed | in_progress | not_started")
    late: bool


class PoolMemberOut(BaseModel):
    id: int
    teacher_id: int
    teacher_name: str
    school_id: int | None
    since: date
    status: str = Field(description="reserve | ready | left")
    reason: str
    review_due: bool
    reviews: list[ReviewOut]
    assigned: list[AssignedOut]


class NominationIn(BaseModel):
    teacher_id: Int = Field(ge=1)
    willing: Bool = Field(description="The teacher is willing to take on the work (愿担责)")
    reason: str = Field(default="", max_length=2000)
    since: date | None = None


class ReviewIn(BaseModel):
    outcome: str = Field(max_length=32, description="keep (继续储备) | ready (可聘任) | exit (退出)")
    note: str = Field(default="", max_length=4000)
    day: date | None = None


def _assigned_out(found: assignments.MyAssignment) -> AssignedOut:
    return AssignedOut(
        assignment_id=found.assignment.id, course_id=found.course.id, course_title=found.course.title,
        due=found.assignment.due, state=found.state, late=found.overdue,
    )  # fmt: skip


def _member_out(record: pool.PoolRecord) -> PoolMemberOut:
    member = record.member
    return PoolMemberOut(
        id=member.id, teacher_id=record.teacher.id, teacher_name=record.teacher.display_name,
        school_id=member.school_id, since=member.since, status=member.status, reason=member.reason,
        review_due=record.review_due,
        reviews=[ReviewOut(day=r.day, outcome=r.outcome, note=r.note, reviewer=n) for r, n in record.reviews],
        assigned=[_assigned_out(a) for a in record.assigned],
    )  # fmt: skip


@api.get("/organisation/pool", response_model=list[PoolMemberOut])
def api_pool(session: SessionDep, user: AdminUser, include_left: bool = False) -> list[PoolMemberOut]:
    """The reserve pool in the caller's scope (a school admin: their school's teachers), with reviews and the
    progress of each member's assigned courses."""
    return [_member_out(r) for r in pool.list_members(session, user, load_policy(session), include_left=include_left)]


@api.post("/organisation/pool", response_model=PoolMemberOut, status_code=201)
def api_nominate(body: NominationIn, session: SessionDep, user: AdminUser) -> PoolMemberOut:
    """A school nominates a teacher; the district's criteria (policy `reserve_*`) are checked."""
    policy = load_policy(session)
    member = pool.nominate(
        session, user, body.teacher_id, policy, willing=body.willing, reason=body.reason, since=body.since
    )
    record = pool.record_of(session, user, member.user_id, policy)
    assert record is not None
    return _member_out(record)


@api.post("/organisation/pool/{member_id}/reviews", response_model=PoolMemberOut, status_code=201)
def api_review(member_id: int, body: ReviewIn, session: SessionDep, user: AdminUser) -> PoolMemberOut:
    """The district reviews a member: keep, ready for appointment, or exit."""
    pool.review(session, user, member_id, body.outcome, body.note, body.day)
    member, teacher = pool.get_member(session, user, member_id)
    policy = load_policy(session)
    return _member_out(pool.record_for(session, member, teacher, policy))


class AssignmentIn(BaseModel):
    course_id: Int = Field(ge=1)
    group: str = Field(max_length=32, description="tier | pool | trainees | workshop | school | list")
    value: str = Field(default="", max_length=64, description="The tier code, the workshop id or the school id")
    due: date
    note: str = Field(default="", max_length=1000)
    teacher_ids: list[Int] = Field(default_factory=list, max_length=5000, description="For group `list`")


class PersonProgressOut(BaseModel):
    teacher_id: int
    name: str
    school: str
    state: str = Field(description="completed | in_progress | not_started")
    completed_at: datetime | None
    late: bool


class AssignmentOut(BaseModel):
    id: int
    course_id: int
    course_title: str
    group: str
    value: str
    school_id: int | None
    due: date
    note: str
    completed: int
    in_progress: int
    not_started: int
    late: int
    people: list[PersonProgressOut]


def _assignment_out(view: assignments.AssignmentView) -> AssignmentOut:
    a = view.assignment
    return AssignmentOut(
        id=a.id, course_id=view.course.id, course_title=view.course.title, group=a.group_kind, value=a.group_value,
        school_id=a.school_id, due=a.due, note=a.note, completed=view.count("completed"),
        in_progress=view.count("in_progress"), not_started=view.count("not_started"), late=len(view.late),
        people=[
            PersonProgressOut(teacher_id=r.teacher.id, name=r.teacher.display_name, school=r.school_name,
                              state=r.state, completed_at=r.completed_at, late=r.late)
            for r in view.rows
        ],
    )  # fmt: skip


@api.get("/organisation/assignments", response_model=list[AssignmentOut])
def api_assignments(session: SessionDep, user: AdminUser) -> list[AssignmentOut]:
    """The assignments the caller sees, each with its members' progress (within the caller's school scope)."""
    return [_assignment_out(v) for v in assignments.list_views(session, user)]


@api.post("/organisation/assignments", response_model=AssignmentOut, status_code=201)
def api_create_assignment(body: AssignmentIn, session: SessionDep, user: AdminUser) -> AssignmentOut:
    """Assigns a published course (必修) to a group with a deadline; its teachers are enrolled at once, and those
    who join the group later when they do."""
    created = assignments.create(
        session, user, course_id=body.course_id, kind=body.group, value=body.value, due=body.due, note=body.note,
        teacher_ids=list(body.teacher_ids),
    )  # fmt: skip
    return _assignment_out(assignments.progress(session, user, created.id))


@api.get("/organisation/assignments/{assignment_id}", response_model=AssignmentOut)
def api_assignment(assignment_id: int, session: SessionDep, user: AdminUser) -> AssignmentOut:
    return _assignment_out(assignments.progress(session, user, assignment_id))
