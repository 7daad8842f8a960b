"""Offline study sessions: scheduling, who may run them, check-in and hand-marked attendance.

Who may do what is decided here and nowhere else (`_check_schedule_scope`, `_can_manage`):
- a school admin schedules school-based (校本研修) and school workshop sessions for their own school only;
- a trainer schedules workshop (工作室) sessions, with no school or their own;
- a district admin schedules any session for any school;
- a session is run (code shown, attendance marked) by its school's admins, its creator and district admins.

Attendance writes one row per teacher per session and one pending ledger entry through the credits service;
both are idempotent, so a second scan or a second hand-marking changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.audit import describe as audit_describe
from backend.audit import service as audit
from backend.credits import ledger as credits
from backend.credits import workflow as credit_workflow
from backend.kit import clock
from backend.kit.clock import SHANGHAI
from backend.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.kit.pagination import Page, paginate
from backend.people.models import School
from backend.policies.service import Policy
from backend.policies.taxonomy import CATEGORY_CODES, TIER_CODES, TOPIC_CODES
from backend.training.models import Attendance, TrainingSession

LEVELS = ("school", "workshop", "district")
LEVEL_LABELS = {"school": _("School-based"), "workshop": _("Workshop"), "district": _("District")}
MAX_HOURS = Decimal("12")
ADMIN_ROLES = (Role.school_admin, Role.district_admin, Role.trainer)


# ---------------------------------------------------------------------------------------------------------------
# Who may do what


def levels_for(actor: User) -> tuple[str, ...]:
    if actor.role == Role.district_admin:
        return LEVELS
    if actor.role == Role.school_admin:
        return ("school", "workshop")
    if actor.role == Role.trainer:
        return ("workshop",)
    return ()


def _check_schedule_scope(actor: User, level: str, school_id: int | None) -> None:
    if not levels_for(actor):
        raise Forbidden(_("Your role does not allow this."))
    if actor.role == Role.school_admin and (actor.school_id is None or school_id != actor.school_id):
        raise Forbidden(_("You can schedule sessions for your own school only."))
    if actor.role == Role.trainer and school_id not in (None, actor.school_id):
        raise Forbidden(_("You can schedule sessions for your own school only."))


def _can_manage(actor: User, ts: TrainingSession) -> bool:
    if actor.role == Role.district_admin:
        return True
    if actor.role == Role.school_admin:
        return actor.school_id is not None and ts.school_id == actor.school_id
    if actor.role == Role.trainer:
        return ts.created_by == actor.id
    return False


def _scope(actor: User) -> ColumnElement[bool]:
    """The sessions an actor runs, as a condition on `TrainingSession`."""
    if actor.role == Role.district_admin:
        return true()
    if actor.role == Role.school_admin:
        return TrainingSession.school_id == actor.school_id if actor.school_id is not None else false()
    if actor.role == Role.trainer:
        return TrainingSession.created_by == actor.id
    raise Forbidden(_("Your role does not allow this."))


def managed_training_session(session: Session, actor: User, session_id: int) -> TrainingSession:
    """A session the actor runs; another school's session is reported as not found."""
    ts = session.get(TrainingSession, session_id)
    if ts is None or not _can_manage(actor, ts):
        raise NotFound(_("This session does not exist or belongs to another school."))
    return ts


def get_training_session(session: Session, session_id: int) -> TrainingSession:
    ts = session.get(TrainingSession, session_id)
    if ts is None:
        raise NotFound(_("This session does not exist or belongs to another school."))
    return ts


# ---------------------------------------------------------------------------------------------------------------
# Scheduling


