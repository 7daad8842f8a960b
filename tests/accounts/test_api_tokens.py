"""Integration tokens for district systems: a district admin creates one on a page (its value shown once, only a hash
kept), the HR system reads what its scopes allow and nothing else, and an expired or revoked token opens nothing."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts import tokens
from backend.accounts.models import ApiToken, Role, User
from backend.audit.models import AuditEvent
from backend.credits.models import LedgerEntry
from backend.kit import clock as server_clock
from backend.kit.i18n import translate
from backend.people.models import TeacherProfile
from tests.api.helpers import login
from tests.conftest import ManualClock
from tests.factories import make_user

VALUE_RE = re.compile(r'id="issued-value"[^>]*value="(sji_[^"]+)"')


def district_admin(session: Session) -> User:
    return make_user(session, Role.district_admin, school_code=None)


def issue(session: Session, admin: User, *scopes: str, days: int = 90) -> str:
    return tokens.create_integration_token(session, admin, name="区人事系统", scopes=scopes, days=days).value


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def teacher_at(session: Session, school: str, name: str, staff_no: str | None = None) -> User:
    user = make_user(session, Role.teacher, school_code=school, display_name=name)
    session.add(
        TeacherProfile(user_id=user.id, staff_no=staff_no, tier="horizon", status="trainee",
                       teaching_start=date(2001, 9, 1))
    )  # fmt: skip
    session.flush()
    return user


def ledger(session: Session, user: User, hours: str, category: str, status: str, year: int = 2026) -> None:
    session.add(
        LedgerEntry(
            user_id=user.id, hours=Decimal(hours), category=category, level="district", source="external",
            source_ref=uuid.uuid4().hex, year=year, status=status, created_at=server_clock.now(),
        )
    )  # fmt: skip
    session.flush()


# --- the page --------------------------------------------------------------------------------------------------------


def test_district_admin_creates_a_token_whose_value_is_shown_once_and_kept_only_as_a_hash(
    client: TestClient, session: Session
) -> None:
    admin = district_admin(session)
    csrf = login(client, admin.username)
    assert "/admin/tokens" in client.get("/learning").text  # in the admin's navigation

    created = client.post(
        "/admin/tokens",
        data={"csrf_token": csrf, "name": "区人事系统", "scopes": ["records:read", "credits:export"], "days": "90"},
    )

    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    match = VALUE_RE.search(created.text)
    assert match, created.text
    value = match.group(1)
    stored = session.scalar(select(ApiToken).where(ApiToken.name == "区人事系统"))
    assert stored is not None and stored.user_id == admin.id
    assert stored.token_hash == hashlib.sha256(value.encode()).hexdigest()
    assert stored.scopes == "credits:export records:read"
    assert (stored.expires_at - stored.created_at).days == 90
    # Listed afterwards (never used yet), but its value is never shown again.
    listing = client.get("/admin/tokens").text
    assert "区人事系统" in listing and value not in listing
    assert translate("zh_CN", "Never used") in listing
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "token.create"))
    assert event is not None and event.actor_id == admin.id and value not in json.dumps(event.after)


def test_a_token_form_without_name_or_permission_says_what_to_fix(client: TestClient, session: Session) -> None:
    admin = district_admin(session)
    csrf = login(client, admin.username)

    response = client.post("/admin/tokens", data={"csrf_token": csrf, "name": " ", "days": "7"})

    assert response.status_code == 422
    for msgid in (
        "Give the token a name of 1 to 100 characters, e.g. the system that will use it.",
        "Choose at least one permission.",
        "Choose how long the token stays valid.",
    ):
        assert translate("zh_CN", msgid) in response.text
    assert session.scalar(select(ApiToken.id)) is None
    # A control character would only reach PostgreSQL as an error: it is a field message instead.
    nul = client.post(
        "/admin/tokens", data={"csrf_token": csrf, "name": "HR\x00", "scopes": ["records:read"], "days": "90"}
    )
    assert nul.status_code == 422 and session.scalar(select(ApiToken.id)) is None


def test_only_district_admins_see_and_revoke_tokens(client: TestClient, session: Session) -> None:
    value = issue(session, district_admin(session), "records:read")
    token_id = session.scalar(select(ApiToken.id).where(ApiToken.scopes.is_not(None)))
    assert client.get("/admin/tokens", follow_redirects=False).status_code == 303  # anonymous: to the login page

    for role in (Role.teacher, Role.trainer, Role.school_admin):
        user = make_user(session, role)
        csrf = login(client, user.username)
        assert client.get("/admin/tokens").status_code == 403
        assert client.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf}).status_code == 403
        client.cookies.clear()
    assert client.get("/api/v1/records/teachers", headers=bearer(value)).status_code == 200


def test_a_revoked_token_opens_nothing_and_shows_as_revoked(client: TestClient, session: Session) -> None:
    admin = district_admin(session)
    value = issue(session, admin, "records:read")
    token_id = session.scalar(select(ApiToken.id).where(ApiToken.scopes.is_not(None)))
    assert client.get("/api/v1/records/teachers", headers=bearer(value)).status_code == 200
    csrf = login(client, admin.username)

    # The button works with htmx (the list is re-rendered in place) and without.
    revoked = client.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf}, headers={"HX-Request": "true"})

    assert revoked.status_code == 200 and 'id="token-list"' in revoked.text and "<h1>" not in revoked.text
    assert translate("zh_CN", "Revoked") in revoked.text
    refused = client.get("/api/v1/records/teachers", headers=bearer(value))
    assert refused.status_code == 401 and refused.json()["error"] == "not_authenticated"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "token.refused"))
    assert event is not None and event.subject_id == str(token_id) and value not in json.dumps(event.after)
    again = client.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert again.status_code == 303  # revoking twice is harmless
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "token.revoke")) is not None


def test_an_expired_token_opens_nothing(client: TestClient, session: Session, clock: ManualClock) -> None:
    value = issue(session, district_admin(session), "records:read", days=30)
    clock.advance(29 * 86400)
    assert client.get("/api/v1/records/teachers", headers=bearer(value)).status_code == 200
    clock.advance(1 * 86400)
    assert client.get("/api/v1/records/teachers", headers=bearer(value)).status_code == 401


def test_a_token_stops_when_its_creator_is_no_longer_a_district_admin(client: TestClient, session: Session) -> None:
    admin = district_admin(session)
    value = issue(session, admin, "records:read")
    admin.role = Role.school_admin
    session.flush()
    assert client.get("/api/v1/records/teachers", headers=bearer(value)).status_code == 401


# --- scopes ----------------------------------------------------------------------------------------------------------


def test_a_records_token_reads_teacher_records_page_by_page_and_nothing_else(
    client: TestClient, session: Session
) -> None:
    value = issue(session, district_admin(session), "records:read")
    school = f"S-{uuid.uuid4().hex[:6]}"
    names = ["甲老师", "乙老师", "丙老师"]
    for i, name in enumerate(names):
        teacher_at(session, school, name, staff_no=f"{school}-{i}")
    teacher_at(session, "OTHER-01", "别校老师")

    first = client.get("/api/v1/records/teachers", params={"school": school, "size": 2}, headers=bearer(value))
    second = client.get(
        "/api/v1/records/teachers", params={"school": school, "size": 2, "page": 2}, headers=bearer(value)
    )

    assert first.status_code == 200
    body = first.json()
    assert (body["total"], body["pages"], body["page"], body["size"]) == (3, 2, 1, 2)
    rows = body["items"] + second.json()["items"]
    assert [r["name"] for r in rows] == names
    assert rows[0] | {"id": 0} == {
        "id": 0, "staff_no": f"{school}-0", "name": "甲老师", "school": school, "school_name": f"测试学校{school}",
        "tier": "horizon", "status": "trainee", "teaching_start": "2001-09-01", "active": True,
    }  # fmt: skip
    unknown = client.get("/api/v1/records/teachers", params={"school": "NOPE"}, headers=bearer(value))
    assert unknown.status_code == 404 and unknown.json()["detail"]
    for bad in ({"size": 0}, {"size": 501}, {"page": 0}, {"school": "A\x00"}, {"school": "X" * 33}):
        assert client.get("/api/v1/records/teachers", params=bad, headers=bearer(value)).status_code == 422, bad

    # Outside its scope, the token is refused: another scope's endpoint, and the ordinary API.
    export = client.get("/api/v1/credits/export", params={"year": 2026}, headers=bearer(value))
    assert export.status_code == 403 and "credits:export" in export.json()["detail"]
    assert client.get("/api/v1/me", headers=bearer(value)).status_code == 403
    assert client.get("/api/v1/records/teachers").status_code == 401  # and nothing without a token


def test_each_use_is_audited_and_shown_as_last_use_without_the_token_value(
    client: TestClient, session: Session, clock: ManualClock
) -> None:
    value = issue(session, district_admin(session), "records:read")
    clock.advance(3600)
    assert client.get("/api/v1/records/teachers", headers=bearer(value)).status_code == 200

    token = session.scalar(select(ApiToken).where(ApiToken.scopes.is_not(None)))
    assert token is not None and token.last_used_at == clock.now()
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "token.use"))
    assert event is not None and event.subject_id == str(token.id)
    assert event.after == {"scope": "records:read", "path": "/api/v1/records/teachers"}
    assert value not in json.dumps([event.before, event.after, event.subject_id])


def test_a_personal_login_token_cannot_call_the_integration_api(client: TestClient, session: Session) -> None:
    from tests.factories import PASSWORD

    admin = district_admin(session)
    personal = client.post("/api/v1/auth/token", json={"username": admin.username, "password": PASSWORD})
    assert personal.status_code == 200
    value = personal.json()["token"]
    assert client.get("/api/v1/me", headers=bearer(value)).status_code == 200
    assert client.get("/api/v1/records/teachers", headers=bearer(value)).status_code == 401


def test_a_credits_token_exports_certified_hours_per_teacher_and_category(client: TestClient, session: Session) -> None:
    value = issue(session, district_admin(session), "credits:export")
    school = f"S-{uuid.uuid4().hex[:6]}"
    wang = teacher_at(session, school, "王老师", staff_no=f"{school}-w")
    li = teacher_at(session, school, "李老师", staff_no=f"{school}-l")
    ledger(session, wang, "4.0", "ethics", "certified")
    ledger(session, wang, "2.5", "knowledge_skills", "certified")
    ledger(session, wang, "1.5", "knowledge_skills", "certified")
    ledger(session, wang, "9.0", "practice", "pending")  # not yet certified: not exported
    ledger(session, wang, "3.0", "ethics", "certified", year=2025)  # another year
    ledger(session, li, "6.0", "practice", "verified")  # verified by the school only

    response = client.get("/api/v1/credits/export", params={"year": 2026, "school": school}, headers=bearer(value))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 1
    assert body["items"] == [
        {
            "user_id": wang.id, "staff_no": f"{school}-w", "name": "王老师", "school": school, "year": 2026,
            "certified_hours": "8.0", "by_category": {"ethics": "4.0", "knowledge_skills": "4.0"},
        }
    ]  # fmt: skip
    assert client.get("/api/v1/credits/export", headers=bearer(value)).status_code == 422  # the year is required
    assert client.get("/api/v1/records/teachers", headers=bearer(value)).status_code == 403


# --- personal tokens (issue 14): the session limits ---------------------------------------------------------------


def test_a_personal_token_idles_out_and_ends_at_the_session_limit_however_active(
    client: TestClient, session: Session, clock: ManualClock
) -> None:
    from tests.factories import PASSWORD, make_user

    teacher = make_user(session)
    r = client.post("/api/v1/auth/token", json={"username": teacher.username, "password": PASSWORD})
    value = r.json()["token"]
    assert r.status_code == 200 and value.startswith("sjp_")
    for _ in range(23):  # 11.5 hours of use, every half hour less a minute: never idle
        clock.advance(29 * 60)
        assert client.get("/api/v1/me", headers=bearer(value)).status_code == 200
    clock.advance(31 * 60)  # past 12 hours since it was made, however active
    assert client.get("/api/v1/me", headers=bearer(value)).status_code == 401

    value = client.post("/api/v1/auth/token", json={"username": teacher.username, "password": PASSWORD}).json()["token"]
    clock.advance(31 * 60)  # idle longer than the policy's 30 minutes
    assert client.get("/api/v1/me", headers=bearer(value)).status_code == 401
