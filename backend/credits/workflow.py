"""The certification workflow of ledger entries, and the queues administrators work through.

    pending ──verify (teacher's school admin)──▶ verified ──certify (district admin)──▶ certified
       │                                            │
       └──reject (school admin / district admin)────┴──reject (district admin)──▶ rejected (final, with a reason)

A verified or certified entry is corrected by `reverse()`: a new entry with the negated hours, the same status,
a reason and the actor. Entries are never edited beyond their status; every move is a `LedgerEntryEvent` row and an
audit event (before/after). Who may do what to whose entry is decided in `_allowed()` and `scope()` only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.audit import describe as audit_describe
from backend.audit import service as audit
from backend.catalogue.models import Course
from backend.credits import ledger as credits
from backend.credits.hours import Status
from backend.credits.models import ExternalRecord, LedgerEntry, LedgerEntryEvent
from backend.kit import clock
from backend.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.kit.pagination import Page, paginate
from backend.notices import service as notices
from backend.people.models import School
from backend.people.records import scope

NAMED_TEACHERS = 500  # a name search resolved to at most this many teachers before reading the ledger
COUNT_CAP = 10_000  # queue pages count and page this far; narrower filters reach the rest
MAX_BULK = 500
MAX_REASON = 500
ACTIONS = ("verify", "certify", "reject")
STATUSES = tuple(str(s) for s in Status)  # backend.credits.hours.Status: the one list of statuses
SOURCES = ("course_completion", "offline_session", "external", "adjustment", "mentoring")
EXTERNAL_PREFIX = "external:"
TRAINING_PREFIX = "training:"  # backend.training.service: one session's attendance entries

# (action, actor role) -> the statuses the entry may be in, and the status it moves to.
_MOVES: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("verify", Role.school_admin): ((Status.pending,), Status.verified),
    ("certify", Role.district_admin): ((Status.verified,), Status.certified),
    ("reject", Role.school_admin): ((Status.pending,), Status.rejected),
    ("reject", Role.district_admin): ((Status.pending, Status.verified), Status.rejected),
}


def _allowed(actor: User, action: str) -> tuple[tuple[str, ...], str]:
    move = _MOVES.get((action, actor.role))
    if move is None:
        raise Forbidden(_("Your role does not allow this."))
    return move


def _refuse_own(actor: User, entries: Iterable[LedgerEntry]) -> None:
    """Separation of duties (issue 13): nobody verifies, certifies, sends back or corrects their own hours."""
    if any(entry.user_id == actor.id for entry in entries):
        raise Forbidden(
            _("Nobody may verify, certify, send back or correct their own hours; another administrator does.")
        )


def default_status(actor: User) -> str:
    """What the actor's queue shows first: a school admin verifies pending entries, a district admin certifies."""
    return "verified" if actor.role == Role.district_admin else "pending"


def _event(entry: LedgerEntry, actor: User, before: str | None, reason: str | None) -> LedgerEntryEvent:
    return LedgerEntryEvent(
        entry_id=entry.id,
        from_status=before,
        to_status=entry.status,
        reason=reason,
        actor_id=actor.id,
        at=clock.now(),
    )


def _audit(
    session: Session,
    entry: LedgerEntry,
    actor: User,
    action: str,
    before: str | None,
    school_id: int | None,
    reason: str | None,
) -> None:
    audit.record(
        session,
        f"ledger.{action}",
        actor_id=actor.id,
        subject_type="ledger_entry",
        subject_id=entry.id,
        school_id=school_id,
        # No on_behalf_of: administrators act in their own right here, never as the teacher.
        before={"status": before} if before else None,
        after={"status": entry.status, "reason": reason, "hours": str(entry.hours), "teacher_id": entry.user_id},
    )


def _clean_reason(reason: str | None, *, required: bool) -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise InvalidInput(_("Give a reason the teacher will see."), fields={"reason": _("A reason is required.")})
    if len(text) > MAX_REASON:
        raise InvalidInput(
            _("The reason is too long (at most 500 characters)."), fields={"reason": _("At most 500 characters.")}
        )
    return text or None