def empty_form(actor: User, policy: Policy) -> dict[str, Any]:
    today = clock.now().astimezone(SHANGHAI).date()
    return {
        "title": "",
        "theme": "",
        "tier": "",
        "topic": "",
        "level": levels_for(actor)[0] if levels_for(actor) else "school",
        "category": "practice",
        "school_id": actor.school_id,
        "day": today.isoformat(),
        "start_time": "14:00",
        "end_time": "16:30",
        "place": "",
        "duration": "half",
        "hours": "",
    }


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _parse(form: dict[str, Any], actor: User, policy: Policy) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    values["title"] = _text(form, "title")
    if not values["title"] or len(values["title"]) > 200:
        errors["title"] = _("Enter a title of 1 to 200 characters.")
    values["theme"] = _text(form, "theme")
    if len(values["theme"]) > 200:
        errors["theme"] = _("Keep the theme under 200 characters.")
    values["place"] = _text(form, "place")
    if len(values["place"]) > 200:
        errors["place"] = _("Keep the place under 200 characters.")
    tier = _text(form, "tier")
    if tier and tier not in TIER_CODES:
        errors["tier"] = _("Choose one of the four tiers.")
    values["tier"] = tier or None
    # The induction topic it covers, if any (optional): attendance is then tagged with it, so its certified hours
    # count toward that topic of the induction (credits.hours reads the ledger entry's topics).
    topic = _text(form, "topic")
    if topic and topic not in TOPIC_CODES:
        errors["topic"] = _("Choose one of the eight induction topics, or none.")
    values["topic"] = topic or None
    values["level"] = _text(form, "level")
    if values["level"] not in levels_for(actor):
        errors["level"] = _("Choose a level you may schedule.")
    values["category"] = _text(form, "category")
    if values["category"] not in CATEGORY_CODES:
        errors["category"] = _("Choose a credit category.")
    school = _text(form, "school_id")
    values["school_id"] = int(school) if school.isdigit() else None
    if actor.role == Role.school_admin and not school:
        values["school_id"] = actor.school_id  # the form has no school choice for a school admin
    if values["level"] == "school" and values["school_id"] is None:
        errors["school_id"] = _("A school-based session needs its school.")
    if values["level"] == "district":
        values["school_id"] = None
    try:
        values["day"] = date.fromisoformat(_text(form, "day"))
    except ValueError:
        errors["day"] = _("Enter the date as YYYY-MM-DD.")
    for name in ("start_time", "end_time"):
        try:
            values[name] = time.fromisoformat(_text(form, name))
        except ValueError:
            errors[name] = _("Enter the time as HH:MM.")
    if "start_time" in values and "end_time" in values and values["end_time"] <= values["start_time"]:
        errors["end_time"] = _("The session must end after it starts.")
    duration = _text(form, "duration")
    if duration == "full":
        values["hours"] = policy.training.offline_full_day_hours
    elif duration == "half":
        values["hours"] = policy.training.offline_half_day_hours
    else:
        try:
            hours = Decimal(_text(form, "hours"))
        except InvalidOperation:
            hours = Decimal("-1")
        if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS or hours != hours.quantize(Decimal("0.1")):
            errors["hours"] = _("Enter the hours as a number from 0.1 to 12, with at most one decimal.")
        values["hours"] = hours
    return values, errors


def schedule(session: Session, actor: User, form: dict[str, Any], policy: Policy) -> TrainingSession:
    values, errors = _parse(form, actor, policy)
    if not levels_for(actor):
        raise Forbidden(_("Your role does not allow this."))
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    _check_schedule_scope(actor, values["level"], values["school_id"])
    if values["school_id"] is not None and session.get(School, values["school_id"]) is None:
        raise InvalidInput(_("Please correct the marked fields."), fields={"school_id": _("Choose a school.")})
    ts = TrainingSession(**values, created_by=actor.id, created_at=clock.now())
    session.add(ts)
    session.flush()
    audit.record(
        session,
        "training.schedule",
        actor_id=actor.id,
        subject_type="training_session",
        subject_id=ts.id,
        school_id=ts.school_id,
        after=as_record(ts),
    )
    return ts


def as_record(ts: TrainingSession) -> dict[str, Any]:
    return {
        "title": ts.title,
        "theme": ts.theme,
        "tier": ts.tier,
        "topic": ts.topic,
        "level": ts.level,
        "category": ts.category,
        "school_id": ts.school_id,
        "day": ts.day.isoformat(),
        "start_time": ts.start_time.strftime("%H:%M"),
        "end_time": ts.end_time.strftime("%H:%M"),
        "place": ts.place,
        "hours": str(ts.hours),
    }


