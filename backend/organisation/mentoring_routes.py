"""Mentoring pages and API: admins make pairs and see which trainees have no mentor; mentors keep the meeting log
and sign off; mentees see their pair. Thin routes over `backend.organisation.mentoring`."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from backend.accounts.deps import AdminUser, CurrentUser
from backend.accounts.models import User
from backend.db import SessionDep
from backend.kit.errors import InvalidInput
from backend.kit.forms import FormDep
from backend.kit.i18n import translate
from backend.kit.numbers import Int
from backend.kit.web import redirect, render
from backend.organisation import classes, mentoring, scope
from backend.organisation.routes import _number, _values
from backend.policies.service import load_policy

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["organisation"])


def _list_page(request: Request, session: Session, user: User, status: int = 200, **extra: Any) -> Response:
    admin = user.role in scope.ADMIN_ROLES
    teachers: list[User] = []
    if admin:
        for school in scope.schools_in_scope(session, user):
            teachers += classes.teachers_of(session, school.id)
    context: dict[str, Any] = {
        "rows": mentoring.list_pairs(session, user),
        "admin": admin,
        "teachers": teachers,
        "without": mentoring.trainees_without_mentor(session, user, scope.today()) if admin else [],
        "today": scope.today(),
        "errors": {},
        "values": {},
        "saved": request.query_params.get("saved"),
    }
    return render(request, "organisation/mentoring.html", context | extra, status=status)


@pages.get("/organisation/mentoring")
def mentoring_page(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return _list_page(request, session, user)


def _field_errors(request: Request, exc: InvalidInput) -> dict[str, Any]:
    locale = request.state.locale
    return {
        "errors": {k: translate(locale, v) for k, v in exc.fields.items()},
        "form_error": translate(locale, exc.message, **exc.params),
    }


@pages.post("/organisation/mentoring")
def create_pair(request: Request, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    values = _values(form)
    try:
        pair = mentoring.create_pair(
            session, user, _number(values.get("mentor")) or 0, _number(values.get("mentee")) or 0,
            values.get("start"), values.get("end"), values.get("goals", ""),
        )  # fmt: skip
    except InvalidInput as exc:
        session.rollback()
        return _list_page(request, session, user, 422, values=values, **_field_errors(request, exc))
    return redirect(request, f"/organisation/mentoring/{pair.id}?saved=created")


def _detail_page(
    request: Request, session: Session, user: User, pair_id: int, status: int = 200, **extra: Any
) -> Response:
    context: dict[str, Any] = {
        "detail": mentoring.view(session, user, pair_id),
        "policy": load_policy(session),
        "errors": {},
        "values": {},
        "saved": request.query_params.get("saved"),
        "today": scope.today(),
    }
    context["hours_now"] = mentoring.hours_for(context["detail"].minutes, context["policy"])
    return render(request, "organisation/mentoring_pair.html", context | extra, status=status)


@pages.get("/organisation/mentoring/{pair_id}")
def pair_page(request: Request, pair_id: int, session: SessionDep, user: CurrentUser) -> Response:
    return _detail_page(request, session, user, pair_id)


@pages.post("/organisation/mentoring/{pair_id}/meetings")
def log_meeting(request: Request, pair_id: int, form: FormDep, session: SessionDep, user: CurrentUser) -> Response:
    values = _values(form)
    try:
        mentoring.log_meeting(session, user, pair_id, values.get("day"), values.get("minutes"), values.get("notes", ""))
    except InvalidInput as exc:
        session.rollback()
        return _detail_page(request, session, user, pair_id, 422, values=values, **_field_errors(request, exc))
    return redirect(request, f"/organisation/mentoring/{pair_id}?saved=meeting#log")


@pages.post("/organisation/mentoring/{pair_id}/sign-off")
def sign_off(request: Request, pair_id: int, form: FormDep, session: SessionDep, user: CurrentUser) -> Response:
    values = _values(form)
    try:
        mentoring.sign_off(session, user, pair_id, values.get("note", ""), load_policy(session))
    except InvalidInput as exc:
        session.rollback()
        return _detail_page(request, session, user, pair_id, 422, values=values, **_field_errors(request, exc))
    return redirect(request, f"/organisation/mentoring/{pair_id}?saved=signed")


# ---------------------------------------------------------------------------------------------------------------
# JSON API


class PairIn(BaseModel):
    mentor_id: Int = Field(ge=1)
    mentee_id: Int = Field(ge=1)
    start: date
    end: date
    goals: str = Field(default="", max_length=4000)


class MeetingIn(BaseModel):
    day: date
    minutes: Int = Field(ge=0, le=100_000)
    notes: str = Field(default="", max_length=4000)


class SignOffIn(BaseModel):
    note: str = Field(default="", max_length=2000)


class MeetingOut(BaseModel):
    day: date
    minutes: int
    notes: str


class PairOut(BaseModel):
    id: int
    mentor_id: int
    mentor_name: str
    mentee_id: int
    mentee_name: str
    start: date
    end: date
    goals: str
    signed_off: bool
    minutes: int
    meetings: list[MeetingOut]


def _pair_out(detail: mentoring.PairView) -> PairOut:
    p = detail.pair
    return PairOut(
        id=p.id, mentor_id=p.mentor_id, mentor_name=detail.mentor_name, mentee_id=p.mentee_id,
        mentee_name=detail.mentee_name, start=p.start, end=p.end, goals=p.goals,
        signed_off=p.signed_off_at is not None, minutes=detail.minutes,
        meetings=[MeetingOut(day=m.day, minutes=m.minutes, notes=m.notes) for m in detail.meetings],
    )  # fmt: skip


class TraineeOut(BaseModel):
    id: int
    name: str
    school_id: int | None


class MentoringOut(BaseModel):
    pairs: list[PairOut]
    trainees_without_mentor: list[TraineeOut] = Field(description="Admins only: trainees with no pair covering today")


@api.get("/organisation/mentoring", response_model=MentoringOut)
def api_pairs(session: SessionDep, user: CurrentUser) -> MentoringOut:
    """Mentoring pairs open to the caller (admins: their scope; teachers: their own), and for admins the trainee
    homeroom teachers who have no mentor today."""
    pairs = [_pair_out(mentoring.view(session, user, row.pair.id)) for row in mentoring.list_pairs(session, user)]
    without = mentoring.trainees_without_mentor(session, user, scope.today()) if user.role in scope.ADMIN_ROLES else []
    return MentoringOut(
        pairs=pairs,
        trainees_without_mentor=[TraineeOut(id=t.id, name=t.display_name, school_id=t.school_id) for t in without],
    )


@api.post("/organisation/mentoring", response_model=PairOut, status_code=201)
def api_create_pair(body: PairIn, session: SessionDep, user: AdminUser) -> PairOut:
    pair = mentoring.create_pair(session, user, body.mentor_id, body.mentee_id, body.start, body.end, body.goals)
    return _pair_out(mentoring.view(session, user, pair.id))


@api.get("/organisation/mentoring/{pair_id}", response_model=PairOut)
def api_pair(pair_id: int, session: SessionDep, user: CurrentUser) -> PairOut:
    return _pair_out(mentoring.view(session, user, pair_id))


@api.post("/organisation/mentoring/{pair_id}/meetings", response_model=PairOut, status_code=201)
def api_log_meeting(pair_id: int, body: MeetingIn, session: SessionDep, user: CurrentUser) -> PairOut:
    mentoring.log_meeting(session, user, pair_id, body.day, body.minutes, body.notes)
    return _pair_out(mentoring.view(session, user, pair_id))


@api.post("/organisation/mentoring/{pair_id}/sign-off", response_model=PairOut)
def api_sign_off(pair_id: int, body: SignOffIn, session: SessionDep, user: CurrentUser) -> PairOut:
    """The mentor's sign-off: writes both people's pending hours (the log's minutes, capped by policy)."""
    mentoring.sign_off(session, user, pair_id, body.note, load_policy(session))
    return _pair_out(mentoring.view(session, user, pair_id))
