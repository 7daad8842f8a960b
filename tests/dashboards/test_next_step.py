"""我的学习 says the teacher's next step: what is missing and by when."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.credits.next_step import next_step
from backend.policies.service import load_policy
from tests.api.helpers import login
from tests.dashboards.helpers import small_district


def test_a_trainee_behind_sees_what_the_induction_still_needs_and_by_when(client: TestClient, session: Session) -> None:
    d = small_district(session)
    policy = load_policy(session)
    today = date.today()
    step = next_step(session, d.trainee_behind.id, policy, today)
    assert step is not None
    assert step.params == {"hours": "28.0", "topics": "7"}  # 4 of 32 certified hours, 1 of 8 topics
    assert step.deadline == date(today.year, 9, 1)  # a year after the trainee period began (1 September last year)
    login(client, d.trainee_behind.username)
    page = client.get("/learning").text
    assert 'id="next-step-h"' in page and "28.0" in page


def test_the_annual_target_is_the_next_step_of_a_homeroom_teacher_below_it(session: Session) -> None:
    d = small_district(session)
    policy = load_policy(session)
    today = date.today()
    assert next_step(session, d.veteran.id, policy, today) is None  # 80 certified of 72: nothing missing
    assert next_step(session, d.idle.id, policy, today) is None  # no homeroom service: the annual rule does not apply
    step = next_step(session, d.trainee_done.id, policy, today)
    assert step is None  # induction done; the trainee year is not homeroom service, so no annual rule yet