def schools_for(session: Session, actor: User) -> list[School]:
    """The schools an actor may pick when scheduling: all for a district admin, their own for anyone else."""
    if actor.role == Role.district_admin:
        return list(session.scalars(select(School).order_by(School.code)))
    if actor.school_id is None:
        return []
    return list(session.scalars(select(School).where(School.id == actor.school_id)))


@dataclass(frozen=True)
class SessionRow:
    session: TrainingSession
    school_name: str | None
    attendees: int


def _attendee_counts(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(Attendance.session_id, func.count())
        .where(Attendance.session_id.in_(ids))
        .group_by(Attendance.session_id)
    )
    return {sid: n for sid, n in rows}


def sessions_for(session: Session, actor: User, *, year: int, page: int = 1) -> Page[SessionRow]:
    """The actor's sessions of a year, latest first, with their attendance counts."""
    conditions = [_scope(actor), TrainingSession.day >= date(year, 1, 1), TrainingSession.day <= date(year, 12, 31)]
    total = session.scalar(select(func.count()).select_from(TrainingSession).where(*conditions)) or 0
    rows = (
        select(TrainingSession, School.name)
        .outerjoin(School, School.id == TrainingSession.school_id)
        .where(*conditions)
        .order_by(TrainingSession.day.desc(), TrainingSession.start_time.desc(), TrainingSession.id.desc())
    )
    found = paginate(session, rows, page, total=total)
    counts = _attendee_counts(session, [ts.id for ts, _ in found.items])
    return found.map(lambda row: SessionRow(row[0], row[1], counts.get(row[0].id, 0)))


def titles(session: Session, ids: set[int]) -> dict[int, str]:
    """Session titles by id, for naming the ledger entries that attendance wrote (one query)."""
    if not ids:
        return {}
    rows = session.execute(select(TrainingSession.id, TrainingSession.title).where(TrainingSession.id.in_(ids)))
    return {sid: title for sid, title in rows}


credit_workflow.offline_session_titles.append(titles)


def school_name(session: Session, ts: TrainingSession) -> str | None:
    if ts.school_id is None:
        return None
    school = session.get(School, ts.school_id)
    return school.name if school else None


# ---------------------------------------------------------------------------------------------------------------
# When check-in is open


def starts_at(ts: TrainingSession) -> datetime:
    return datetime.combine(ts.day, ts.start_time, tzinfo=SHANGHAI)


def ends_at(ts: TrainingSession) -> datetime:
    return datetime.combine(ts.day, ts.end_time, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class Window:
    opens: datetime
    closes: datetime

    def state(self, now: datetime) -> str:
        return "early" if now < self.opens else "closed" if now > self.closes else "open"


def checkin_window(ts: TrainingSession, policy: Policy) -> Window:
    """Attendance is recorded only once the session has started (issue 13: hours for a session that has not taken
    place are not hours), and until a grace period after its end."""
    grace = timedelta(minutes=policy.training.checkin_grace_minutes)
    return Window(starts_at(ts), ends_at(ts) + grace)


def require_open(ts: TrainingSession, policy: Policy, now: datetime) -> None:
    if ts.cancelled_at is not None:
        raise Conflict(_("This session was cancelled."))
    window = checkin_window(ts, policy)
    state = window.state(now)
    if state == "early":
        raise Conflict(
            _("Check-in for this session opens at %(time)s."), time=window.opens.astimezone(SHANGHAI).strftime("%H:%M")
        )
    if state == "closed":
        raise Conflict(_("Check-in for this session has closed. Ask the organiser to mark your attendance."))


# ---------------------------------------------------------------------------------------------------------------
# Attendance


def attendance_of(session: Session, ts: TrainingSession, user_id: int) -> Attendance | None:
    return session.scalar(select(Attendance).where(Attendance.session_id == ts.id, Attendance.user_id == user_id))


def may_attend(ts: TrainingSession, user: User) -> bool:
    """School-based sessions are for the school's own teachers; workshop and district sessions are open."""
    return ts.level != "school" or user.school_id == ts.school_id


def _attend(session: Session, ts: TrainingSession, user_id: int, method: str, marked_by: int | None) -> bool:
    """Records one attendance and its pending ledger entry; False when the teacher was already recorded."""
    if attendance_of(session, ts, user_id) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                Attendance(
                    session_id=ts.id, user_id=user_id, method=method, marked_by=marked_by, checked_in_at=clock.now()
                )
            )
    except IntegrityError:
        return False  # the same teacher's other scan won the race
    credits.record_offline_attendance(
        session,
        user_id=user_id,
        hours=ts.hours,
        category=ts.category,
        level=ts.level,
        session_ref=f"training:{ts.id}",
        day=ts.day,
        topic=ts.topic,
    )
    return True