def apply(session: Session, actor: User, entry_ids: Sequence[int], action: str, reason: str | None = None) -> int:
    """Move the selected entries all at once, or none of them: one entry out of scope or in the wrong status and
    nothing is written. Returns how many moved."""
    if action not in ACTIONS:
        raise InvalidInput(_("Unknown action."))
    allowed_from, to_status = _allowed(actor, action)
    reason = _clean_reason(reason, required=action == "reject")
    ids = sorted(set(entry_ids))
    if not ids:
        raise InvalidInput(_("Select at least one entry."))
    if len(ids) > MAX_BULK:
        raise InvalidInput(_("Select at most %(n)s entries at a time."), n=MAX_BULK)
    found = session.execute(
        select(LedgerEntry, User.school_id)
        .join(User, User.id == LedgerEntry.user_id)
        .where(LedgerEntry.id.in_(ids), scope(actor))
        .order_by(LedgerEntry.id)
        .with_for_update(of=LedgerEntry)
    ).all()
    if len(found) != len(ids):
        # Out of scope reads as not found: a school admin cannot learn that another school's entry exists.
        raise NotFound(_("This credit hour entry does not exist."))
    _refuse_own(actor, (entry for entry, _school in found))
    wrong = [entry for entry, _school in found if entry.status not in allowed_from or entry.reverses_id is not None]
    if wrong:
        raise Conflict(
            _("%(n)s of the selected entries cannot be changed this way any more; reload the list."), n=len(wrong)
        )
    reversed_ids = set(session.scalars(select(LedgerEntry.reverses_id).where(LedgerEntry.reverses_id.in_(ids))))
    if reversed_ids:
        raise Conflict(
            _("%(n)s of the selected entries cannot be changed this way any more; reload the list."),
            n=len(reversed_ids),
        )
    befores = []
    for entry, _school in found:
        befores.append(entry.status)
        entry.status = to_status
        entry.actor_id = actor.id
        if action == "reject":
            entry.reason = reason
        session.add(_event(entry, actor, befores[-1], reason))
    session.flush()  # one batch of updates and event rows; then one audit row per entry
    for (entry, school_id), before in zip(found, befores, strict=True):
        _audit(session, entry, actor, action, before, school_id, reason)
    if action == "reject":
        _tell_sent_back(session, [entry for entry, _school in found], reason or "")
    return len(found)


def _tell_sent_back(session: Session, entries: Sequence[LedgerEntry], reason: str) -> None:
    """The teacher learns that hours came back, with the reason and where to correct them (issue 18)."""
    titles = source_titles(session, [(e.source, e.source_ref) for e in entries])
    courses = course_titles(session, {e.course_id for e in entries if e.course_id})
    for e in entries:
        title = titles.get(e.source_ref) or courses.get(e.course_id or 0) or ""
        if e.source == "external" and e.source_ref.startswith(EXTERNAL_PREFIX):
            link = f"/credits/external/{e.source_ref.removeprefix(EXTERNAL_PREFIX)}/edit"
            message = _("Your hours “%(title)s” (%(hours)s) were sent back: %(reason)s. Correct them and submit again.")
        else:
            link = "/credits/mine"
            message = _("Your hours “%(title)s” (%(hours)s) were sent back: %(reason)s.")
        notices.notify(session, e.user_id, message, link=link, title=title, hours=e.hours, reason=reason)


def reverse(session: Session, actor: User, entry_id: int, reason: str | None) -> LedgerEntry:
    """A correction: a new entry with the negated hours and the original's status, naming what it reverses."""
    if actor.role != Role.district_admin:
        raise Forbidden(_("Your role does not allow this."))
    text = _clean_reason(reason, required=True)
    found = session.execute(
        select(LedgerEntry, User.school_id)
        .join(User, User.id == LedgerEntry.user_id)
        .where(LedgerEntry.id == entry_id, scope(actor))
        .with_for_update(of=LedgerEntry)
    ).one_or_none()
    if found is None:
        raise NotFound(_("This credit hour entry does not exist."))
    original, school_id = found
    _refuse_own(actor, [original])
    if original.reverses_id is not None or original.status not in ("verified", "certified"):
        raise Conflict(_("Only a verified or certified entry can be corrected; reject a pending one instead."))
    if session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == original.id)) is not None:
        raise Conflict(_("This entry has already been corrected."))
    correction = LedgerEntry(
        user_id=original.user_id,
        hours=-original.hours,
        category=original.category,
        level=original.level,
        source="adjustment",
        source_ref=f"reverses:{original.id}",
        course_id=original.course_id,
        year=original.year,
        trained_on=original.trained_on,
        status=original.status,
        reason=text,
        actor_id=actor.id,
        reverses_id=original.id,
        created_at=clock.now(),
    )
    credits.tag(session, correction, credits.topics_of(session, original.id))  # it un-covers what the original covered
    session.add(correction)
    session.flush()
    session.add(_event(correction, actor, None, text))
    _audit(session, correction, actor, "reverse", None, school_id, text)
    session.flush()
    return correction


# ---------------------------------------------------------------------------------------------------------------
# Queues


