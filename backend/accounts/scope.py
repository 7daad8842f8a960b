"""School scope, decided once: which people an administrator may list and act on.

A district admin: everybody. A school admin: the people of their own school; one without a school: nobody (never
"everybody without a school"). Anyone else: no one (as a query condition, Forbidden). Every list of people or of
their records filters by `school_scope`; every check on one person asks `in_school_scope`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from backend.accounts.models import Role, User
from backend.kit.errors import Forbidden
from backend.kit.i18n import _


def school_scope(actor: User) -> ColumnElement[bool]:
    """The people `actor` may look at, as a condition on `User`."""
    if actor.role == Role.district_admin:
        return true()
    if actor.role == Role.school_admin:
        return User.school_id == actor.school_id if actor.school_id is not None else false()
    raise Forbidden(_("Your role does not allow this."))


def in_school_scope(actor: User, person: User) -> bool:
    """Whether `person` is within `actor`'s school scope (the same rule as `school_scope`, for one person)."""
    if actor.role == Role.district_admin:
        return True
    return actor.role == Role.school_admin and actor.school_id is not None and person.school_id == actor.school_id
