"""Issue 13 in Chromium: a teacher with 31.5 certified hours and 0.5 pending sees, on 我的学习 and on 我的学时 alike,
the certified figure as the one that counts and the pending half hour labelled as awaiting certification, with the
one line that explains the statuses — and the induction is not shown as complete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from backend.kit.i18n import translate
from tests.browser.conftest import PYTHON, Account, LiveServer, _run, new_context

TEACHER = Account("hours-label-teacher", "孙丽", "e2e-HoursLabel-pass")

_SETUP = """
import uuid
import backend.models_registry
from decimal import Decimal
from backend.accounts import service
from backend.config import get_settings
from backend.credits import ledger as credits
from backend.credits.models import LedgerEntry
from backend.db import session_factory
from backend.kit import clock
from backend.people import schools as people

session = session_factory(get_settings())()
district = people.ensure_district(session, "songjiang", "松江区")
school = people.ensure_school(session, district, "SJ-E2E-HL", "松江区学时标注实验学校", "primary")
user = service.create_user(session, username={username!r}, display_name={name!r}, password={password!r},
                           role="teacher", school_id=school.id)
now = clock.now()
day = now.astimezone(clock.SHANGHAI).date()
for hours, status, topic in (("31.5", "certified", "norms"), ("0.5", "pending", "crisis")):
    entry = LedgerEntry(user_id=user.id, hours=Decimal(hours), category="practice", level="school", source="external",
                        source_ref="e2e-hours-label:" + uuid.uuid4().hex, year=day.year, trained_on=day,
                        status=status, created_at=now)
    credits.tag(session, entry, [topic])
    session.add(entry)
    session.flush()
session.commit()
"""


def test_a_teacher_sees_pending_hours_labelled_as_pending_on_both_pages(
    live_server: LiveServer, browser: Any, screenshots: Path
) -> None:
    script = _SETUP.format(username=TEACHER.username, name=TEACHER.name, password=TEACHER.password)
    _run([str(PYTHON), "-c", script], live_server.env, live_server.tmp)
    context = new_context(browser)  # a phone
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    base = live_server.url
    page.goto(f"{base}/login")
    page.fill("#username", TEACHER.username)
    page.fill("#password", TEACHER.password)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator(".who")).to_have_text(TEACHER.name)

    line = translate(
        "zh_CN",
        "Certified %(certified)s credit hours; another %(awaiting)s credit hours awaiting certification",
        certified="31.5",
        awaiting="0.5",
    )
    note = translate(
        "zh_CN",
        "Only certified hours (已认定) count toward rules and certificates. Pending hours wait for your school to "
        "verify them, verified hours for the district to certify them; hours sent back do not count.",
    )
    for path, name in (("/learning", "my-learning"), ("/credits/mine", "my-hours")):
        page.goto(f"{base}{path}")
        expect(page.locator("#hours-this-year strong")).to_have_text("31.5")
        expect(page.locator("#hours-this-year-line")).to_have_text(line)
        expect(page.locator(".status-note").first).to_have_text(note)
        page.locator("#hours-this-year-line").scroll_into_view_if_needed()
        page.screenshot(path=str(screenshots / f"hours-labels-{name}.png"), full_page=True)

    # The pending half hour is not counted: the induction still needs 0.5 certified hours, which 我的学时 says.
    page.goto(f"{base}/learning")
    expect(page.locator("#induction-hours strong")).to_have_text("31.5")
    expect(page.locator("#induction-awaiting")).to_contain_text("0.5")
    page.goto(f"{base}/credits/mine")
    induction_hours = page.locator("#program-induction [data-check=hours]")
    expect(induction_hours).to_contain_text("31.5 / 32.0")
    expect(page.locator("tr").filter(has_text="0.5").locator(".status.pending")).to_have_count(1)
    context.close()
    assert not errors, f"JavaScript errors on the pages: {errors}"
