"""Workshop pages and API, and the district's view of the organisation rules (classes' 班主任, the workshop rule).

Thin routes over `backend.organisation.workshops`, which decides who may see and change which workshop.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from backend.accounts.deps import AdminUser, RunnerUser
from backend.accounts.models import Role, User
from backend.db import SessionDep
from backend.kit.errors import InvalidInput
from backend.kit.forms import FormDep
from backend.kit.i18n import translate
from backend.kit.numbers import Int
from backend.kit.web import redirect, render
from backend.organisation import classes, scope, workshops
from backend.organisation.routes import EndIn, YearQuery, _number, _values, _years
from backend.people import records
from backend.policies.service import load_policy

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["organisation"])
LABELS = {
    "level_labels": workshops.LEVEL_LABELS,
    "stage_labels": workshops.STAGE_LABELS,
    "member_role_labels": workshops.MEMBER_ROLE_LABELS,
    "activity_labels": workshops.ACTIVITY_LABELS,
}


def _parse_day(raw: str | None) -> date | None:
    try:
        return records.parse_date(raw) if raw else None
    except ValueError:
        return None


def _list_page(request: Request, session: Session, user: User, status: int = 200, **extra: Any) -> Response:
    context: dict[str, Any] = LABELS | {
        "rows": workshops.list_workshops(session, user),
        "may_create": user.role in scope.ADMIN_ROLES,
        "levels": workshops.LEVELS if user.role == Role.district_admin else ("school", "joint"),
        "stages": workshops.STAGES,
        "schools": records.all_schools(session),
        "hosts": _hosts(session),
        "errors": {},
        "values": {},
    }
    return render(request, "organisation/workshops.html", context | extra, status=status)


def _hosts(session: Session) -> list[User]:
    """Who may host a workshop: trainers (培训者 / 工作室主持人) and teachers."""
    from sqlalchemy import select

    return list(
        session.scalars(
            select(User)
            .where(User.role.in_((Role.trainer, Role.teacher)), User.is_active.is_(True))
            .order_by(User.role.desc(), User.display_name)
            .limit(500)
        )
    )


@pages.get("/organisation/workshops")
def workshops_page(request: Request, session: SessionDep, user: RunnerUser) -> Response:
    return _list_page(request, session, user, saved=request.query_params.get("saved"))


@pages.post("/organisation/workshops")
def create_workshop(request: Request, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    values = _values(form)
    try:
        workshop = workshops.create_workshop(
            session, user, name=values.get("name", ""), level=values.get("level", ""), stage=values.get("stage", ""),
            school_id=_number(values.get("school")), host_id=_number(values.get("host")),
            member_school_ids=[int(v) for v in form.getlist("schools") if isinstance(v, str) and v.isdigit()],
        )  # fmt: skip
    except InvalidInput as exc:
        session.rollback()
        locale = request.state.locale
        return _list_page(
            request, session, user, 422, values=values, errors={k: translate(locale, v) for k, v in exc.fields.items()},
            form_error=translate(locale, exc.message, **exc.params),
        )  # fmt: skip
    return redirect(request, f"/organisation/workshops/{workshop.id}?saved=created")


def _detail_page(
    request: Request, session: Session, user: User, workshop_id: int, status: int = 200, **extra: Any
) -> Response:
    policy = load_policy(session)
    detail = workshops.view(session, user, workshop_id, _parse_day(request.query_params.get("as_of")))
    allowed = workshops.schools_of(session, detail.workshop)
    candidates = [t for t in _hosts(session) if t.role == Role.teacher and (allowed is None or t.school_id in allowed)]
    context: dict[str, Any] = LABELS | {
        "detail": detail,
        "teachers": candidates,
        "member_roles": workshops.MEMBER_ROLES,
        "kinds": workshops.ACTIVITY_KINDS,
        "saved": request.query_params.get("saved"),
        "errors": {},
        "values": {},
        "form": None,
        "session_defaults": {"day": scope.today().isoformat(), "start_time": "14:00", "end_time": "16:30",
                             "duration": "half", "category": "practice"},
        "policy": policy,
    }  # fmt: skip
    return render(request, "organisation/workshop.html", context | extra, status=status)


@pages.get("/organisation/workshops/{workshop_id}")
def workshop_page(request: Request, workshop_id: int, session: SessionDep, user: RunnerUser) -> Response:
    return _detail_page(request, session, user, workshop_id)


def _detail_change(
    request: Request, session: Session, user: User, workshop_id: int, form: FormDep, which: str, apply: Any
) -> Response | None:
    values = _values(form)
    try:
        apply(values)
    except InvalidInput as exc:
        session.rollback()
        locale = request.state.locale
        return _detail_page(
            request, session, user, workshop_id, 422, form=which, values=values,
            errors={k: translate(locale, v) for k, v in exc.fields.items()},
            form_error=translate(locale, exc.message, **exc.params),
        )  # fmt: skip
    return None


@pages.post("/organisation/workshops/{workshop_id}/members")
def add_member(request: Request, workshop_id: int, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    def apply(values: dict[str, str]) -> None:
        teacher = _number(values.get("teacher"))
        workshops.add_member(
            session, user, workshop_id, teacher or 0, values.get("role", "member"), values.get("start"),
            values.get("end"),
        )  # fmt: skip

    failed = _detail_change(request, session, user, workshop_id, form, "member", apply)
    return failed or redirect(request, f"/organisation/workshops/{workshop_id}?saved=member#members")


@pages.post("/organisation/workshop-members/{member_id}/end")
def end_member(request: Request, member_id: int, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    member = workshops.end_member(session, user, member_id, _values(form).get("end"))
    return redirect(request, f"/organisation/workshops/{member.workshop_id}?saved=member_end#members")


@pages.post("/organisation/workshops/{workshop_id}/activities")
def add_activity(request: Request, workshop_id: int, form: FormDep, session: SessionDep, user: RunnerUser) -> Response:
    created: list[int] = []

    def apply(values: dict[str, str]) -> None:
        with session.begin_nested():
            created.append(workshops.add_activity(session, user, workshop_id, values, load_policy(session)).session_id)

    failed = _detail_change(request, session, user, workshop_id, form, "activity", apply)
    return failed or redirect(request, f"/training/sessions/{created[0]}?notice=scheduled")


@pages.get("/organisation/compliance")
def compliance_page(
    request: Request, session: SessionDep, user: AdminUser, year: str | None = None, as_of: str | None = None
) -> Response:
    policy = load_policy(session)
    school_year = scope.parse_year(year, policy)
    day = _parse_day(as_of)
    rules = workshops.workshop_rule(session, user, school_year, policy, day)
    class_checks = {r.school.id: classes.class_compliance(session, r.school.id, school_year, r.day) for r in rules}
    return render(
        request,
        "organisation/compliance.html",
        LABELS | {
            "rules": rules, "class_checks": class_checks, "year": school_year, "policy": policy,
            "years": _years(session, scope.school_year_of(scope.today(), policy)),
            "day": scope.counting_day(school_year, policy, day),
            "query": urlencode({"year": school_year}),
        },
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# JSON API


class WorkshopIn(BaseModel):
    name: str = Field(max_length=200)
    level: str = Field(max_length=32, description="city (市) | district (区) | school (校) | joint (联合)")
    stage: str = Field(max_length=32)
    school_id: Int | None = Field(default=None, ge=1)
    host_id: Int | None = Field(default=None, ge=1)
    member_school_ids: list[Int] = Field(default_factory=list, max_length=100)


class MemberIn(BaseModel):
    teacher_id: Int = Field(ge=1)
    role: str = Field(default="member", max_length=32, description="host | deputy | member")
    start: date | None = None
    end: date | None = None


class MemberOut(BaseModel):
    id: int
    teacher_id: int
    name: str
    role: str
    start: date
    end: date | None


class ActivityIn(BaseModel):
    title: str = Field(max_length=400)
    kind: str = Field(default="session", max_length=32, description="session | exchange (互学互访)")
    partner: str = Field(default="", max_length=400)
    day: date
    start_time: str = Field(max_length=8, examples=["14:00"])
    end_time: str = Field(max_length=8, examples=["16:30"])
    place: str = Field(default="", max_length=400)
    category: str = Field(default="practice", max_length=32)
    duration: str = Field(default="half", max_length=8, description="full | half | other")
    hours: str = Field(default="", max_length=8)
    theme: str = Field(default="", max_length=400)
    tier: str = Field(default="", max_length=32)


class ActivityOut(BaseModel):
    id: int
    session_id: int
    kind: str
    partner: str
    title: str
    day: date
    hours: str
    attendees: int


class WorkshopOut(BaseModel):
    id: int
    name: str
    level: str
    stage: str
    school_id: int | None
    host_id: int | None
    member_school_ids: list[int]
    members_today: int
    members: list[MemberOut]
    activities: list[ActivityOut]


class WorkshopRuleOut(BaseModel):
    school: str
    school_name: str
    year: int
    counted_on: date
    classes: int
    required: bool
    status: str = Field(description="met | not_met | not_required")
    workshop: str | None
    workshop_level: str | None
    members: int
    min_classes: int
    min_members: int
    classes_without_homeroom_teacher: list[str]


def _workshop_out(detail: workshops.WorkshopView) -> WorkshopOut:
    w = detail.workshop
    return WorkshopOut(
        id=w.id, name=w.name, level=w.level, stage=w.stage, school_id=w.school_id, host_id=w.host_id,
        member_school_ids=[s.id for s in detail.member_schools],
        members_today=len({m.member.user_id for m in detail.active_members()}),
        members=[MemberOut(id=m.member.id, teacher_id=m.member.user_id, name=m.name, role=m.member.role,
                           start=m.member.start, end=m.member.end) for m in detail.members],
        activities=[ActivityOut(id=a.activity.id, session_id=a.session.id, kind=a.activity.kind,
                                partner=a.activity.partner, title=a.session.title, day=a.session.day,
                                hours=str(a.session.hours), attendees=a.attendees) for a in detail.activities],
    )  # fmt: skip


@api.get("/organisation/workshops", response_model=list[WorkshopOut])
def api_workshops(session: SessionDep, user: RunnerUser) -> list[WorkshopOut]:
    """The workshops open to the caller (district: all; school admin: their school's and the city, district and
    joint ones it takes part in; trainer: those they host), with members and activities."""
    return [_workshop_out(workshops.view(session, user, w.id)) for w, _n, _c in workshops.list_workshops(session, user)]


@api.post("/organisation/workshops", response_model=WorkshopOut, status_code=201)
def api_create_workshop(body: WorkshopIn, session: SessionDep, user: AdminUser) -> WorkshopOut:
    workshop = workshops.create_workshop(
        session, user, name=body.name, level=body.level, stage=body.stage, school_id=body.school_id,
        host_id=body.host_id, member_school_ids=body.member_school_ids,
    )  # fmt: skip
    return _workshop_out(workshops.view(session, user, workshop.id))


@api.get("/organisation/workshops/{workshop_id}", response_model=WorkshopOut)
def api_workshop(workshop_id: int, session: SessionDep, user: RunnerUser) -> WorkshopOut:
    return _workshop_out(workshops.view(session, user, workshop_id))


@api.post("/organisation/workshops/{workshop_id}/members", response_model=MemberOut, status_code=201)
def api_add_member(workshop_id: int, body: MemberIn, session: SessionDep, user: AdminUser) -> MemberOut:
    """Adds a member's term (dated; open-ended without `end`)."""
    m = workshops.add_member(session, user, workshop_id, body.teacher_id, body.role, body.start, body.end)
    teacher = session.get(User, m.user_id)
    name = teacher.display_name if teacher else ""
    return MemberOut(id=m.id, teacher_id=m.user_id, name=name, role=m.role, start=m.start, end=m.end)


