"""Who may look at and change which school's organisation, decided here and nowhere else in this package.

A district admin acts on every school; a school admin on their own school only (another school is reported as not
found, so its existence is not confirmed); teachers and trainers are refused. School years are counted here too.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.kit import clock
from backend.kit.clock import SHANGHAI
from backend.kit.errors import Forbidden, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.people.models import School
from backend.policies.service import Policy

ADMIN_ROLES = (Role.school_admin, Role.district_admin)
FIRST_SCHOOL_YEAR = 2000


def today() -> date:
    return clock.now().astimezone(SHANGHAI).date()


def school_year_of(day: date, policy: Policy) -> int:
    """The school year (学年) a day belongs to, named by the calendar year it starts in."""
    return day.year if day.month >= policy.organisation.school_year_start_month else day.year - 1


def school_year_bounds(year: int, policy: Policy) -> tuple[date, date]:
    """First and last day of a school year: 2026学年 = 2026-09-01 … 2027-08-31 (with the default start month)."""
    first = date(year, policy.organisation.school_year_start_month, 1)
    following = date(year + 1, policy.organisation.school_year_start_month, 1)
    return first, date.fromordinal(following.toordinal() - 1)


def counting_day(year: int, policy: Policy, as_of: date | None = None) -> date:
    """The day a school year's figures are counted on: the given day, or today, kept inside the school year."""
    first, last = school_year_bounds(year, policy)
    day = as_of or today()
    return min(max(day, first), last)


def parse_year(raw: str | int | None, policy: Policy) -> int:
    """A school year from a query or form value; empty means the current school year."""
    if raw is None or raw == "":
        return school_year_of(today(), policy)
    text = str(raw).strip()
    if not text.isdigit() or not FIRST_SCHOOL_YEAR <= int(text) <= today().year + 1:
        raise InvalidInput(
            _("Choose a school year from the list."), fields={"year": _("Choose a school year from the list.")}
        )
    return int(text)


def require_admin(actor: User) -> None:
    if actor.role not in ADMIN_ROLES:
        raise Forbidden(_("Your role does not allow this."))


def school_for(session: Session, actor: User, school_id: int | None) -> School:
    """The school an admin acts on: a school admin's own (also when none is given); a district admin's choice."""
    require_admin(actor)
    if actor.role == Role.school_admin:
        if actor.school_id is None:
            raise Forbidden(_("Your account is not attached to a school."))
        if school_id is not None and school_id != actor.school_id:
            raise NotFound(_("This school does not exist or is not yours."))
        school_id = actor.school_id
    if school_id is None:
        raise InvalidInput(_("Choose a school."), fields={"school": _("Choose a school.")})
    school = session.get(School, school_id)
    if school is None:
        raise NotFound(_("This school does not exist or is not yours."))
    return school


def school_by_code(session: Session, actor: User, code: str) -> School:
    school_id = session.scalar(select(School.id).where(School.code == code))
    if school_id is None:
        require_admin(actor)
        raise NotFound(_("This school does not exist or is not yours."))
    return school_for(session, actor, school_id)


def schools_in_scope(session: Session, actor: User) -> list[School]:
    require_admin(actor)
    stmt = select(School).order_by(School.code)
    if actor.role == Role.school_admin:
        stmt = stmt.where(School.id == actor.school_id)
    return list(session.scalars(stmt))