def cancel(session: Session, actor: User, ts: TrainingSession, reason: str) -> None:
    """Calls a session off. Only before anyone attended: attendance has already made ledger entries, which are
    append-only, so a session that took place is not undone here (its entries are rejected in the credits queue)."""
    if ts.cancelled_at is not None:
        raise Conflict(_("This session was cancelled."))
    reason = reason.strip()
    if not reason:
        raise InvalidInput(
            _("Please say why the session is cancelled."),
            fields={"reason": _("Please say why the session is cancelled.")},
        )
    if len(reason) > 200:
        raise InvalidInput(_("At most 200 characters."), fields={"reason": _("At most 200 characters.")})
    if attendee_count(session, ts):
        raise Conflict(_("Teachers have already attended this session, so it can no longer be cancelled."))
    ts.cancelled_at, ts.cancel_reason = clock.now(), reason
    audit.record(
        session,
        "training.cancelled",
        actor_id=actor.id,
        subject_type="training_session",
        subject_id=ts.id,
        school_id=ts.school_id,
        after={"reason": reason},
    )
    session.flush()


def check_in(session: Session, user: User, ts: TrainingSession) -> bool:
    """A scanned check-in (the caller has checked the scan proof); False when already checked in."""
    if ts.cancelled_at is not None:
        raise Conflict(_("This session was cancelled."))
    if not may_attend(ts, user):
        raise Forbidden(_("This school-based session is for the teachers of its own school."))
    return _attend(session, ts, user.id, "qr", None)


def _parse_usernames(text: str) -> list[str]:
    parts = text.replace(",", "\n").replace("，", "\n").splitlines()
    return [name for name in (part.strip() for part in parts) if name]


# Registration: who is registered for a session is known to the package that holds it — a workshop activity's
# members, in `backend.organisation.workshops`, which sits above training and so answers through this list (as
# `audit_describe.register_subject` does): each source gives a condition on `User` for a session, or None when the
# session is not one of its own.
RegistrationSource = Callable[[TrainingSession], ColumnElement[bool] | None]
_registration_sources: list[RegistrationSource] = []


def registration_source(source: RegistrationSource) -> RegistrationSource:
    """Adds a source of registrations (once; usable as a decorator)."""
    if source not in _registration_sources:
        _registration_sources.append(source)
    return source


def registered_condition(ts: TrainingSession) -> ColumnElement[bool]:
    """The people registered for a session, as a condition on `User`: the members of the workshop whose activity it
    is, on the session's day. A session of no workshop has no registration: nobody is registered for it."""
    if not _registration_sources:
        raise RuntimeError("nobody answers who is registered for a session: is backend.organisation imported?")
    found = [condition for source in _registration_sources if (condition := source(ts)) is not None]
    return or_(*found) if found else false()


def markable_condition(actor: User, ts: TrainingSession) -> ColumnElement[bool]:
    """Whom the actor may mark present at this session (issue 13, separation of duties): teachers only, never the
    actor; a school admin only the teachers of their own school; a trainer only the people registered for the
    session (`registered_condition`: its workshop's members; a trainer's session of no workshop has nobody to
    hand-mark, its teachers check in with the code); a district admin any teacher who may attend it."""
    conditions: list[ColumnElement[bool]] = [User.role == Role.teacher, User.id != actor.id]
    if actor.role == Role.school_admin:
        conditions.append(User.school_id == actor.school_id if actor.school_id is not None else false())
    elif actor.role == Role.trainer:
        conditions.append(registered_condition(ts))
    elif actor.role != Role.district_admin:
        conditions.append(false())
    if ts.level == "school":
        conditions.append(User.school_id == ts.school_id if ts.school_id is not None else false())
    return and_(*conditions)