@dataclass(frozen=True)
class QueueFilters:
    status: str | None = None  # None: every status
    school_id: int | None = None
    year: int | None = None
    category: str | None = None
    source: str | None = None
    q: str | None = None

    def params(self) -> dict[str, str]:
        """The filters as query parameters, for pager links and the return address of bulk actions."""
        values = {
            "status": self.status or "all",
            "school": self.school_id,
            "year": self.year,
            "category": self.category,
            "source": self.source,
            "q": self.q,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


@dataclass(frozen=True)
class QueueRow:
    entry_id: int
    created_at: datetime
    teacher_id: int
    teacher_name: str
    teacher_username: str
    school_name: str | None
    course_title: str | None
    source: str
    source_ref: str
    category: str
    level: str
    year: int
    hours: Decimal
    status: str
    reason: str | None
    reverses_id: int | None
    trained_on: date

    @property
    def external_id(self) -> int | None:
        ref = self.source_ref.removeprefix(EXTERNAL_PREFIX)
        return int(ref) if self.source == "external" and ref.isdigit() else None

    @property
    def actionable(self) -> bool:
        return self.reverses_id is None and self.status in ("pending", "verified")


def queue(session: Session, actor: User, filters: QueueFilters, page: int = 1) -> Page[QueueRow]:
    """Entries in the actor's scope matching the filters, newest first, a page at a time.

    Bounded work whatever the ledger's size: the newest-first order walks an index that starts with the filtered
    columns ((created_at), (status, created_at), (status, year, created_at), (year, created_at), or a teacher's
    entries through users.school_id / user_id), the count stops at COUNT_CAP + 1 and so does the offset. A
    `total` above COUNT_CAP means "more than COUNT_CAP"."""
    # Conditions on the entry itself, and on its teacher (scope, school, name).
    on_entry: list[ColumnElement[bool]] = []
    on_teacher: list[ColumnElement[bool]] = [] if actor.role == Role.district_admin else [scope(actor)]
    if filters.status:
        on_entry.append(LedgerEntry.status == filters.status)
    if filters.year is not None:
        on_entry.append(LedgerEntry.year == filters.year)
    if filters.category:
        on_entry.append(LedgerEntry.category == filters.category)
    if filters.source:
        on_entry.append(LedgerEntry.source == filters.source)
    if filters.school_id is not None and actor.role == Role.district_admin:
        on_teacher.append(User.school_id == filters.school_id)
    if filters.q and filters.q.strip():
        text = filters.q.strip()
        by_name = or_(
            User.display_name.icontains(text, autoescape=True), User.username.icontains(text, autoescape=True)
        )
        # The name is matched once (a scan of the users, not of the ledger); a handful of teachers then becomes a
        # condition on the entries' teacher index. A name matching very many teachers stays a join condition.
        named = list(session.scalars(select(User.id).where(by_name, *on_teacher).limit(NAMED_TEACHERS + 1)))
        on_teacher.append(LedgerEntry.user_id.in_(named) if len(named) <= NAMED_TEACHERS else by_name)
    # Counted up to COUNT_CAP + 1 only: a page says "more than 10,000" rather than scanning the district's ledger.
    # Without a condition on the teacher the count reads the entries' index alone (every entry has its teacher).
    matching = select(LedgerEntry.id).where(*on_entry)
    if on_teacher:
        matching = matching.join(User, User.id == LedgerEntry.user_id).where(*on_teacher)
    total = session.scalar(select(func.count()).select_from(matching.limit(COUNT_CAP + 1).subquery())) or 0
    # The page's ids first (an index walk, even at the deepest offset), then the display columns for those 50.
    newest_first = (LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
    if on_teacher and total <= COUNT_CAP:
        # A few teachers' entries (a school, a name): gather them through the teachers' index and sort at most
        # COUNT_CAP rows, instead of walking the district's newest-first index past everyone else's entries.
        # MATERIALIZED keeps PostgreSQL from folding the set back into that walk.
        few = matching.add_columns(LedgerEntry.created_at).cte("few").prefix_with("MATERIALIZED", dialect="postgresql")
        page_ids = select(few.c.id).order_by(few.c.created_at.desc(), few.c.id.desc())
    else:
        page_ids = matching.order_by(*newest_first)
    found = paginate(session, page_ids, page, scalars=True, total=total)
    ids = found.items
    rows = list(session.execute(_row_query().where(LedgerEntry.id.in_(ids)).order_by(*newest_first))) if ids else []
    return found.with_items([QueueRow(*tuple(row)) for row in rows])


def history(session: Session, entry_id: int) -> list[LedgerEntryEvent]:
    return list(
        session.scalars(
            select(LedgerEntryEvent).where(LedgerEntryEvent.entry_id == entry_id).order_by(LedgerEntryEvent.id)
        )
    )


def teacher_in_scope(session: Session, actor: User, teacher_id: int) -> User:
    """A teacher an administrator may look at (404 otherwise, so other schools' teachers stay invisible)."""
    teacher = session.scalar(select(User).where(User.id == teacher_id, scope(actor)))
    if teacher is None:
        raise NotFound(_("This teacher does not exist."))
    return teacher


def actions_for(actor: User) -> list[str]:
    return [action for action in ACTIONS if (action, actor.role) in _MOVES]


def _row_query():  # type: ignore[no-untyped-def]
    return (
        select(
            LedgerEntry.id,
            LedgerEntry.created_at,
            User.id,
            User.display_name,
            User.username,
            School.name,
            Course.title,
            LedgerEntry.source,
            LedgerEntry.source_ref,
            LedgerEntry.category,
            LedgerEntry.level,
            LedgerEntry.year,
            LedgerEntry.hours,
            LedgerEntry.status,
            LedgerEntry.reason,
            LedgerEntry.reverses_id,
            LedgerEntry.trained_on,
        )
        .join(User, User.id == LedgerEntry.user_id)
        .outerjoin(School, School.id == User.school_id)
        .outerjoin(Course, Course.id == LedgerEntry.course_id)
    )


def entry_row(session: Session, actor: User, entry_id: int) -> QueueRow:
    row = session.execute(_row_query().where(LedgerEntry.id == entry_id, scope(actor))).one_or_none()
    if row is None:
        raise NotFound(_("This credit hour entry does not exist."))
    return QueueRow(*tuple(row))


def correction_of(session: Session, entry_id: int) -> LedgerEntry | None:
    return session.scalar(select(LedgerEntry).where(LedgerEntry.reverses_id == entry_id))


# What an offline-session entry is about: training, which sits above credits and writes those entries, registers its
# session titles here (training/service.py), so the ledger's pages name them without importing training.
SessionTitles = Callable[[Session, set[int]], dict[int, str]]
offline_session_titles: list[SessionTitles] = []


def _source_key(source: str, ref: str) -> tuple[str, int] | None:
    """The record or session an entry came from: ("external", record id) or ("offline_session", session id)."""
    if source == "external":
        number = ref.removeprefix(EXTERNAL_PREFIX)
    elif source == "offline_session" and ref.startswith(TRAINING_PREFIX):
        number = ref.removeprefix(TRAINING_PREFIX).split(":", 1)[0]  # training:<session>:user:<teacher>
    else:
        return None
    return (source, int(number)) if number.isdigit() else None


def source_titles(session: Session, refs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """What external-record and offline-session entries are about, by source_ref: the record's title as the teacher
    entered it, the session's title. Without it a page of them reads "external hours", "offline session"… and an
    administrator verifying them cannot tell one from another. At most two queries a page."""
    keys = {ref: key for source, ref in refs if (key := _source_key(source, ref)) is not None}
    records = {n for kind, n in keys.values() if kind == "external"}
    sessions = {n for kind, n in keys.values() if kind == "offline_session"}
    found: dict[tuple[str, int], str] = {}
    if records:
        rows = session.execute(select(ExternalRecord.id, ExternalRecord.title).where(ExternalRecord.id.in_(records)))
        found |= {("external", rid): title for rid, title in rows}
    if sessions:
        if not offline_session_titles:
            raise RuntimeError("nobody names offline sessions: is backend.training imported?")
        for titles in offline_session_titles:
            found |= {("offline_session", sid): title for sid, title in titles(session, sessions).items()}
    return {ref: found[key] for ref, key in keys.items() if key in found}


def course_titles(session: Session, course_ids: set[int]) -> dict[int, str]:
    if not course_ids:
        return {}
    return {
        cid: title for cid, title in session.execute(select(Course.id, Course.title).where(Course.id.in_(course_ids)))
    }


def _audit_names(session: Session, ids: list[str]) -> dict[str, audit_describe.Subject]:
    """Ledger entries as the audit log names them: whose, what, how many hours (issue 18)."""
    numbers = [int(i) for i in ids if i.isdigit()]
    rows = session.execute(
        select(LedgerEntry.id, User.display_name, LedgerEntry.hours, LedgerEntry.source, LedgerEntry.source_ref,
               LedgerEntry.course_id)
        .join(User, User.id == LedgerEntry.user_id)
        .where(LedgerEntry.id.in_(numbers))
    ).all()  # fmt: skip
    titles = source_titles(session, [(r.source, r.source_ref) for r in rows])
    courses = course_titles(session, {r.course_id for r in rows if r.course_id})
    named = {}
    for r in rows:
        about = titles.get(r.source_ref) or courses.get(r.course_id or 0) or ""
        name = f"{r.display_name} · {r.hours} 学时" + (f" · {about}" if about else "")
        named[str(r.id)] = audit_describe.Subject(name, f"/credits/entries/{r.id}")
    return named


audit_describe.register_subject("ledger_entry", _audit_names)