@api.post("/organisation/workshop-members/{member_id}/end", response_model=MemberOut)
def api_end_member(member_id: int, body: EndIn, session: SessionDep, user: AdminUser) -> MemberOut:
    """Ends a member's term on a day (inclusive)."""
    m = workshops.end_member(session, user, member_id, body.end)
    teacher = session.get(User, m.user_id)
    name = teacher.display_name if teacher else ""
    return MemberOut(id=m.id, teacher_id=m.user_id, name=name, role=m.role, start=m.start, end=m.end)


@api.post("/organisation/workshops/{workshop_id}/activities", response_model=ActivityOut, status_code=201)
def api_add_activity(workshop_id: int, body: ActivityIn, session: SessionDep, user: RunnerUser) -> ActivityOut:
    """Schedules an activity as an offline session (level 工作室; QR check-in; attendance feeds the ledger)."""
    values = body.model_dump() | {"day": body.day.isoformat()}
    activity = workshops.add_activity(session, user, workshop_id, values, load_policy(session))
    detail = workshops.view(session, user, workshop_id)
    row = next(a for a in detail.activities if a.activity.id == activity.id)
    return ActivityOut(
        id=activity.id, session_id=row.session.id, kind=activity.kind, partner=activity.partner,
        title=row.session.title, day=row.session.day, hours=str(row.session.hours), attendees=row.attendees,
    )  # fmt: skip


@api.get("/organisation/compliance", response_model=list[WorkshopRuleOut])
def api_compliance(
    session: SessionDep,
    user: AdminUser,
    year: YearQuery = None,
    as_of: Annotated[date | None, Query(description="Count members on this day (kept inside the school year)")] = None,
) -> list[WorkshopRuleOut]:
    """Per school in scope and school year: the workshop rule (≥ 15 classes → a school workshop of ≥ 8 members,
    policy numbers) with its figures, and the classes without a 班主任 on the same day."""
    policy = load_policy(session)
    school_year = scope.parse_year(year, policy)
    out = []
    for r in workshops.workshop_rule(session, user, school_year, policy, as_of):
        check = classes.class_compliance(session, r.school.id, school_year, r.day)
        out.append(
            WorkshopRuleOut(
                school=r.school.code,
                school_name=r.school.name,
                year=r.year,
                counted_on=r.day,
                classes=r.classes,
                required=r.required,
                status=r.status,
                workshop=r.workshop,
                workshop_level=r.workshop_level,
                members=r.members,
                min_classes=r.min_classes,
                min_members=r.min_members,
                classes_without_homeroom_teacher=list(check.without),
            )  # fmt: skip
        )
    return out
