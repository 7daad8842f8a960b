"""Issue 16 end to end, in Chromium against the real server: the homeroom organisation.

1. The school admin records the school's classes and their 班主任: 14 classes from an Excel file on the class import
   page (row report), then the 15th class by hand, whose 班主任 is appointed with the form. The class list then says
   every class has exactly one 班主任.
2. The district admin opens 队伍建设达标情况: the school has 15 classes and its school workshop 8 members on the day,
   so the workshop rule is met, with the reason.
3. The workshop's host (a trainer) schedules an activity on the workshop page and marks two members present on the
   session page; one member opens 我的学时 on the phone and finds the activity's 3.0 hours there, pending.

Screenshots: test-artifacts/screenshots/organisation-*.png.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from playwright.sync_api import Page, expect

from backend.kit import clock
from backend.kit.clock import SHANGHAI
from tests.browser.conftest import DESKTOP, PYTHON, Account, LiveServer, _run, new_context
from tests.browser.test_credits_story import log_in, session_times

SCHOOL = ("SJ-E2E-ORG", "松江区队伍建设实验学校")
SCHOOL_ADMIN = Account("org-school-admin", "冯主任", "e2e-OrgSchool-pass")
DISTRICT_ADMIN = Account("org-district-admin", "蒋老师", "e2e-OrgDistrict-pass")
HOST = Account("org-host", "韩主持", "e2e-OrgHost-pass")
MEMBER = Account("org-member", "杨老师", "e2e-OrgMember-pass")
WORKSHOP = "队伍建设实验学校班主任工作室"
ACTIVITY = "工作室研修：班级危机干预演练"

# The school, its accounts, 16 teachers with staff numbers (O01…O16; O01 is 杨老师), and the school workshop whose
# host and 6 members (terms from 1 September) made in one interpreter through the services.
_SETUP = """
import backend.models_registry
from backend.accounts import service
from backend.accounts.models import Role
from backend.config import get_settings
from backend.db import session_factory
from backend.organisation import workshops
from backend.people import directory, schools as people

session = session_factory(get_settings())()
district = people.ensure_district(session, "songjiang", "松江区")
school = people.ensure_school(session, district, {code!r}, {name!r}, "primary")
made = {{}}
for username, display_name, password, role, in_school in {accounts!r}:
    made[username] = service.create_user(session, username=username, display_name=display_name, password=password,
                                         role=role, school_id=school.id if in_school else None)
teachers = [made[{member!r}]]
for n in range(2, 17):
    teachers.append(service.create_user(session, username=f"org-t{{n:02d}}", display_name=f"教师{{n:02d}}",
                                        password="e2e-OrgTeacher-pass", role=Role.teacher, school_id=school.id))
for n, teacher in enumerate(teachers, start=1):
    directory.start_record(session, teacher, f"O{{n:02d}}")
district_admin = made[{district_admin!r}]
workshop = workshops.create_workshop(session, district_admin, name={workshop!r}, level="school", stage="primary",
                                     school_id=school.id, host_id=made[{host!r}].id)
for teacher in teachers[:6]:  # with the host, 7 members
    workshops.add_member(session, district_admin, workshop.id, teacher.id, "member", {first_day!r})
