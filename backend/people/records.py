"""Teacher records (班主任信息库): profile, homeroom service periods and annual evaluations, and who may see them.

Scope is decided in `scope()` and nowhere else: a district admin sees every school's teachers, a school admin only
the teachers whose account belongs to their school (a teacher who moved brings the periods served elsewhere along;
the former school no longer sees them), anyone else is refused. A teacher outside the scope is reported as not
found, so a school admin cannot learn that another school's teacher exists.

Every change is recorded in the audit log with the values before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.accounts.scope import school_scope as scope  # the one school scope (callers import it from here too)
from backend.audit import service as audit
from backend.kit import clock
from backend.kit.errors import InvalidInput, NotFound
from backend.kit.i18n import _
from backend.kit.pagination import Page, paginate
from backend.people.models import AnnualEvaluation, DeclinedAppointment, School, ServicePeriod, TeacherProfile
from backend.policies.taxonomy import TIER_CODES

STATUSES = ("reserve", "trainee", "appointed")
PERIOD_KINDS = ("homeroom", "deputy", "trainee", "rotating")
RESULTS = ("excellent", "qualified", "basic", "unqualified")
FIRST_YEAR = 1950
# Labels (gettext msgids) for the codes above, as users read them (DOMAIN.md, People and roles; Records).
STATUS_LABELS = {"reserve": _("Reserve pool"), "trainee": _("Trainee homeroom teacher"), "appointed": _("Appointed")}
KIND_LABELS = {
    "homeroom": _("Homeroom teacher"),
    "deputy": _("Deputy homeroom teacher"),
    "trainee": _("Trainee homeroom teacher"),
    "rotating": _("Rotating homeroom teacher"),
}
RESULT_LABELS = {
    "excellent": _("Excellent"),
    "qualified": _("Qualified"),
    "basic": _("Basically qualified"),
    "unqualified": _("Unqualified"),
}
# The names a page of teacher records shows codes by (the record page, the title review detail).
LABELS = {"status_labels": STATUS_LABELS, "kind_labels": KIND_LABELS, "result_labels": RESULT_LABELS}


def teacher_filter(actor: User, *, query: str | None = None, school_id: int | None = None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [scope(actor), User.role == Role.teacher]
    if query and query.strip():
        text = query.strip()
        conditions.append(
            or_(
                User.display_name.icontains(text, autoescape=True),
                TeacherProfile.staff_no.icontains(text, autoescape=True),
            )
        )
    if school_id is not None and actor.role == Role.district_admin:
        conditions.append(User.school_id == school_id)
    return conditions


def schools_to_filter(session: Session, actor: User) -> list[School]:
    """The schools a district admin can filter by (a school admin has only their own, so no filter)."""
    if actor.role != Role.district_admin:
        return []
    return list(session.scalars(select(School).order_by(School.code)))


def all_schools(session: Session) -> list[School]:
    """Schools a service period may be recorded at (a teacher may have served at any school of the district)."""
    return list(session.scalars(select(School).order_by(School.code)))


# Sections other packages add to the teacher record page (the organisation's tier history, …): people sits below
# them, so it does not import them; each registers a function (session, actor, teacher id) → (template, context).
RecordSection = Callable[[Session, User, int], tuple[str, dict[str, Any]]]
record_sections: list[RecordSection] = []


def extra_sections(session: Session, actor: User, user_id: int) -> list[tuple[str, dict[str, Any]]]:
    return [section(session, actor, user_id) for section in record_sections]


@dataclass(frozen=True)
class TeacherRow:
    user_id: int
    name: str
    staff_no: str | None
    school_name: str | None
    status: str | None
    tier: str | None
    teaching_start: date | None


def list_teachers(
    session: Session, actor: User, *, query: str | None = None, school_id: int | None = None, page: int = 1
) -> Page[TeacherRow]:
    conditions = teacher_filter(actor, query=query, school_id=school_id)
    rows = (
        select(
            User.id,
            User.display_name,
            TeacherProfile.staff_no,
            School.name,
            TeacherProfile.status,
            TeacherProfile.tier,
            TeacherProfile.teaching_start,
        )
        .outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
        .outerjoin(School, School.id == User.school_id)
        .where(*conditions)
        .order_by(School.code, TeacherProfile.staff_no, User.id)
    )
    return paginate(session, rows, page).map(lambda row: TeacherRow(*row))


@dataclass
class TeacherRecord:
    user: User
    school: School | None
    profile: TeacherProfile
    periods: list[ServicePeriod]
    evaluations: list[AnnualEvaluation]
    school_names: dict[int, str]


def get_teacher(session: Session, actor: User, user_id: int) -> User:
    """The teacher if the actor may see them; NotFound otherwise (also for another school's teacher)."""
    user = session.scalar(select(User).where(User.id == user_id, *teacher_filter(actor)))
    if user is None:
        raise NotFound(_("This teacher does not exist or is not in your school."))
    return user


def _profile(session: Session, user: User) -> TeacherProfile:
    profile = session.get(TeacherProfile, user.id)
    if profile is None:
        profile = TeacherProfile(user_id=user.id, status="reserve")
        session.add(profile)
        session.flush()
    return profile


def record_of(session: Session, actor: User, user_id: int) -> TeacherRecord:
    user = get_teacher(session, actor, user_id)
    profile = session.get(TeacherProfile, user.id) or TeacherProfile(user_id=user.id, status="reserve")
    periods = list(
        session.scalars(
            select(ServicePeriod)
            .where(ServicePeriod.user_id == user.id)
            .order_by(ServicePeriod.start, ServicePeriod.id)
        )
    )
    evaluations = list(
        session.scalars(
            select(AnnualEvaluation).where(AnnualEvaluation.user_id == user.id).order_by(AnnualEvaluation.year.desc())
        )
    )
    names = dict(session.execute(select(School.id, School.name)).all())
    school = session.get(School, user.school_id) if user.school_id else None
    return TeacherRecord(user, school, profile, periods, evaluations, names)


# ---------------------------------------------------------------------------------------------------------------
# Parsing form input (also used by the roster import)


def parse_date(raw: object) -> date | None:
    """A date typed the ways Chinese admins type them: 2026-09-01, 2026/9/1, 2026.9.1, 2026年9月1日, 20260901."""
    if raw is None:
        return None
    if hasattr(raw, "date") and callable(raw.date):  # datetime from an Excel cell
        return raw.date()  # type: ignore[no-any-return]
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    if not text:
        return None
    text = text.replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-").replace(".", "-")
    if text.isdigit() and len(text) == 8:
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    parts = text.split(" ")[0].split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    return date(int(parts[0]), int(parts[1]), int(parts[2]))


def _date_field(raw: object, name: str, errors: dict[str, str], *, required: bool = False) -> date | None:
    try:
        value = parse_date(raw)
    except ValueError:
        errors[name] = _("Enter a date like 2026-09-01.")
        return None
    if value is None and required:
        errors[name] = _("This field is required.")
    elif value is not None and value.year < FIRST_YEAR:
        errors[name] = _("Enter a date like 2026-09-01.")
    elif value is not None and value.year > clock.now().year + 1:
        errors[name] = _("This date is too far in the future.")
    return value


def _audit(
    session: Session,
    action: str,
    actor: User,
    teacher: User,
    subject_type: str,
    subject_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Every change to a teacher's record, with the values before and after, in the teacher's school's log. A
    period or evaluation names its teacher in `on_behalf_of_id`, so a teacher's whole history is one query."""
    audit.record(
        session, action, actor_id=actor.id, subject_type=subject_type, subject_id=subject_id,
        school_id=teacher.school_id, on_behalf_of_id=teacher.id if subject_type != "teacher" else None,
        before=before, after=after,
    )  # fmt: skip


def _snapshot(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {n: (v.isoformat() if isinstance(v, date) else v) for n in names if (v := getattr(obj, n)) is not None}


PROFILE_FIELDS = ("staff_no", "teaching_start", "tier", "status")
PERIOD_FIELDS = ("kind", "school_id", "start", "end")


# ---------------------------------------------------------------------------------------------------------------
# Changes


def update_profile(session: Session, actor: User, user_id: int, values: dict[str, str]) -> TeacherProfile:
    user = get_teacher(session, actor, user_id)
    errors: dict[str, str] = {}
    staff_no = (values.get("staff_no") or "").strip() or None
    if staff_no and len(staff_no) > 32:
        errors["staff_no"] = _("The staff number has at most 32 characters.")
    elif staff_no:
        other = session.scalar(
            select(TeacherProfile.user_id).where(TeacherProfile.staff_no == staff_no, TeacherProfile.user_id != user.id)
        )
        if other is not None:
            errors["staff_no"] = _("Another teacher already has this staff number.")
    start = _date_field(values.get("teaching_start"), "teaching_start", errors)
    status = values.get("status") or "reserve"
    if status not in STATUSES:
        errors["status"] = _("Choose a status from the list.")
    tier = values.get("tier") or None
    if tier is not None and tier not in TIER_CODES:
        errors["tier"] = _("Choose a tier from the list.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    profile = _profile(session, user)
    before = _snapshot(profile, PROFILE_FIELDS)
    profile.staff_no, profile.teaching_start, profile.status, profile.tier = staff_no, start, status, tier
    session.flush()
    _audit(
        session,
        "people.profile_update",
        actor,
        user,
        "teacher",
        user.id,
        before=before,
        after=_snapshot(profile, PROFILE_FIELDS),
    )
    return profile


def _period_values(session: Session, values: dict[str, str]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    kind = values.get("kind") or ""
    if kind not in PERIOD_KINDS:
        errors["kind"] = _("Choose a kind of service from the list.")
    school_raw = (values.get("school_id") or "").strip()
    school_id: int | None = None
    if school_raw:
        if not school_raw.isdigit() or session.get(School, int(school_raw)) is None:
            errors["school_id"] = _("Choose a school from the list.")
        else:
            school_id = int(school_raw)
    start = _date_field(values.get("start"), "start", errors, required=True)
    end = _date_field(values.get("end"), "end", errors)
    if start and end and end < start:
        errors["end"] = _("The end date cannot be before the start date.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    return {"kind": kind, "school_id": school_id, "start": start, "end": end}


def save_period(
    session: Session, actor: User, user_id: int, values: dict[str, str], period_id: int | None = None
) -> ServicePeriod:
    """Adds a service period, or changes one of this teacher's periods."""
    user = get_teacher(session, actor, user_id)
    fields = _period_values(session, values)
    if period_id is None:
        period = ServicePeriod(user_id=user.id, **fields)
        session.add(period)
        before = None
    else:
        period = _period_of(session, user, period_id)
        before = _snapshot(period, PERIOD_FIELDS)
        for key, value in fields.items():
            setattr(period, key, value)
    session.flush()
    _audit(
        session,
        "people.period_add" if before is None else "people.period_update",
        actor,
        user,
        "service_period",
        period.id,
        before=before,
        after=_snapshot(period, PERIOD_FIELDS),
    )
    return period


def _period_of(session: Session, user: User, period_id: int) -> ServicePeriod:
    period = session.scalar(
        select(ServicePeriod).where(ServicePeriod.id == period_id, ServicePeriod.user_id == user.id)
    )
    if period is None:
        raise NotFound(_("This service period does not exist."))
    return period


def delete_period(session: Session, actor: User, user_id: int, period_id: int) -> None:
    user = get_teacher(session, actor, user_id)
    period = _period_of(session, user, period_id)
    before = _snapshot(period, PERIOD_FIELDS)
    session.delete(period)
    session.flush()
    _audit(session, "people.period_delete", actor, user, "service_period", period_id, before=before)


def save_evaluation(session: Session, actor: User, user_id: int, values: dict[str, str]) -> AnnualEvaluation:
    """Records the result of a year; a second result for the same year replaces the first (one per year)."""
    user = get_teacher(session, actor, user_id)
    errors: dict[str, str] = {}
    raw_year = (values.get("year") or "").strip()
    this_year = clock.now().year
    if not raw_year.isdigit() or not FIRST_YEAR <= int(raw_year) <= this_year:
        errors["year"] = _("Enter a year between 1950 and this year.")
    result = values.get("result") or ""
    if result not in RESULTS:
        errors["result"] = _("Choose a result from the list.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    year = int(raw_year)
    if result == "excellent" and _declined_in(session, user, year):
        # The plan's 二(一)1: a teacher who declined appointment without good reason is not rated excellent that
        # year (暂缓当年度评优评先; `backend.people.declined`).
        raise InvalidInput(
            _("Please correct the marked fields."),
            fields={"result": _("A declined appointment is recorded for this year: no excellent rating that year.")},
        )
    evaluation = _evaluation_of(session, user, year)
    before = {"year": year, "result": evaluation.result} if evaluation else None
    if evaluation is None:
        evaluation = AnnualEvaluation(user_id=user.id, year=year, result=result)
        session.add(evaluation)
    else:
        evaluation.result = result
    session.flush()
    _audit(
        session,
        "people.evaluation_save",
        actor,
        user,
        "annual_evaluation",
        evaluation.id,
        before=before,
        after={"year": year, "result": result},
    )
    return evaluation


def _declined_in(session: Session, user: User, year: int) -> bool:
    return (
        session.scalar(
            select(DeclinedAppointment.id).where(
                DeclinedAppointment.user_id == user.id,
                DeclinedAppointment.year == year,
                DeclinedAppointment.withdrawn_at.is_(None),
            )
        )
        is not None
    )


def _evaluation_of(session: Session, user: User, year: int) -> AnnualEvaluation | None:
    return session.scalar(
        select(AnnualEvaluation).where(AnnualEvaluation.user_id == user.id, AnnualEvaluation.year == year)
    )


def delete_evaluation(session: Session, actor: User, user_id: int, year: int) -> None:
    user = get_teacher(session, actor, user_id)
    evaluation = _evaluation_of(session, user, year)
    if evaluation is None:
        raise NotFound(_("No evaluation is recorded for this year."))
    session.delete(evaluation)
    session.flush()
    _audit(
        session,
        "people.evaluation_delete",
        actor,
        user,
        "annual_evaluation",
        evaluation.id,
        before={"year": year, "result": evaluation.result},
    )
