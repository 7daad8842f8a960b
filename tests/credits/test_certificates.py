"""Certificates: a teacher takes the certificate of a completed course, downloads the PDF, and anyone who scans its
QR code sees on the public check that it is valid; the district revokes one; the check is rate-limited per client
address in the database, so every replica counts the same requests.

The PDF is read the way a person would: pdftotext for the words, pdftoppm for the picture, zbarimg (a real QR
decoder) for the code. `make system-test-deps` installs poppler-utils and zbar-tools.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.app import create_app
from backend.audit import service as audit
from backend.catalogue.models import Course
from backend.credits import certificates, workflow
from backend.credits import ledger as credits
from backend.credits.certificate_models import Certificate
from backend.credits.models import LedgerEntry
from backend.kit.state import state_of
from backend.learning.models import Enrollment
from backend.people.models import ServicePeriod
from backend.policies.service import set_policy
from backend.policies.taxonomy import TOPICS
from backend.quizzes import service as quizzes
from tests.api.helpers import login
from tests.factories import correct_answers, make_course, make_user

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "certificates"
NUMBER = re.compile(r"SJBZR-\d{4}-[0-9A-HJKMNP-TV-Z]{8}")
COMPLETED = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


@dataclass
class Completed:
    teacher: User
    course: Course


def _complete(session: Session, teacher: User, course: Course, hours: str, status: str = "certified") -> None:
    """What the learning service leaves when a course is completed: the enrollment and its ledger entry."""
    enrollment = Enrollment(
        user_id=teacher.id, course_id=course.id, enrolled_at=COMPLETED - timedelta(days=3), completed_at=COMPLETED
    )
    session.add(enrollment)
    session.flush()
    entry = LedgerEntry(
        user_id=teacher.id,
        hours=Decimal(hours),
        category="knowledge_skills",
        level="district",
        source="course_completion",
        source_ref=f"enrollment:{enrollment.id}",
        course_id=course.id,
        year=2026,
        status=status,
        created_at=COMPLETED,
    )
    credits.tag(session, entry, credits.induction_topics_of_course(session, course.id))  # as the service does
    session.add(entry)
    session.flush()


def _teacher_with_course(session: Session, name: str = "张晓明", school: str = "S-A") -> Completed:
    teacher = make_user(session, school_code=school, display_name=name)
    course = make_course(session, title="家校沟通入门", hours="4.0", with_quiz=False)
    _complete(session, teacher, course, "4.0")
    return Completed(teacher, course)


def _numbers(html: str) -> list[str]:
    return list(dict.fromkeys(NUMBER.findall(html)))


def _claim_course(client: TestClient, token: str, course_id: int) -> str:
    r = client.post(f"/certificates/courses/{course_id}", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    numbers = _numbers(client.get("/certificates").text)
    assert numbers, "the issued certificate is listed on 我的证书"
    return numbers[0]


def _certified(session: Session, teacher: User, year: int, hours: str, status: str = "certified") -> LedgerEntry:
    entry = LedgerEntry(
        user_id=teacher.id,
        hours=Decimal(hours),
        category="practice",
        level="school",
        source="offline_session",
        source_ref=f"session:{teacher.id}:{year}:{hours}:{status}",
        course_id=None,
        year=year,
        status=status,
        created_at=datetime(year, 6, 1, tzinfo=UTC),
    )
    session.add(entry)
    session.flush()
    return entry


# --- the PDF -------------------------------------------------------------------------------------------------------


def test_teacher_downloads_course_certificate_whose_qr_code_opens_the_valid_check(client, session, tmp_path) -> None:
    story = _teacher_with_course(session)
    token = login(client, story.teacher.username)

    page = client.get("/certificates").text
    assert "家校沟通入门" in page and f'action="/certificates/courses/{story.course.id}"' in page
    number = _claim_course(client, token, story.course.id)

    pdf = client.get(f"/certificates/{number}.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    path = tmp_path / f"{number}.pdf"
    path.write_bytes(pdf.content)

    # The words, as a PDF reader extracts them: the Chinese survives embedding (ToUnicode) and nothing is a box.
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert number in text
    assert (
        "张晓明" in text
        and "结业证书" in text
        and "家校沟通入门" in text
        and re.search(r"获得培训学时：\s*4\.0\s*学时", text)
    )
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "NotoSerifCJKSC" in fonts or "NotoSansCJKSC" in fonts
    assert all(line.split()[-5:-3] == ["yes", "yes"] for line in fonts.splitlines()[2:]), fonts  # embedded, subset

    # The picture, and the QR code in it read by a real decoder.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-singlefile", str(path), str(ARTIFACTS / "course")], check=True)
    decoded = subprocess.run(
        ["zbarimg", "-q", "--raw", str(ARTIFACTS / "course.png")], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert decoded == f"http://testserver/verify/{number}"

    client.cookies.clear()  # the public check needs no login
    check = client.get(decoded.removeprefix("http://testserver"))
    assert check.status_code == 200
    assert 'class="verdict valid"' in check.text
    assert "张*明" in check.text and "4.0" in check.text
    assert "张晓明" not in check.text  # the name masked; what it certifies and when is said (issue 18)
    assert "家校沟通入门" in check.text and "2026年" in check.text


def test_pdf_of_a_year_certificate_states_the_year_and_hours(session) -> None:
    teacher = make_user(session, display_name="欧阳晓明")
    admin = make_user(session, role=Role.district_admin, school_code=None)
    _certified(session, teacher, 2025, "20.5")
    certificate = certificates.issue_year_certificate(session, admin, teacher.username, "2025")
    pdf = certificates.render_pdf(certificate, f"https://bzr.example.cn/verify/{certificate.number}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "year.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert certificate.number in text and "学时证明" in text and "2025年度" in text and re.search(r"20\.5\s*学时", text)
    assert "欧阳晓明" in text


# --- issuing -------------------------------------------------------------------------------------------------------


def test_taking_the_same_certificate_twice_returns_the_first(client, session) -> None:
    story = _teacher_with_course(session)
    token = login(client, story.teacher.username)
    home = client.get("/learning").text  # 我的学习 leads to 我的证书: the nav item and the completed course's link
    assert home.count('href="/certificates"') >= 2
    first = _claim_course(client, token, story.course.id)
    again = client.post(f"/certificates/courses/{story.course.id}", data={"csrf_token": token}, follow_redirects=False)
    assert again.status_code == 303
    assert _numbers(client.get("/certificates").text) == [first]
    assert session.scalar(select(Certificate.number).where(Certificate.user_id == story.teacher.id)) == first
    # The button is gone once the certificate exists.
    assert f'action="/certificates/courses/{story.course.id}"' not in client.get("/certificates").text


def test_no_certificate_for_a_course_not_completed_or_whose_hours_were_rejected(client, session) -> None:
    teacher = make_user(session, display_name="王芳")
    started = make_course(session, title="未完成课程", with_quiz=False)
    session.add(Enrollment(user_id=teacher.id, course_id=started.id, enrolled_at=COMPLETED))
    rejected = make_course(session, title="被退回课程", with_quiz=False)
    _complete(session, teacher, rejected, "2.0", status="rejected")
    token = login(client, teacher.username)

    page = client.get("/certificates").text
    assert "未完成课程" not in page and "被退回课程" not in page
    for course in (started, rejected):
        r = client.post(f"/certificates/courses/{course.id}", data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 409
    assert session.scalar(select(Certificate).where(Certificate.user_id == teacher.id)) is None


def test_a_course_certificate_waits_until_the_courses_hours_are_certified(client, session) -> None:
    """Issue 13: a certificate states certified hours only, so a course whose hours are still 待核定 or 已核定 has
    no certificate yet (and the refusal says why)."""
    teacher = make_user(session, display_name="王芳")
    course = make_course(session, title="待认定课程", hours="4.0", with_quiz=False)
    _complete(session, teacher, course, "4.0", status="verified")
    token = login(client, teacher.username)
    assert f'action="/certificates/courses/{course.id}"' not in client.get("/certificates").text
    r = client.post(f"/certificates/courses/{course.id}", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 409 and ("认定" in r.text or "hours are certified" in r.text)
    assert session.scalar(select(Certificate).where(Certificate.user_id == teacher.id)) is None


def _pass_assessment(session: Session, teacher: User) -> None:
    exam = make_course(session, title="上岗考核", topics=("norms",), hours="0.5")
    set_policy(session, "induction_assessment_course", exam.code, None)
    quiz = quizzes.quiz_for_course(session, exam.id)
    assert quiz is not None
    quizzes.submit_attempt(session, quiz, teacher.id, correct_answers(quiz))


def test_induction_certificate_once_every_condition_is_met(client, session) -> None:
    """Issue 13: 32 certified hours (31.5 certified and 0.5 pending is not enough), all eight topics, the assessment
    passed and the trainee year; the certificate states the certified hours."""
    teacher = make_user(session, display_name="李明")
    token = login(client, teacher.username)
    refused = client.post("/certificates/induction", data={"csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 409

    half = make_course(
        session, title="上岗培训（上）", topics=tuple(t.code for t in TOPICS[:4]), hours="16.0", with_quiz=False
    )
    _complete(session, teacher, half, "16.0")
    rest = make_course(
        session, title="上岗培训（下）", topics=tuple(t.code for t in TOPICS[4:]), hours="15.5", with_quiz=False
    )
    _complete(session, teacher, rest, "15.5")
    extra = make_course(session, title="上岗培训（补）", topics=("norms",), hours="0.5", with_quiz=False)
    _complete(session, teacher, extra, "0.5", status="pending")
    session.add(ServicePeriod(user_id=teacher.id, kind="trainee", start=date(2024, 9, 1)))
    _pass_assessment(session, teacher)
    session.flush()
    # 31.5 certified + 0.5 pending: every other condition is met, the hours are not.
    assert 'action="/certificates/induction"' not in client.get("/certificates").text
    assert client.post("/certificates/induction", data={"csrf_token": token}, follow_redirects=False).status_code == 409

    entry = session.scalars(select(LedgerEntry).where(LedgerEntry.course_id == extra.id)).one()
    session.execute(update(LedgerEntry).where(LedgerEntry.id == entry.id).values(status="certified"))
    session.expire_all()
    assert 'action="/certificates/induction"' in client.get("/certificates").text
    r = client.post("/certificates/induction", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    certificate = session.scalars(select(Certificate).where(Certificate.kind == "induction")).one()
    assert certificate.user_id == teacher.id and certificate.hours == Decimal("32.0")
    assert certificate.title == "初任班主任上岗培训"


@pytest.mark.parametrize("missing", ["assessment", "trainee"])
def test_no_induction_certificate_without_the_assessment_or_the_trainee_year(client, session, missing) -> None:
    teacher = make_user(session, display_name="周洁")
    course = make_course(session, title="上岗培训", topics=tuple(t.code for t in TOPICS), hours="32.0", with_quiz=False)
    _complete(session, teacher, course, "32.0")
    if missing != "trainee":
        session.add(ServicePeriod(user_id=teacher.id, kind="trainee", start=date(2024, 9, 1)))
    if missing != "assessment":
        _pass_assessment(session, teacher)
    session.flush()
    token = login(client, teacher.username)
    assert client.post("/certificates/induction", data={"csrf_token": token}, follow_redirects=False).status_code == 409


def test_admin_issues_a_year_certificate_of_certified_hours_only(client, session) -> None:
    teacher = make_user(session, school_code="S-A", display_name="赵敏")
    _certified(session, teacher, 2025, "6.0")
    _certified(session, teacher, 2025, "3.0")
    _certified(session, teacher, 2025, "5.0", status="verified")  # not yet certified by the district
    _certified(session, teacher, 2024, "7.0")  # another year
    admin = make_user(session, role=Role.district_admin, school_code=None)
    wrong = _certified(session, teacher, 2025, "2.0")
    workflow.reverse(session, admin, wrong.id, "录入错误")  # a certified correction of -2.0
    token = login(client, admin.username)

    r = client.post(
        "/admin/certificates/year",
        data={"csrf_token": token, "username": teacher.username, "year": "2025"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    number = r.headers["location"].rsplit("/", 1)[1]
    certificate = session.scalars(select(Certificate).where(Certificate.number == number)).one()
    assert (certificate.kind, certificate.year, certificate.hours) == ("year_hours", 2025, Decimal("9.0"))

    again = client.post(
        "/admin/certificates/year",
        data={"csrf_token": token, "username": teacher.username, "year": "2025"},
        follow_redirects=False,
    )
    assert again.headers["location"] == r.headers["location"]
    detail = client.get(r.headers["location"]).text
    assert number in detail and "赵敏" in detail and "9.0" in detail and 'id="hours-changed"' not in detail
    assert [e.action for e in audit.events(session, subject_type="certificate")] == ["certificate.issue"]

    # More hours certified later: the certificate keeps its 9.0, and its page tells the admin what to do.
    _certified(session, teacher, 2025, "1.5")
    assert session.scalars(select(Certificate.hours).where(Certificate.number == number)).one() == Decimal("9.0")
    changed = client.get(r.headers["location"]).text
    assert 'id="hours-changed"' in changed and "10.5" in changed


def test_year_certificate_form_says_what_is_wrong_and_issues_nothing(client, session) -> None:
    teacher = make_user(session, school_code="S-A")
    other_school = make_user(session, school_code="S-B")
    _certified(session, other_school, 2025, "8.0")
    school_admin = make_user(session, role=Role.school_admin, school_code="S-A")
    token = login(client, school_admin.username)

    no_hours = client.post(
        "/admin/certificates/year", data={"csrf_token": token, "username": teacher.username, "year": "2025"}
    )
    assert no_hours.status_code == 422
    assert 'id="year-error"' in no_hours.text and f'value="{teacher.username}"' in no_hours.text

    bad = client.post("/admin/certificates/year", data={"csrf_token": token, "username": "nobody", "year": "20x5"})
    assert bad.status_code == 422 and 'id="username-error"' in bad.text and 'id="year-error"' in bad.text

    # A school admin acts on their own school only: the other school's teacher is not found.
    outside = client.post(
        "/admin/certificates/year", data={"csrf_token": token, "username": other_school.username, "year": "2025"}
    )
    assert outside.status_code == 422 and 'id="username-error"' in outside.text
    assert session.scalar(select(Certificate)) is None


def test_teachers_and_trainers_cannot_issue_year_certificates(client, session) -> None:
    teacher = make_user(session)
    _certified(session, teacher, 2025, "8.0")
    token = login(client, teacher.username)
    r = client.post(
        "/admin/certificates/year", data={"csrf_token": token, "username": teacher.username, "year": "2025"}
    )
    assert r.status_code == 403
    assert client.get("/admin/certificates").status_code == 403


# --- who may download ------------------------------------------------------------------------------------------------


def test_teacher_cannot_download_another_teachers_certificate(client, session) -> None:
    owner = make_user(session, school_code="S-A", display_name="张晓明")
    admin = make_user(session, role=Role.district_admin, school_code=None)
    _certified(session, owner, 2025, "8.0")
    number = certificates.issue_year_certificate(session, admin, owner.username, "2025").number

    colleague = make_user(session, school_code="S-A")
    login(client, colleague.username)
    r = client.get(f"/certificates/{number}.pdf")
    assert r.status_code == 403 and not r.content.startswith(b"%PDF")
    assert number not in client.get("/certificates").text

    other_admin = make_user(session, role=Role.school_admin, school_code="S-B")
    login(client, other_admin.username)
    assert client.get(f"/certificates/{number}.pdf").status_code == 403
    assert client.get(f"/admin/certificates/{number}").status_code == 403
    assert number not in client.get("/admin/certificates").text

    client.cookies.clear()
    anonymous = client.get(f"/certificates/{number}.pdf", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_school_admin_sees_and_downloads_own_school_certificates(client, session) -> None:
    owner = make_user(session, school_code="S-A", display_name="张晓明")
    district = make_user(session, role=Role.district_admin, school_code=None)
    _certified(session, owner, 2025, "8.0")
    number = certificates.issue_year_certificate(session, district, owner.username, "2025").number
    school_admin = make_user(session, role=Role.school_admin, school_code="S-A")
    login(client, school_admin.username)
    listing = client.get("/admin/certificates", params={"q": "张晓"}).text
    assert number in listing
    # The search box asks htmx for the results block only; the same URL without it is the whole page.
    block = client.get("/admin/certificates", params={"q": number.lower()}, headers={"HX-Request": "true"}).text
    assert block.lstrip().startswith('<section id="results"') and number in block and "<html" not in block
    assert number not in client.get("/admin/certificates", params={"q": "李"}).text
    detail = client.get(f"/admin/certificates/{number}").text
    assert "张晓明" in detail and "/revoke" not in detail  # only the district revokes


# --- revoking -------------------------------------------------------------------------------------------------------


def test_district_admin_revokes_with_a_reason_and_the_check_says_revoked(client, session) -> None:
    story = _teacher_with_course(session)
    number = certificates.issue_course_certificate(session, story.teacher, story.course.id).number
    admin = make_user(session, role=Role.district_admin, school_code=None)
    token = login(client, admin.username)

    no_reason = client.post(f"/admin/certificates/{number}/revoke", data={"csrf_token": token, "reason": "  "})
    assert no_reason.status_code == 422 and 'id="reason-error"' in no_reason.text
    assert 'class="verdict valid"' in client.get(f"/verify/{number}").text

    r = client.post(
        f"/admin/certificates/{number}/revoke",
        data={"csrf_token": token, "reason": "学时记录有误，已更正"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    twice = client.post(f"/admin/certificates/{number}/revoke", data={"csrf_token": token, "reason": "再次"})
    assert twice.status_code == 409

    (event,) = [e for e in audit.events(session, action_prefix="certificate.revoke")]
    assert event.actor_id == admin.id and event.after["reason"] == "学时记录有误，已更正"
    assert event.before["status"] == "valid" and event.school_id == story.teacher.school_id

    client.cookies.clear()
    check = client.get(f"/verify/{number}").text
    assert 'class="verdict revoked"' in check and "张*明" in check
    # Revoked: no personal details beyond the masked name, neither hours nor reason.
    assert "4.0" not in check and "学时记录有误" not in check and "张晓明" not in check

    login(client, story.teacher.username)
    mine = client.get("/certificates").text
    assert "学时记录有误，已更正" in mine and f"/certificates/{number}.pdf" not in mine
    assert client.get(f"/certificates/{number}.pdf").status_code == 409
    # A corrected certificate can be taken again, with a new number.
    token = login(client, story.teacher.username)
    renewed = _claim_course(client, token, story.course.id)
    assert renewed != number


def test_school_admin_cannot_revoke(client, session) -> None:
    story = _teacher_with_course(session)
    number = certificates.issue_course_certificate(session, story.teacher, story.course.id).number
    school_admin = make_user(session, role=Role.school_admin, school_code="S-A")
    token = login(client, school_admin.username)
    r = client.post(f"/admin/certificates/{number}/revoke", data={"csrf_token": token, "reason": "不该由学校撤销"})
    assert r.status_code == 403
    assert session.scalars(select(Certificate).where(Certificate.number == number)).one().revoked_at is None


def test_certificate_stays_valid_when_its_course_is_archived(client, session) -> None:
    story = _teacher_with_course(session)
    number = certificates.issue_course_certificate(session, story.teacher, story.course.id).number
    story.course.status = "archived"
    story.course.title = "家校沟通入门（旧版）"
    session.flush()
    check = client.get(f"/verify/{number}").text
    assert 'class="verdict valid"' in check and "4.0" in check
    login(client, story.teacher.username)
    mine = client.get("/certificates").text
    assert "家校沟通入门" in mine and "（旧版）" not in mine and f"/certificates/{number}.pdf" in mine


# --- the public check -------------------------------------------------------------------------------------------------


def test_unknown_and_malformed_numbers_are_unknown(client) -> None:
    for number in ("SJBZR-2026-ZZZZZZZZ", "sjbzr-2026-abcdefgh", '"><img src=x onerror=alert(1)>', "1"):
        r = client.get(f"/verify/{quote(number)}")
        assert r.status_code == 200 and 'class="verdict unknown"' in r.text
        assert "<img src=x" not in r.text
    machine = client.get("/verify/SJBZR-2026-ZZZZZZZZ", headers={"accept": "application/json"}).json()
    assert machine == {"number": "SJBZR-2026-ZZZZZZZZ", "status": "unknown", "holder": None, "hours": None}
    assert (
        client.get("/verify", params={"number": " SJBZR-2026-ZZZZZZZZ "}, follow_redirects=False).headers["location"]
        == "/verify/SJBZR-2026-ZZZZZZZZ"
    )


def test_numbers_are_case_insensitive_and_not_sequential(session) -> None:
    teacher = make_user(session, display_name="张晓明")
    admin = make_user(session, role=Role.district_admin, school_code=None)
    numbers = []
    for year in (2023, 2024, 2025):
        _certified(session, teacher, year, "8.0")
        numbers.append(certificates.issue_year_certificate(session, admin, teacher.username, str(year)).number)
    assert all(NUMBER.fullmatch(n) for n in numbers)
    assert len({n[-8:] for n in numbers}) == 3
    assert certificates.verify(session, numbers[0].lower()).status == "valid"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张晓明", "张*明"),
        ("李明", "李*"),
        ("欧阳晓明", "欧**明"),
        ("王", "*"),
        (" 陈思远 ", "陈*远"),
        ("Li Ming", "L*****g"),
    ],
)
def test_holder_names_are_masked(name: str, masked: str) -> None:
    assert certificates.mask_name(name) == masked


def test_the_check_is_rate_limited_per_address_across_replicas(app, settings, session_maker, storage, clock) -> None:
    """Two app instances (two replicas) share one limit, because the counter lives in the database."""
    limited = settings.model_copy(update={"verify_rate_limit": 5, "verify_rate_window_seconds": 60})
    state_of(app).settings = limited
    replica = create_app(limited)
    state_of(replica).sessionmaker, state_of(replica).storage = session_maker, storage
    address = ("203.0.113.7", 40000)
    with (
        TestClient(app, client=address) as one,
        TestClient(replica, client=address) as two,
        TestClient(app, client=("198.51.100.9", 40000)) as neighbour,
    ):
        for i in range(5):
            r = (one if i % 2 else two).get(f"/verify/SJBZR-2026-AAAAAAA{i}")
            assert r.status_code == 200, i
        refused = one.get("/verify/SJBZR-2026-AAAAAAA9")
        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= 60
        assert "verdict" not in refused.text and 'role="alert"' in refused.text
        assert (
            two.get("/verify/SJBZR-2026-AAAAAAA9", headers={"accept": "application/json"}).json()["error"]
            == "rate_limited"
        )
        assert neighbour.get("/verify/SJBZR-2026-AAAAAAA9").status_code == 200  # another address has its own count

        clock.advance(61)
        assert one.get("/verify/SJBZR-2026-AAAAAAA9").status_code == 200  # a new window


def test_two_requests_issuing_at_once_get_the_same_certificate(session, monkeypatch) -> None:
    """The second request did not see the first one's row when it looked; the unique index among unrevoked
    certificates refuses its insert and it returns the first certificate."""
    teacher = make_user(session, display_name="张晓明")
    admin = make_user(session, role=Role.district_admin, school_code=None)
    _certified(session, teacher, 2025, "8.0")
    first = certificates.issue_year_certificate(session, admin, teacher.username, "2025")
    real_live = certificates._live
    looks = []

    def stale_first_look(session: Session, subject: str) -> Certificate | None:
        looks.append(subject)
        return None if len(looks) == 1 else real_live(session, subject)

    monkeypatch.setattr(certificates, "_live", stale_first_look)
    second = certificates.issue_year_certificate(session, admin, teacher.username, "2025")
    assert second.id == first.id and len(looks) == 2
    assert session.scalar(select(func.count()).select_from(Certificate)) == 1