session.commit()
"""


@dataclass
class People:
    school_admin: Page
    district_admin: Page
    host: Page
    member: Page


def shot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"organisation-{name}.png"), full_page=True)


def school_year_first_day(now: datetime) -> str:
    local = now.astimezone(SHANGHAI).date()
    year = local.year if local.month >= 9 else local.year - 1
    return f"{year}-09-01"


def class_file(path: Path) -> Path:
    """14 classes, 班主任 O02…O15, and 杨老师 (O01) as 副班主任 of the first."""
    book = Workbook()
    sheet = book.active
    sheet.append(["班级", "年级", "班主任工号", "副班主任工号", "轮值班主任工号", "任职日期"])
    for n in range(1, 15):
        sheet.append([f"{(n - 1) // 3 + 1}年级（{(n - 1) % 3 + 1}）班", f"{(n - 1) // 3 + 1}年级", f"O{n + 1:02d}",
                      "O01" if n == 1 else "", "", ""])  # fmt: skip
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
def people(live_server: LiveServer, browser: Any) -> Any:
    accounts = [
        (SCHOOL_ADMIN.username, SCHOOL_ADMIN.name, SCHOOL_ADMIN.password, "school_admin", True),
        (DISTRICT_ADMIN.username, DISTRICT_ADMIN.name, DISTRICT_ADMIN.password, "district_admin", False),
        (HOST.username, HOST.name, HOST.password, "trainer", True),
        (MEMBER.username, MEMBER.name, MEMBER.password, "teacher", True),
    ]
    script = _SETUP.format(
        code=SCHOOL[0], name=SCHOOL[1], accounts=accounts, member=MEMBER.username,
        district_admin=DISTRICT_ADMIN.username, workshop=WORKSHOP, host=HOST.username,
        first_day=school_year_first_day(clock.now()),
    )  # fmt: skip
    _run([str(PYTHON), "-c", script], live_server.env, live_server.tmp)
    contexts = [new_context(browser, DESKTOP), new_context(browser, DESKTOP), new_context(browser, DESKTOP),
                new_context(browser)]  # fmt: skip
    errors: list[str] = []
    pages = []
    for context in contexts:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        pages.append(page)
    yield People(*pages)
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the pages: {errors}"


def test_school_records_classes_district_sees_the_workshop_rule_met_and_activity_attendance_becomes_hours(
    live_server: LiveServer, people: People, screenshots: Path, tmp_path: Path
) -> None:
    base = live_server.url

    # 1. The school admin imports 14 classes, adds the 15th by hand and appoints its 班主任.
    admin = people.school_admin
    log_in(admin, base, SCHOOL_ADMIN)
    admin.goto(f"{base}/organisation/classes/import")
    admin.set_input_files("#class-file", str(class_file(tmp_path / "班级.xlsx")))
    admin.locator("form[action='/organisation/classes/import'] button[type=submit]").click()
    expect(admin.locator(".alert.success")).to_contain_text("14")
    shot(admin, screenshots, "01-class-import")
    admin.locator(".alert.success a").click()
    expect(admin.locator("#class-table tbody tr")).to_have_count(14)
    admin.fill("#new-class-name", "5年级（3）班")
    admin.fill("#new-class-grade", "5年级")
    admin.locator("form[method=post][action='/organisation/classes'] button[type=submit]").click()
    expect(admin.locator("#class-table tbody tr")).to_have_count(15)
    expect(admin.locator("[data-compliance='not-met']")).to_contain_text("5年级（3）班")
    shot(admin, screenshots, "02-class-without-homeroom-teacher")
    row = admin.locator("#class-table tbody tr", has_text="5年级（3）班")
    row.locator("summary").click()
    row.locator("select[name=teacher]").select_option(label="教师16")
    row.locator("select[name=role]").select_option(value="homeroom")
    row.locator("form[action$='/appointments'] button[type=submit]").click()
    expect(admin.locator("[data-compliance='met']")).to_be_visible()
    expect(admin.locator("#class-table tbody tr", has_text="5年级（3）班")).to_contain_text("教师16")
    shot(admin, screenshots, "03-every-class-has-its-homeroom-teacher")

    # The eighth member joins the school workshop (the school admin manages its own school's workshop).
    admin.goto(f"{base}/organisation/workshops")
    admin.get_by_role("link", name=WORKSHOP).click()
    admin.locator("#member-teacher").select_option(label="教师08")
    admin.locator("form[action$='/members'] button[type=submit]").click()
    expect(admin.locator("[data-members-today]")).to_have_attribute("data-members-today", "8")

    # 2. The district admin sees the workshop rule met, with the reason.
    district = people.district_admin
    log_in(district, base, DISTRICT_ADMIN)
    district.goto(f"{base}/organisation/compliance")
    row = district.locator(f"tr[data-school='{SCHOOL[0]}']")
    expect(row).to_have_attribute("data-workshop-rule", "met")
    expect(row).to_contain_text(WORKSHOP)
    expect(row.locator("td.num")).to_have_text("15")
    shot(district, screenshots, "04-district-sees-workshop-rule-met")

    # 3. The host schedules an activity now and marks two members present; a member sees the hours.
    host = people.host
    log_in(host, base, HOST)
    host.goto(f"{base}/organisation/workshops")
    host.get_by_role("link", name=WORKSHOP).click()
    start, end = session_times(clock.now().astimezone(SHANGHAI))
    host.fill("#activity-title", ACTIVITY)
    host.fill("#activity-start_time", start)
    host.fill("#activity-end_time", end)
    host.fill("#activity-place", "学校报告厅")
    shot(host, screenshots, "05-host-schedules-activity")
    host.locator("form[action$='/activities'] button[type=submit]").click()
    expect(host).to_have_url(re.compile(r"/training/sessions/\d+"))
    host.fill("#usernames", f"{MEMBER.username}\norg-t02")
    host.locator("form[action$='/attendance'] button[type=submit]").click()
    expect(host.get_by_text(MEMBER.name)).to_be_visible()
    shot(host, screenshots, "06-host-marks-attendance")

    member = people.member
    log_in(member, base, MEMBER)
    member.goto(f"{base}/credits/mine")
    entry = member.locator("tr, li, article", has_text=ACTIVITY).first
    expect(entry).to_be_visible()
    expect(entry).to_contain_text("3.0")
    shot(member, screenshots, "07-member-sees-activity-hours")
