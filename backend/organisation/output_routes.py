"""Workshop outputs (成果): the member's page (我的成果: submit, see the host's decision and reason), the workshop's
outputs page (the host reviews and promotes; admins look), the file, and the JSON API.

Thin routes over `backend.organisation.outputs`, which decides who may do what.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.deps import CurrentUser
from backend.accounts.models import Role, User
from backend.db import SessionDep
from backend.kit.errors import InvalidInput
from backend.kit.forms import FormDep
from backend.kit.i18n import _, translate
from backend.kit.numbers import Int
from backend.kit.web import redirect, render
from backend.media import uploads
from backend.media.serving import serve_object
from backend.organisation import outputs
from backend.organisation.models import Workshop
from backend.organisation.routes import _number, _values
from backend.policies.service import load_policy

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["organisation"])
LABELS = {"output_kinds": outputs.KINDS, "kind_labels": outputs.KIND_LABELS, "status_labels": outputs.STATUS_LABELS}


def _errors(request: Request, exc: InvalidInput) -> dict[str, Any]:
    locale = request.state.locale
    return {
        "errors": {k: translate(locale, v) for k, v in exc.fields.items()},
        "form_error": translate(locale, exc.message, **exc.params),
    }


def _mine_page(request: Request, session: Session, user: User, status: int = 200, **extra: Any) -> Response:
    policy = load_policy(session)
    context: dict[str, Any] = LABELS | {
        "rows": outputs.mine(session, user),
        "workshops": outputs.my_workshops(session, user),
        "member_of": {w.id for w in outputs.my_workshops(session, user) if outputs.is_member(session, user, w.id)},
        "max_bytes": policy.content.upload_max_bytes,
        "max_size": uploads.format_bytes(policy.content.upload_max_bytes),
        "saved": request.query_params.get("saved"),
        "errors": {},
        "values": {},
    }
    return render(request, "organisation/outputs.html", context | extra, status=status)


@pages.get("/organisation/outputs")
def outputs_page(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return _mine_page(request, session, user)


def _upload_field(values: dict[str, str]) -> str:
    return values.get("video_upload_id" if values.get("kind") == "video" else "document_upload_id", "")


@pages.post("/organisation/outputs")
def submit_output(request: Request, form: FormDep, session: SessionDep, user: CurrentUser) -> Response:
    values = _values(form)
    try:
        outputs.submit(
            session, user, _number(values.get("workshop")) or 0, title=values.get("title", ""),
            kind=values.get("kind", ""), summary=values.get("summary", ""), upload_id=_upload_field(values),
        )  # fmt: skip
    except InvalidInput as exc:
        session.rollback()  # nothing of the refused submission stays; the upload stays the member's, ready
        return _mine_page(request, session, user, 422, values=values, **_errors(request, exc))
    return redirect(request, "/organisation/outputs?saved=submitted")


def _workshop_page(
    request: Request, session: Session, user: User, workshop_id: int, status: int = 200, **extra: Any
) -> Response:
    rows = outputs.of_workshop(session, user, workshop_id)
    workshop = session.get(Workshop, workshop_id)
    assert workshop is not None
    trainers = list(
        session.scalars(
            select(User).where(User.role == Role.trainer, User.is_active.is_(True)).order_by(User.display_name)
        )
    )
    context: dict[str, Any] = LABELS | {
        "workshop": workshop,
        "rows": rows,
        "is_host": outputs.is_host(workshop, user),
        "host_is_trainer": user.role == Role.trainer,
        "trainers": trainers,
        "saved": request.query_params.get("saved"),
        "errors": {},
        "values": {},
        "form": None,
    }
    return render(request, "organisation/workshop_outputs.html", context | extra, status=status)


@pages.get("/organisation/workshops/{workshop_id}/outputs")
def workshop_outputs_page(request: Request, workshop_id: int, session: SessionDep, user: CurrentUser) -> Response:
    return _workshop_page(request, session, user, workshop_id)


def _review(
    request: Request, session: Session, user: User, output_id: int, which: str, apply: Any,
    values: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    row = outputs.get(session, user, output_id)
    workshop_id = row.output.workshop_id
    try:
        apply()
    except InvalidInput as exc:
        session.rollback()
        return _workshop_page(
            request, session, user, workshop_id, 422, form=f"{which}-{output_id}", values=values or {},
            **_errors(request, exc),
        )  # fmt: skip
    return redirect(request, f"/organisation/workshops/{workshop_id}/outputs?saved={which}#output-{output_id}")


@pages.post("/organisation/outputs/{output_id}/accept")
def accept_output(request: Request, output_id: int, session: SessionDep, user: CurrentUser) -> Response:
    return _review(request, session, user, output_id, "accepted", lambda: outputs.accept(session, user, output_id))


@pages.post("/organisation/outputs/{output_id}/return")
def return_output(request: Request, output_id: int, form: FormDep, session: SessionDep, user: CurrentUser) -> Response:
    values = _values(form)
    return _review(
        request, session, user, output_id, "returned",
        lambda: outputs.return_output(session, user, output_id, values.get("reason", "")), values,
    )  # fmt: skip


@pages.post("/organisation/outputs/{output_id}/promote")
def promote_output(request: Request, output_id: int, form: FormDep, session: SessionDep, user: CurrentUser) -> Response:
    values = _values(form)
    owner = _number(values.get("owner"))
    return _review(
        request, session, user, output_id, "promoted",
        lambda: outputs.promote(session, user, output_id, load_policy(session), owner), values,
    )  # fmt: skip


@pages.get("/organisation/outputs/{output_id}/file")
def output_file(request: Request, output_id: int, session: SessionDep, user: CurrentUser) -> Response:
    """The output's file, for its author, the workshop's members and host, and the admins who see the workshop."""
    row = outputs.get(session, user, output_id)
    o = row.output
    return serve_object(
        request, o.media_key, missing=_("This file is no longer stored."), media_type=o.media_type,
        filename=o.media_name or None,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# JSON API


class OutputIn(BaseModel):
    title: str = Field(max_length=400)
    kind: str = Field(
        max_length=32, description="case (案例) | meeting_design (主题班会设计) | video (视频) | paper (论文)"
    )
    summary: str = Field(default="", max_length=4000)
    upload_id: str = Field(
        max_length=64, description="A finished upload of the caller's (/api/v1/uploads): a video for kind video, "
        "else a PDF document",
    )  # fmt: skip


class ReturnIn(BaseModel):
    reason: str = Field(max_length=2000)


class PromoteIn(BaseModel):
    owner_id: Int | None = Field(
        default=None, ge=1, description="The trainer who owns the draft course (default: the host, if a trainer)"
    )


class OutputOut(BaseModel):
    id: int
    workshop_id: int
    workshop: str
    author_id: int
    author: str
    title: str
    kind: str
    summary: str
    file_name: str
    file_type: str
    file_size: int
    file_url: str
    status: str = Field(description="pending | accepted | returned")
    review_reason: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    course_id: int | None
    created_at: datetime


def _out(row: outputs.OutputRow) -> OutputOut:
    o = row.output
    return OutputOut(
        id=o.id, workshop_id=o.workshop_id, workshop=row.workshop_name, author_id=o.author_id, author=row.author_name,
        title=o.title, kind=o.kind, summary=o.summary, file_name=o.media_name, file_type=o.media_type,
        file_size=o.media_size, file_url=f"/organisation/outputs/{o.id}/file", status=o.status,
        review_reason=o.review_reason, reviewed_by=row.reviewer_name, reviewed_at=o.reviewed_at,
        course_id=o.course_id, created_at=o.created_at,
    )  # fmt: skip


@api.get("/organisation/outputs", response_model=list[OutputOut])
def api_my_outputs(session: SessionDep, user: CurrentUser) -> list[OutputOut]:
    """The caller's own outputs, newest first, with the host's decision (and reason when returned)."""
    return [_out(r) for r in outputs.mine(session, user)]


@api.get("/organisation/workshops/{workshop_id}/outputs", response_model=list[OutputOut])
def api_workshop_outputs(workshop_id: int, session: SessionDep, user: CurrentUser) -> list[OutputOut]:
    """A workshop's outputs (its members, its host, the admins who see it), pending first."""
    return [_out(r) for r in outputs.of_workshop(session, user, workshop_id)]


