"""Teachers with records, built the way the portal stores them; and the admins who look after them."""

from __future__ import annotations

import re
from datetime import date

from markupsafe import escape
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.kit.i18n import translate
from backend.people.models import AnnualEvaluation, ServicePeriod, TeacherProfile
from tests.factories import make_user

TOKEN_RE = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def make_teacher(
    session: Session,
    school_code: str = "S-A",
    *,
    name: str = "王老师",
    staff_no: str | None = None,
    teaching_start: date | None = None,
    periods: tuple[tuple[str, str | None, str | None], ...] = (),  # (kind, start, end)
    evaluations: tuple[tuple[int, str], ...] = (),
) -> User:
    teacher = make_user(session, Role.teacher, school_code=school_code, display_name=name)
    session.add(
        TeacherProfile(user_id=teacher.id, staff_no=staff_no, teaching_start=teaching_start, status="appointed")
    )
    for kind, start, end in periods:
        session.add(
            ServicePeriod(
                user_id=teacher.id,
                kind=kind,
                school_id=teacher.school_id,
                start=date.fromisoformat(start),
                end=date.fromisoformat(end) if end else None,
            )
        )
    for year, result in evaluations:
        session.add(AnnualEvaluation(user_id=teacher.id, year=year, result=result))
    session.flush()
    return teacher


def zh(msgid: str, **params: object) -> str:
    """A message as a Chinese reader sees it on the page (translated, then HTML-escaped)."""
    return str(escape(translate("zh_CN", msgid, **params)))


def csrf(html: str) -> str:
    match = TOKEN_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)
