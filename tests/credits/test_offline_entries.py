"""Offline sessions put attended hours in the ledger as pending, once per teacher and session."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from backend.credits import hours
from backend.credits import ledger as credits
from tests.factories import make_user


def test_attendance_enters_the_ledger_once_as_pending(session: Session) -> None:
    teacher = make_user(session)
    first = credits.record_offline_attendance(
        session,
        user_id=teacher.id,
        hours=Decimal("3.0"),
        category="practice",
        level="school",
        session_ref="offline:7",
        day=date(2026, 11, 2),
    )
    again = credits.record_offline_attendance(
        session,
        user_id=teacher.id,
        hours=Decimal("3.0"),
        category="practice",
        level="school",
        session_ref="offline:7",
        day=date(2026, 11, 2),
    )
    assert again.id == first.id
    assert (first.status, first.source, first.hours, first.year) == ("pending", "offline_session", Decimal("3.0"), 2026)
    assert hours.teacher_total(session, teacher.id, year=2026).recorded == Decimal("3.0")


def test_a_second_teacher_at_the_same_session_gets_an_entry_of_her_own(session: Session) -> None:
    a, b = make_user(session), make_user(session)
    for t in (a, b):
        credits.record_offline_attendance(
            session,
            user_id=t.id,
            hours=Decimal("6"),
            category="practice",
            level="workshop",
            session_ref="offline:8",
            day=date(2026, 11, 2),
        )
    assert hours.teacher_total(session, b.id, year=2026).recorded == Decimal("6")


@pytest.mark.parametrize(
    ("category", "level", "hours"), [("sport", "school", "3"), ("practice", "moon", "3"), ("practice", "school", "0")]
)
def test_nonsense_is_refused(session: Session, category: str, level: str, hours: str) -> None:
    teacher = make_user(session)
    with pytest.raises(ValueError):
        credits.record_offline_attendance(
            session,
            user_id=teacher.id,
            hours=Decimal(hours),
            category=category,
            level=level,
            session_ref="offline:9",
            day=date(2026, 11, 2),
        )
