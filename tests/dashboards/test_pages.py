"""Landing pages per role, the district and school dashboards, their scope, exports and background jobs."""

from __future__ import annotations

import io
import re

import openpyxl
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.accounts.models import Role
from backend.dashboards.models import DashboardJob
from tests.api.helpers import login
from tests.dashboards.helpers import small_district
from tests.factories import make_user


def test_each_role_lands_on_its_own_work(client: TestClient, session: Session) -> None:
    d = small_district(session)
    trainer = make_user(session, Role.trainer, school_code=None)
    teacher = d.idle
    for user, target in (
        (d.admin, "/dashboard"),
        (d.school_admin, f"/dashboard/schools/{d.school_admin.school_id}"),
        (trainer, "/studio"),
        (teacher, "/learning"),
    ):
        login(client, user.username)
        r = client.get("/", follow_redirects=False)
        assert r.headers["location"] == target, user.role
        client.cookies.clear()


def test_district_admin_sees_schools_charts_and_queues(client: TestClient, session: Session) -> None:
    small_district(session)
    admin = make_user(session, Role.district_admin, school_code=None)
    login(client, admin.username)
    first = client.get("/dashboard")  # no snapshot yet: the page says so and a background job builds it
    assert first.status_code == 200
    page = client.get("/dashboard").text
    assert "测试学校D-A" in page and "<svg" in page and 'class="chart' in page
    assert "style=" not in page.split("<main", 1)[1]  # strict CSP: no inline styles in the charts
    assert re.search(r"/dashboard/schools/\d+", page)
    partial = client.get("/dashboard", headers={"HX-Request": "true"})  # the figures block alone, for htmx
    assert partial.status_code == 200 and partial.text.lstrip().startswith('<div id="figures">')
    school_page = client.get(re.search(r"/dashboard/schools/\d+", page).group(0)).text
    assert "乙见习" in school_page and "/credits/teachers/" in school_page
    export = client.get("/dashboard/export.xlsx")
    assert export.status_code == 200
    # Named in Chinese for the browser (RFC 6266) and never kept by a cache: it is the district's records.
    assert "filename*=UTF-8''%E7%9D%A3%E5%AF%BC_" in export.headers["content-disposition"]
    assert export.headers["cache-control"] == "private, no-store"
    book = openpyxl.load_workbook(io.BytesIO(export.content))
    names = [row[1] for row in book["学校"].iter_rows(min_row=2, values_only=True)]
    assert "测试学校D-A" in names
    high = client.get("/dashboard?stage=high").text
    assert "测试学校D-A" not in high.split('id="schools"', 1)[1]


def test_teacher_export_runs_as_a_job_with_progress_and_a_download(client: TestClient, session: Session) -> None:
    small_district(session)
    admin = make_user(session, Role.district_admin, school_code=None)
    token = login(client, admin.username)
    r = client.post("/dashboard/teachers-export", data={"csrf_token": token, "year": ""}, follow_redirects=False)
    assert r.status_code == 303
    job_url = r.headers["location"]
    page = client.get(job_url).text
    job = session.get(DashboardJob, int(job_url.rsplit("/", 1)[1]))
    session.refresh(job)
    assert f"{job_url}/download" in page, (job.state, job.error)
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"{job_url}/download").content))
    assert any(row[1] == "乙见习" for row in book["教师"].iter_rows(min_row=2, values_only=True))
    job = session.get(DashboardJob, int(job_url.rsplit("/", 1)[1]))
    assert job is not None and job.state == "done" and job.percent == 100
    other = make_user(session, Role.district_admin, school_code=None)
    client.cookies.clear()
    login(client, other.username)
    assert client.get(job_url).status_code == 404  # an export is its requester's


def test_a_school_admin_sees_only_their_school(client: TestClient, session: Session) -> None:
    d = small_district(session)
    login(client, d.school_admin.username)
    r = client.get("/dashboard", follow_redirects=False)
    assert r.headers["location"] == f"/dashboard/schools/{d.school_admin.school_id}"
    assert client.get(f"/dashboard/schools/{d.other.school_id}").status_code == 404
    assert client.get(f"/dashboard/schools/{d.school_admin.school_id}").status_code == 200
    client.cookies.clear()
    login(client, d.idle.username)
    assert client.get("/dashboard").status_code == 403
