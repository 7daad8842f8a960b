"""Issue 5 end to end, in Chromium against the real server: hours a teacher earned elsewhere and hours from a
school-based session go through verification and certification, and end in a PDF certificate whose QR code opens
the public check, which says the certificate is valid.

1. On the phone, the teacher adds hours earned elsewhere with an evidence PDF (我的学时 → 添加校外学时).
2. The school admin schedules a school-based session for now and shows its check-in code; the teacher "scans" it:
   the QR code on the projector page is decoded from a screenshot with zbarimg and opened on the teacher's phone,
   where the teacher confirms the check-in.
3. The school admin verifies both entries at once in the verification queue; the district admin certifies both at
   once in the certification queue.
4. The teacher sees both certified on 我的学时; the district admin issues the certificate of this year's certified
   hours; the teacher downloads the PDF from 我的证书; the QR code printed in it (pdftoppm → zbarimg) opens the
   public check in a browser with no login, and it says valid with the masked name and the hours.

Nothing is mocked: the QR codes are read the way a phone would read them, from pixels.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from backend.kit.clock import SHANGHAI
from backend.kit.i18n import translate
from tests.browser.conftest import DESKTOP, PYTHON, Account, LiveServer, _run, new_context

SCHOOL = ("SJ-E2E-CR", "松江区学时认定实验学校")
TEACHER = Account("credit-teacher", "钱晓红", "e2e-CreditTeacher-pass")
SCHOOL_ADMIN = Account("credit-school-admin", "吴主任", "e2e-CreditSchool-pass")
DISTRICT_ADMIN = Account("credit-district-admin", "郑老师", "e2e-CreditDistrict-pass")
EXTERNAL_TITLE = "上海市班主任专业能力提升培训（市级）"
EXTERNAL_HOURS = Decimal("8.0")
SESSION_TITLE = "家校沟通中的倾听与回应"
SESSION_HOURS = Decimal("3.0")  # policy default for a half day (DOMAIN.md, related rules)

# The school and the three accounts in one interpreter (each `portal` command costs a start-up).
_ACCOUNTS = """
import backend.models_registry
from backend.accounts import service
from backend.config import get_settings
from backend.db import session_factory
from backend.people import schools as people

session = session_factory(get_settings())()
district = people.ensure_district(session, "songjiang", "松江区")
school = people.ensure_school(session, district, {code!r}, {name!r}, "primary")
for username, display_name, password, role, in_school in {accounts!r}:
    service.create_user(session, username=username, display_name=display_name, password=password, role=role,
                        school_id=school.id if in_school else None)