def mark_attendance(
    session: Session, actor: User, ts: TrainingSession, *, user_ids: list[int], usernames: str = ""
) -> int:
    """Hand-marked attendance by an admin who runs the session; every mark is in the audit log. Returns how many
    teachers were newly marked. Nothing is written when any teacher is unknown or not allowed at the session."""
    if not _can_manage(actor, ts):
        raise NotFound(_("This session does not exist or belongs to another school."))
    if ts.cancelled_at is not None:
        raise InvalidInput(_("This session was cancelled."))
    if clock.now() < starts_at(ts):
        raise Conflict(
            _("Attendance can be marked once the session has started (%(date)s %(time)s)."),
            date=ts.day.isoformat(),
            time=ts.start_time.strftime("%H:%M"),
        )
    names = _parse_usernames(usernames)
    markable = markable_condition(actor, ts)
    teachers = list(session.scalars(select(User).where(User.id.in_(user_ids), markable))) if user_ids else []
    if len(teachers) < len(set(user_ids)):
        # Someone outside the actor's scope reads as not on the list: a refusal never names them.
        raise Forbidden(_("Some of the chosen people cannot be marked by you: choose teachers from the list."))
    if names:
        found = list(session.scalars(select(User).where(User.username.in_(names), markable)))
        missing = sorted(set(names) - {u.username for u in found})
        if missing:
            raise InvalidInput(
                _("No teacher has the username %(names)s."),
                names="、".join(missing),
                fields={"usernames": _("Check the usernames: one teacher's username a line.")},
            )
        teachers += found
    if not teachers:
        raise InvalidInput(_("Choose at least one teacher."), fields={"usernames": _("Choose at least one teacher.")})
    marked = 0
    for teacher in {t.id: t for t in teachers}.values():
        if _attend(session, ts, teacher.id, "manual", actor.id):
            marked += 1
            audit.record(
                session,
                "training.attendance_mark",
                actor_id=actor.id,
                on_behalf_of_id=teacher.id,
                subject_type="training_session",
                subject_id=ts.id,
                school_id=ts.school_id or teacher.school_id,
                after={"user_id": teacher.id, "hours": str(ts.hours), "method": "manual"},
            )
    return marked


@dataclass(frozen=True)
class AttendeeRow:
    user_id: int
    display_name: str
    username: str
    method: str
    checked_in_at: datetime


def attendees(session: Session, ts: TrainingSession) -> list[AttendeeRow]:
    rows = session.execute(
        select(User.id, User.display_name, User.username, Attendance.method, Attendance.checked_in_at)
        .join(User, User.id == Attendance.user_id)
        .where(Attendance.session_id == ts.id)
        .order_by(Attendance.checked_in_at, Attendance.id)
    )
    return [AttendeeRow(uid, name, login, method, at) for uid, name, login, method, at in rows]


def attendee_count(session: Session, ts: TrainingSession) -> int:
    return _attendee_counts(session, [ts.id]).get(ts.id, 0)


def unmarked_teachers(session: Session, ts: TrainingSession) -> list[User]:
    """The teachers to tick by hand, not yet recorded: a school's session lists the school's teachers, a session of
    no school the people registered for it (a workshop activity's members)."""
    present = select(Attendance.user_id).where(Attendance.session_id == ts.id)
    invited = User.school_id == ts.school_id if ts.school_id is not None else registered_condition(ts)
    return list(
        session.scalars(
            select(User)
            .where(
                invited,
                User.role == Role.teacher,
                User.is_active.is_(True),
                User.id.not_in(present),
            )
            .order_by(User.display_name, User.username)
        )
    )


def _audit_names(session: Session, ids: list[str]) -> dict[str, audit_describe.Subject]:
    """Offline sessions as the audit log names them (issue 18)."""
    found = titles(session, {int(i) for i in ids if i.isdigit()})
    return {str(sid): audit_describe.Subject(title, f"/training/sessions/{sid}") for sid, title in found.items()}


audit_describe.register_subject("training_session", _audit_names)
