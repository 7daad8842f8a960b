"""Workshop evaluation (研制评估指标，做好区、校工作室评估工作): the district's versioned indicator sets, the host's
self-assessment and the district reviewers' scores, with the figures the portal already knows filled in."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import Role
from backend.credits import hours, workflow
from backend.credits.models import LedgerEntry
from backend.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.organisation import evaluation, workshops
from backend.organisation.models import EvaluationScore, WorkshopOutput
from backend.policies.service import load_policy
from backend.training import service as training
from tests.api.helpers import login
from tests.factories import make_user
from tests.organisation.helpers import district_admin, school_admin
from tests.people.helpers import make_teacher

YEAR = 2026  # the clock fixture's today is 2026-11-02


def _published_set(session, district):  # type: ignore[no-untyped-def]
    made = evaluation.create_set(session, district, "区级工作室评估指标")
    evaluation.add_indicator(session, district, made.id, "开展活动", "30", "activities")
    evaluation.add_indicator(session, district, made.id, "成员研修学时", "40", "certified_hours")
    evaluation.add_indicator(session, district, made.id, "辐射引领", "30", "")
    return evaluation.publish(session, district, made.id)


def _activity(session, host, workshop, day: str, title: str):  # type: ignore[no-untyped-def]
    form = {"title": title, "day": day, "start_time": "08:00", "end_time": "09:30", "place": "教育学院",
            "category": "practice", "duration": "half", "kind": "session"}  # fmt: skip
    return training.get_training_session(
        session, workshops.add_activity(session, host, workshop.id, form, load_policy(session)).session_id
    )


def test_a_published_indicator_set_is_not_edited_but_versioned(client: TestClient, session: Session, clock) -> None:
    district = district_admin(session)
    first = _published_set(session, district)
    with pytest.raises(Conflict):
        evaluation.add_indicator(session, district, first.id, "新增", "10")
    [indicator, *_rest] = evaluation.indicators_of(session, first.id)
    with pytest.raises(Conflict):
        evaluation.remove_indicator(session, district, indicator.id)
    with pytest.raises(Forbidden):
        evaluation.create_set(session, school_admin(session), "学校自定指标")
    with pytest.raises(InvalidInput) as bad:
        evaluation.add_indicator(session, district, evaluation.create_set(session, district, "草稿").id, "", "-1", "x")
    assert set(bad.value.fields) == {"name", "max_score", "figure"}

    token = login(client, district.username)
    r = client.post(f"/api/v1/organisation/indicator-sets/{first.id}/indicators",
                    json={"name": "新增", "max_score": "10"}, headers={"X-CSRF-Token": token})  # fmt: skip
    assert r.status_code == 409 and r.json()["detail"]
    r = client.post(f"/organisation/indicator-sets/{first.id}/indicators",
                    data={"csrf_token": token, "name": "新增", "max_score": "10"})  # fmt: skip
    assert r.status_code == 409
    r = client.post(f"/api/v1/organisation/indicator-sets/{first.id}/versions", headers={"X-CSRF-Token": token})
    assert r.status_code == 201, r.text
    second = r.json()
    assert (second["version"], second["status"], len(second["indicators"])) == (2, "draft", 3)
    r = client.post(f"/api/v1/organisation/indicator-sets/{second['id']}/indicators",
                    json={"name": "家校共育", "max_score": "10"}, headers={"X-CSRF-Token": token})  # fmt: skip
    assert r.status_code == 201 and len(r.json()["indicators"]) == 4
    assert len(evaluation.indicators_of(session, first.id)) == 3  # version 1 unchanged
    page = client.get(f"/organisation/indicator-sets/{first.id}")
    assert page.status_code == 200 and 'data-set-status="published"' in page.text


def test_the_figures_are_read_from_training_the_ledger_and_outputs_and_never_asked_for(
    client: TestClient, session: Session, clock
) -> None:
    district = district_admin(session)
    indicator_set = _published_set(session, district)
    host = make_user(session, Role.trainer, school_code="S-A", display_name="周主持")
    workshop = workshops.create_workshop(
        session, district, name="区小学班主任工作室", level="district", stage="primary", host_id=host.id
    )
    members = [make_teacher(session, "S-A", name=f"成员{n}") for n in range(2)]
    for member in members:
        workshops.add_member(session, district, workshop.id, member.id, "member", "2026-09-01")
    held = _activity(session, host, workshop, "2026-11-02", "主题班会研讨")
    training.mark_attendance(session, host, held, user_ids=[m.id for m in members])
    _activity(session, host, workshop, "2026-11-20", "尚未举行的活动")  # not held yet: not counted
    # Certify one member's attendance (school verifies, district certifies): the certified hours count.
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.user_id == members[0].id))
    assert entry is not None
    workflow.apply(session, school_admin(session, "S-A"), [entry.id], "verify")
    workflow.apply(session, district, [entry.id], "certify")
    session.add(WorkshopOutput(
        workshop_id=workshop.id, author_id=members[1].id, title="案例", kind="case", summary="", media_key="k.pdf",
        media_type="application/pdf", media_kind="document", status="accepted", created_at=clock.now(),
    ))  # fmt: skip
    session.flush()

    figures = evaluation.figures(session, workshop.id, YEAR)
    expected_hours = hours.totals(session, user=[m.id for m in members] + [host.id], year=YEAR)[()].certified
    assert figures == {
        "activities": Decimal(1),
        "attendance": Decimal(training.attendee_count(session, held)),
        "certified_hours": expected_hours,
        "outputs_accepted": Decimal(1),
    }
    assert figures["attendance"] == 2 and expected_hours == held.hours > 0

    token = login(client, host.username)
    page = client.get(f"/organisation/workshops/{workshop.id}/evaluation?year={YEAR}")
    assert page.status_code == 200 and f'data-figure="certified_hours">{expected_hours}' in page.text
    assert 'name="figure' not in page.text  # the host scores; the figures are not fields
    [activities, learning, reach] = evaluation.indicators_of(session, indicator_set.id)
    form = {"csrf_token": token, "year": str(YEAR), f"score_{activities.id}": "28", f"score_{learning.id}": "41",
            f"score_{reach.id}": "25"}  # fmt: skip
    r = client.post(f"/organisation/workshops/{workshop.id}/evaluation/self", data=form)
    assert r.status_code == 422  # above the indicator's maximum of 40
    r = client.post(f"/organisation/workshops/{workshop.id}/evaluation/self",
                    data=form | {f"score_{learning.id}": "36"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    kept = {s.indicator_id: s.figure for s in session.scalars(select(EvaluationScore))}
    assert kept == {activities.id: Decimal(1), learning.id: expected_hours, reach.id: None}
    with pytest.raises(Conflict):  # submitted once
        evaluation.self_assess(session, host, workshop.id, YEAR, {})

    member = members[0]
    with pytest.raises((Forbidden, NotFound)):
        evaluation.self_assess(session, member, workshop.id, YEAR, {})
    raw = {activities.id: ("27", ""), learning.id: ("35", "学时达标"), reach.id: ("20", "")}
    with pytest.raises(Forbidden):
        evaluation.district_score(session, host, workshop.id, YEAR, raw)
    evaluation.district_score(session, district, workshop.id, YEAR, raw)
    login(client, district.username)
    api = client.get(f"/api/v1/organisation/workshops/{workshop.id}/evaluation?year={YEAR}").json()
    line = next(x for x in api["lines"] if x["indicator_id"] == learning.id)
    assert line["figure"] == str(expected_hours) or Decimal(line["figure"]) == expected_hours
    assert sorted(s["by"] for s in line["scores"]) == ["district", "self"]
    other = school_admin(session, "S-B")
    with pytest.raises(Forbidden):  # a school admin sees a district workshop but is not its host
        evaluation.self_assess(session, other, workshop.id, YEAR, raw)