session.commit()
"""


@dataclass
class People:
    teacher: Page
    school_admin: Page
    district_admin: Page


def zh(msgid: str, **params: object) -> str:
    text = translate("zh_CN", msgid, **params)
    assert re.search(r"[\u4e00-\u9fff]", text), f"no Chinese translation for {msgid!r} in the zh_CN catalog"
    return text


def shot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"credits-{name}.png"), full_page=True)


def log_in(page: Page, base: str, account: Account) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", account.username)
    page.fill("#password", account.password)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator(".who")).to_have_text(account.name)


def decode_qr(image: Path) -> str:
    """What a phone's camera app would read: zbarimg on the pixels, exactly one QR code."""
    done = subprocess.run(  # noqa: S603 - fixed command, our own file
        ["zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", str(image)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    codes = done.stdout.split()
    assert done.returncode == 0 and len(codes) == 1, f"expected one QR code in {image}: {done.stdout!r} {done.stderr!r}"
    return codes[0]


def evidence_pdf(folder: Path) -> Path:
    """A one-page attendance proof, as a teacher would photograph or download it."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(0, 10, "Certificate of attendance - Shanghai homeroom teacher training, 8 hours")
    path = folder / "attendance-proof.pdf"
    path.write_bytes(bytes(pdf.output()))
    return path


def session_times(now: datetime) -> tuple[str, str]:
    """A session under way: started within the last hour, ending within the next, inside today."""
    start = max(datetime.combine(now.date(), time(0, 0), SHANGHAI), now - timedelta(minutes=30))
    end = min(datetime.combine(now.date(), time(23, 59), SHANGHAI), now + timedelta(minutes=60))
    return start.strftime("%H:%M"), end.strftime("%H:%M")


@pytest.fixture
def people(live_server: LiveServer, browser: Any) -> Any:
    accounts = [
        (TEACHER.username, TEACHER.name, TEACHER.password, "teacher", True),
        (SCHOOL_ADMIN.username, SCHOOL_ADMIN.name, SCHOOL_ADMIN.password, "school_admin", True),
        (DISTRICT_ADMIN.username, DISTRICT_ADMIN.name, DISTRICT_ADMIN.password, "district_admin", False),
    ]
    script = _ACCOUNTS.format(code=SCHOOL[0], name=SCHOOL[1], accounts=accounts)
    _run([str(PYTHON), "-c", script], live_server.env, live_server.tmp)
    contexts = [new_context(browser), new_context(browser, DESKTOP), new_context(browser, DESKTOP)]
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


def test_external_record_and_offline_session_end_in_a_certificate_whose_qr_says_valid(
    live_server: LiveServer, people: People, browser: Any, screenshots: Path, tmp_path: Path
) -> None:
    assert shutil.which("zbarimg") and shutil.which("pdftoppm"), "install poppler-utils and zbar-tools"
    base = live_server.url
    teacher, school_admin, district_admin = people.teacher, people.school_admin, people.district_admin
    now = datetime.now(SHANGHAI)

    # 1. The teacher, on the phone, adds hours earned elsewhere with the proof.
    log_in(teacher, base, TEACHER)
    teacher.goto(f"{base}/credits/mine")
    teacher.locator("#external a[href='/credits/external/new']").click()
    expect(teacher).to_have_url(re.compile(r"/credits/external/new$"))
    teacher.fill("#title", EXTERNAL_TITLE)
    teacher.fill("#hours", str(EXTERNAL_HOURS))
    teacher.fill("#earned_on", now.date().isoformat())
    teacher.select_option("#category", "knowledge_skills")
    teacher.select_option("#level", "city")
    teacher.set_input_files("#file", str(evidence_pdf(tmp_path)))
    shot(teacher, screenshots, "01-external-form")
    teacher.locator("form[action='/credits/external'] button[type=submit]").click()
    expect(teacher).to_have_url(re.compile(r"/credits/mine\?submitted=1#external$"))
    record = teacher.locator("#external tbody tr").filter(has_text=EXTERNAL_TITLE)
    expect(record).to_have_count(1)
    expect(record.locator(".status")).to_have_text(zh("status_pending"))
    expect(record.get_by_role("link", name="attendance-proof.pdf")).to_be_visible()
    record.scroll_into_view_if_needed()
    shot(teacher, screenshots, "02-external-pending")

    # 2. The school admin schedules a school-based session happening now and puts its code on the projector.
    log_in(school_admin, base, SCHOOL_ADMIN)
    school_admin.goto(f"{base}/training/new")
    starts, ends = session_times(now)
    school_admin.fill("#title", SESSION_TITLE)
    school_admin.fill("#theme", "倾听与回应")
    school_admin.select_option("#tier", index=1)
    school_admin.select_option("#level", "school")
    school_admin.select_option("#category", "practice")
    school_admin.fill("#day", now.date().isoformat())
    school_admin.fill("#start_time", starts)
    school_admin.fill("#end_time", ends)
    school_admin.check("input[name=duration][value=half]")
    shot(school_admin, screenshots, "03-schedule-form")
    school_admin.locator("form[action='/training'] button[type=submit]").click()
    expect(school_admin).to_have_url(re.compile(r"/training/sessions/\d+\?notice=scheduled$"))
    session_id = int(re.search(r"/training/sessions/(\d+)", school_admin.url).group(1))  # type: ignore[union-attr]
    school_admin.locator(f"a[href='/training/sessions/{session_id}/qr']").click()
    code_box = school_admin.locator("#qr-code .qr-box svg")
    expect(code_box).to_be_visible()
    expect(school_admin.locator("#qr-code .qr-count")).to_contain_text("0")
    shot(school_admin, screenshots, "04-projector-code")

    # The teacher's phone reads the code off the screen and opens what it says.
    code_png = tmp_path / "projector-code.png"
    code_box.screenshot(path=str(code_png))
    scanned = decode_qr(code_png)
    assert re.fullmatch(rf"{re.escape(base)}/training/c/{session_id}-\d+-[\w-]+", scanned), scanned
    teacher.goto(scanned)
    expect(teacher).to_have_url(f"{base}/training/sessions/{session_id}/checkin")
    confirm = teacher.locator(f"form[action='/training/sessions/{session_id}/checkin'] button[type=submit]")
    expect(confirm).to_contain_text(TEACHER.name)
    shot(teacher, screenshots, "05-checkin-confirm")
    confirm.click()
    expect(teacher.locator(".checkin-result")).to_be_visible()
    expect(teacher.locator(".checkin .bignum strong")).to_have_text(str(SESSION_HOURS))
    shot(teacher, screenshots, "06-checked-in")
    # The projector counts the teacher within a rotation.
    school_admin.reload()
    expect(school_admin.locator("#qr-code .qr-count")).to_contain_text("1")

    # 3. The school admin verifies both entries at once.
    school_admin.goto(f"{base}/credits/queue")
    rows = school_admin.locator("#results tbody tr").filter(has_text=TEACHER.name)
    expect(rows).to_have_count(2)
    # Each entry is named after what it is: the record's title and the session's title.
    expect(rows.filter(has_text=EXTERNAL_TITLE)).to_have_count(1)
    expect(rows.filter(has_text=SESSION_TITLE)).to_have_count(1)
    for row in rows.all():
        expect(row.locator(".status")).to_have_text(zh("status_pending"))
        row.locator("input[name=entry]").check()
    shot(school_admin, screenshots, "07-verification-queue")
    school_admin.locator("#results button[name=action][value=verify]").click()
    expect(school_admin.locator("#results .alert.success")).to_be_visible()
    school_admin.goto(f"{base}/credits/queue?status=verified")
    expect(school_admin.locator("#results tbody tr").filter(has_text=TEACHER.name)).to_have_count(2)
    shot(school_admin, screenshots, "08-verified")

    # The district admin certifies both at once (the certification queue opens on verified entries).
    log_in(district_admin, base, DISTRICT_ADMIN)
    district_admin.goto(f"{base}/credits/queue")
    rows = district_admin.locator("#results tbody tr").filter(has_text=TEACHER.name)
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=SCHOOL[1])).to_have_count(2)
    for row in rows.all():
        expect(row.locator(".status")).to_have_text(zh("status_verified"))
        row.locator("input[name=entry]").check()
    shot(district_admin, screenshots, "09-certification-queue")
    district_admin.locator("#results button[name=action][value=certify]").click()
    expect(district_admin.locator("#results .alert.success")).to_be_visible()

    # 4. 我的学时: both certified, the year's certified total is their sum.
    total = EXTERNAL_HOURS + SESSION_HOURS
    teacher.goto(f"{base}/credits/mine")
    year_table = teacher.locator("table.hours-ledger").filter(has=teacher.locator("caption", has_text=str(now.year)))
    expect(year_table.locator("tbody tr")).to_have_count(2)
    expect(year_table.locator("tbody .status.certified")).to_have_count(2)
    expect(year_table.locator("tbody tr").filter(has_text=SESSION_TITLE)).to_have_count(1)
    expect(year_table.locator("caption")).to_contain_text(str(total))
    expect(teacher.locator("#external .status")).to_have_text(zh("status_certified"))
    shot(teacher, screenshots, "10-my-hours-certified")

    # The district admin issues the certificate of this year's certified hours.
    district_admin.goto(f"{base}/admin/certificates")
    district_admin.fill("#username", TEACHER.username)
    district_admin.fill("#year", str(now.year))
    district_admin.locator("form[action='/admin/certificates/year'] button").click()
    expect(district_admin).to_have_url(re.compile(r"/admin/certificates/SJBZR-\d{4}-[0-9A-Z]{8}$"))
    number = district_admin.url.rsplit("/", 1)[1]
    expect(district_admin.locator("main")).to_contain_text(str(total))
    shot(district_admin, screenshots, "11-certificate-issued")

    # The teacher downloads it from 我的证书.
    teacher.goto(f"{base}/certificates")
    card = teacher.locator("#my-certificates li").filter(has_text=number)
    expect(card).to_contain_text(str(total))
    shot(teacher, screenshots, "12-my-certificates")
    with teacher.expect_download() as download_info:
        card.locator(f"a[href='/certificates/{number}.pdf']").click()
    download = download_info.value
    assert download.suggested_filename == f"{number}.pdf"
    pdf = tmp_path / download.suggested_filename
    download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")

    # Its QR code, read from the rendered page, opens the public check: valid, masked name, the hours.
    subprocess.run(  # noqa: S603 - fixed command, our own files
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(tmp_path / "certificate")],
        check=True, timeout=60,
    )  # fmt: skip
    shutil.copy(tmp_path / "certificate.png", screenshots / "credits-13-certificate-pdf.png")
    verify_url = decode_qr(tmp_path / "certificate.png")
    assert verify_url == f"{base}/verify/{number}", verify_url
    stranger = new_context(browser)
    try:
        check = stranger.new_page()
        check.goto(verify_url)
        verdict = check.locator("#verdict .verdict.valid")
        expect(verdict).to_have_text(re.compile(re.escape(zh("This certificate is valid."))))
        expect(verdict).to_contain_text("有效")
        # What it is, for which year, whose (masked), how many hours, issued when (issue 18).
        facts = check.locator("#verdict dd")
        expect(facts.nth(0)).to_have_text(zh("Certificate of certified hours"))
        expect(facts.nth(1)).to_contain_text("年度")
        expect(facts.nth(2)).to_have_text("钱*红")
        expect(facts.nth(3)).to_contain_text(str(total))
        expect(facts.nth(4)).to_contain_text("年")
        assert TEACHER.name not in check.locator("body").inner_text()
        shot(check, screenshots, "14-verify-valid")
    finally:
        stranger.close()
