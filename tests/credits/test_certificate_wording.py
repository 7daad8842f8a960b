"""Issue 18: what a certificate says and how an administrator finds its holder.

- The PDF addresses 王老师 once (no "王老师 老师"), prints the staff number (工号), and names as issuer the office the
  site's footer names.
- The public check says what the certificate is: its kind, its course (or year) and the day of issue.
- A year certificate is issued to a teacher found by name or staff number, not only by username; several teachers
  of the same name are offered to choose from.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from decimal import Decimal

from markupsafe import escape

from backend.accounts.models import Role
from backend.credits import certificates
from backend.credits.models import LedgerEntry
from backend.kit.i18n import translate
from tests.api.helpers import login
from tests.factories import make_user
from tests.people.helpers import make_teacher


def _certified(session, teacher, year: int, hours: str) -> None:  # type: ignore[no-untyped-def]
    session.add(LedgerEntry(user_id=teacher.id, hours=Decimal(hours), category="practice", level="school",
                            source="offline_session", source_ref=f"wording:{teacher.id}:{year}", course_id=None,
                            year=year, status="certified", created_at=datetime(year, 6, 1, tzinfo=UTC)))  # fmt: skip
    session.flush()


def _pdf_text(certificate, tmp_path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.pdf"
    path.write_bytes(certificates.render_pdf(certificate, f"https://bzr.example.cn/verify/{certificate.number}"))
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_certificate_names_its_holder_once_with_staff_number_and_the_sites_issuer(session, tmp_path) -> None:
    admin = make_user(session, Role.district_admin, school_code=None)
    wang = make_teacher(session, name="王老师", staff_no="SJ-1024")
    _certified(session, wang, 2025, "12")
    text = _pdf_text(certificates.issue_year_certificate(session, admin, "王老师", "2025"), tmp_path)
    assert "王老师：" in text and "王老师 老师" not in text and "老师 老师" not in text
    assert "工号：SJ-1024" in text
    assert f"发证单位：{certificates.ISSUER}" in text
    footer = translate("zh_CN", "Songjiang District Education Bureau · Songjiang Moral Education Development Centre")
    assert certificates.ISSUER in footer  # the same office on the site and on the certificate
    assert certificates.salutation("张晓明") == "张晓明 老师："


def test_public_check_says_what_the_certificate_is_for_and_when_it_was_issued(client, session) -> None:
    admin = make_user(session, Role.district_admin, school_code=None)
    teacher = make_teacher(session, name="欧阳晓明", staff_no="SJ-2048")
    _certified(session, teacher, 2025, "20.5")
    certificate = certificates.issue_year_certificate(session, admin, "SJ-2048", "2025")
    page = client.get(f"/verify/{certificate.number}").text.split("<main", 1)[1]
    assert str(escape(translate("zh_CN", "Certificate of certified hours"))) in page
    assert "2025年度" in page and "20.5" in page and "欧**明" in page, page
    issued = certificate.issued_at
    assert f"{issued.year}年" in page and "欧阳晓明" not in page and "SJ-2048" not in page


def test_admin_issues_a_year_certificate_by_name_or_staff_number_and_chooses_among_namesakes(client, session) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    first = make_teacher(session, "S-A", name="李娜", staff_no="A-001")
    second = make_teacher(session, "S-A", name="李娜", staff_no="A-002")
    elsewhere = make_teacher(session, "S-B", name="周敏", staff_no="B-001")
    for t in (first, second, elsewhere):
        _certified(session, t, 2025, "8")
    token = login(client, admin.username)
    page = client.get("/admin/certificates").text
    assert str(escape(translate("zh_CN", "Teacher: name, staff number or username"))) in page

    several = client.post("/admin/certificates/year", data={"csrf_token": token, "username": "李娜", "year": "2025"})
    assert several.status_code == 422
    assert 'name="teacher_id"' in several.text and "A-001" in several.text and "A-002" in several.text
    issue = {"csrf_token": token, "year": "2025"}
    chosen = issue | {"username": "李娜", "teacher_id": str(second.id)}
    assert client.post("/admin/certificates/year", data=chosen, follow_redirects=False).status_code == 303
    by_number = issue | {"username": "A-001"}
    assert client.post("/admin/certificates/year", data=by_number, follow_redirects=False).status_code == 303
    issued = {c.user_id for c in session.query(certificates.Certificate).all()}
    assert issued == {first.id, second.id}
    # Another school's teacher is not found, by name or by a chosen id.
    for data in ({"username": "周敏"}, {"username": "李娜", "teacher_id": str(elsewhere.id)}):
        r = client.post("/admin/certificates/year", data={"csrf_token": token, "year": "2025"} | data)
        assert r.status_code == 422 and 'id="username-error"' in r.text
