"""The district sets a teacher's tier with a history; the teacher record shows both."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit.models import AuditEvent
from backend.kit.errors import Forbidden, InvalidInput
from backend.organisation import scope, tiers
from backend.organisation.models import TierChange
from backend.people.models import TeacherProfile
from tests.api.helpers import login
from tests.organisation.helpers import district_admin, school_admin
from tests.people.helpers import make_teacher, zh


def test_district_sets_a_tier_and_the_record_shows_it_with_its_history(client: TestClient, session: Session) -> None:
    district = district_admin(session)
    teacher = make_teacher(session, "S-A", name="林老师")
    token = login(client, district.username)
    r = client.post(f"/organisation/teachers/{teacher.id}/tier",
                    data={"csrf_token": token, "tier": "horizon", "effective": "2025-09-01", "reason": "新任"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    r = client.post(f"/organisation/teachers/{teacher.id}/tier",
                    data={"csrf_token": token, "tier": "compass", "effective": "2026-09-01", "reason": "骨干"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert session.get(TeacherProfile, teacher.id).tier == "compass"
    page = client.get(f"/admin/teachers/{teacher.id}").text
    assert 'data-current-tier="compass"' in page and "骨干" in page and "新任" in page
    assert page.index("2026年9月1日") < page.index("2025年9月1日")  # latest first
    api = client.get(f"/api/v1/organisation/teachers/{teacher.id}/tiers").json()
    assert api["current"] == "compass" and [h["tier"] for h in api["history"]] == ["compass", "horizon"]
    logged = session.scalars(select(AuditEvent.action).where(AuditEvent.on_behalf_of_id == teacher.id)).all()
    assert logged.count("organisation.tier_set") == 2

    r = client.post(f"/organisation/teachers/{teacher.id}/tier",
                    data={"csrf_token": token, "tier": "gold", "effective": "昨天"})  # fmt: skip
    assert r.status_code == 422
    assert zh("Choose a tier from the list.") in r.text and zh("Enter a date like 2026-09-01.") in r.text
    assert len(session.scalars(select(TierChange)).all()) == 2


def test_a_school_admin_sees_the_history_but_cannot_set_a_tier(client: TestClient, session: Session) -> None:
    admin = school_admin(session)
    teacher = make_teacher(session, "S-A")
    session.get(TeacherProfile, teacher.id).status = "trainee"
    token = login(client, admin.username)
    page = client.get(f"/admin/teachers/{teacher.id}").text
    assert zh("The district sets teachers' tiers.") in page
    assert zh("Horizon") in page  # the policy's suggestion for a trainee
    r = client.post(f"/organisation/teachers/{teacher.id}/tier", data={"csrf_token": token, "tier": "horizon"})
    assert r.status_code == 403
    with pytest.raises(Forbidden):
        tiers.set_tier(session, admin, teacher.id, "horizon")
    assert session.scalar(select(TierChange)) is None


def test_the_suggestion_follows_the_policy(session: Session) -> None:
    from backend.policies.service import set_policy

    district = district_admin(session)
    set_policy(session, "tier_suggested_for_trainees", "compass", district.id)
    teacher = make_teacher(session, "S-A")
    session.get(TeacherProfile, teacher.id).status = "trainee"
    assert tiers.history(session, district, teacher.id).suggested == "compass"
    with pytest.raises(InvalidInput):
        tiers.set_tier(session, district, teacher.id, "horizon", reason="x" * 201)
    change = tiers.set_tier(session, district, teacher.id, "horizon")
    assert change.effective == scope.today()  # no date given: from today