@api.post("/organisation/workshops/{workshop_id}/outputs", response_model=OutputOut, status_code=201)
def api_submit_output(workshop_id: int, body: OutputIn, session: SessionDep, user: CurrentUser) -> OutputOut:
    """A member submits an output with a finished upload of theirs (claimed: the file becomes the output's)."""
    made = outputs.submit(
        session, user, workshop_id, title=body.title, kind=body.kind, summary=body.summary, upload_id=body.upload_id
    )
    return _out(outputs.get(session, user, made.id))


@api.post("/organisation/outputs/{output_id}/accept", response_model=OutputOut)
def api_accept_output(output_id: int, session: SessionDep, user: CurrentUser) -> OutputOut:
    """The host accepts a pending output."""
    outputs.accept(session, user, output_id)
    return _out(outputs.get(session, user, output_id))


@api.post("/organisation/outputs/{output_id}/return", response_model=OutputOut)
def api_return_output(output_id: int, body: ReturnIn, session: SessionDep, user: CurrentUser) -> OutputOut:
    """The host returns a pending output with the reason its member reads."""
    outputs.return_output(session, user, output_id, body.reason)
    return _out(outputs.get(session, user, output_id))


@api.post("/organisation/outputs/{output_id}/promote", response_model=OutputOut)
def api_promote_output(output_id: int, body: PromoteIn, session: SessionDep, user: CurrentUser) -> OutputOut:
    """The host makes an accepted output a draft course in the studio (owner: the host if a trainer, else the
    trainer named); the file is the first lesson's (video lesson for a video, document lesson for a PDF)."""
    outputs.promote(session, user, output_id, load_policy(session), body.owner_id)
    return _out(outputs.get(session, user, output_id))
