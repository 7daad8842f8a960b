"""Each refusal: trainers edit only their own courses, only district admins review, teachers never see drafts,
school admins have no studio, and every state change needs the CSRF token."""

from __future__ import annotations

import pytest

from backend.accounts.models import Role
from backend.catalogue import authoring
from backend.catalogue.models import Course
from backend.policies.service import load_policy
from tests.factories import make_user
from tests.studio.conftest import draft_course


@pytest.fixture
def draft(session, storage, trainer, clip_file) -> Course:  # type: ignore[no-untyped-def]
    return draft_course(session, storage, trainer, clip_file, title="别人的草稿")


def test_a_trainer_cannot_touch_a_course_they_do_not_own(session, browser, draft) -> None:
    stranger = browser(make_user(session, role=Role.trainer, school_code=None))
    lesson = draft.lessons[1]
    assert stranger.get(f"/studio/courses/{draft.id}").status_code == 403
    assert stranger.get(f"/studio/courses/{draft.id}/preview").status_code == 403
    assert stranger.get(f"/studio/courses/{draft.id}/export").status_code == 403
    assert stranger.get(f"/studio/lessons/{draft.lessons[0].id}/media").status_code == 403
    refused = [
        stranger.post(f"/studio/courses/{draft.id}", {"title": "改", "tier": "horizon", "credit_hours": "1"}),
        stranger.post(f"/studio/courses/{draft.id}/lessons", {"kind": "text", "title": "插入"}),
        stranger.post(f"/studio/lessons/{lesson.id}", {"title": "改", "body_md": ""}),
        stranger.post(f"/studio/lessons/{lesson.id}/move", {"direction": "up"}),
        stranger.post(f"/studio/lessons/{lesson.id}/delete"),
        stranger.post(f"/studio/courses/{draft.id}/submit"),
        stranger.post(f"/studio/courses/{draft.id}/owners", {"username": stranger.user.username}),
        stranger.post(f"/studio/courses/{draft.id}/code", {"code": "MINE-01"}),
        stranger.api("PATCH", f"/studio/courses/{draft.id}", {"title": "改"}),
        stranger.api("GET", f"/studio/courses/{draft.id}"),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    session.expunge_all()
    course = session.get(Course, draft.id)
    assert course.title == "别人的草稿" and course.status == "draft"
    assert "别人的草稿" not in stranger.get("/studio").text


def test_a_co_owner_may_edit_but_only_the_owner_adds_co_owners(session, browser, trainer, draft) -> None:
    colleague = make_user(session, role=Role.trainer, school_code=None)
    third = make_user(session, role=Role.trainer, school_code=None)
    teacher = make_user(session)
    owner = browser(trainer)
    assert owner.post(f"/studio/courses/{draft.id}/owners", {"username": teacher.username}).status_code == 422
    assert owner.post(f"/studio/courses/{draft.id}/owners", {"username": "nobody-here"}).status_code == 422
    assert owner.post(f"/studio/courses/{draft.id}/owners", {"username": colleague.username}).status_code == 303

    co = browser(colleague)
    assert co.get(f"/studio/courses/{draft.id}").status_code == 200
    assert co.post(f"/studio/courses/{draft.id}/lessons", {"kind": "text", "title": "合写的一讲"}).status_code == 303
    assert co.post(f"/studio/courses/{draft.id}/owners", {"username": third.username}).status_code == 403
    assert co.post(f"/studio/courses/{draft.id}/owners/{trainer.id}/delete").status_code == 403
    assert owner.post(f"/studio/courses/{draft.id}/owners/{colleague.id}/delete").status_code == 303
    assert co.get(f"/studio/courses/{draft.id}").status_code == 403


def test_only_district_admins_publish_send_back_or_archive(session, browser, trainer, admin, draft) -> None:
    authoring.submit(session, trainer, draft, load_policy(session))
    owner = browser(trainer)
    assert owner.get("/studio/review").status_code == 403
    assert owner.post(f"/studio/courses/{draft.id}/publish").status_code == 403
    assert owner.post(f"/studio/courses/{draft.id}/send-back", {"comment": "自己退回"}).status_code == 403
    assert owner.api("POST", f"/studio/courses/{draft.id}/publish", {"migrate": False}).status_code == 403
    session.expunge_all()
    assert session.get(Course, draft.id).status == "submitted"

    authoring.publish(session, admin, session.get(Course, draft.id), load_policy(session))
    assert owner.post(f"/studio/courses/{draft.id}/archive").status_code == 403
    assert owner.api("POST", f"/studio/courses/{draft.id}/archive", {}).status_code == 403
    session.expunge_all()
    assert session.get(Course, draft.id).status == "published"


def test_teachers_never_see_drafts_or_courses_in_review(session, browser, trainer, teacher, draft) -> None:
    learner = browser(teacher)

    def hidden() -> None:
        assert draft.title not in learner.get("/courses").text
        assert draft.id not in [c["id"] for c in learner.get("/api/v1/courses").json()]
        assert learner.get(f"/courses/{draft.id}").status_code == 404
        assert learner.get(f"/api/v1/courses/{draft.id}").status_code == 404
        assert learner.get(f"/lessons/{draft.lessons[0].id}").status_code == 404
        assert learner.get(f"/studio/courses/{draft.id}/preview").status_code == 403
        assert learner.get(f"/studio/courses/{draft.id}").status_code == 403
        assert learner.get("/studio").status_code == 403
        assert learner.get("/studio/review").status_code == 403
        assert learner.api("GET", "/studio/courses").status_code == 403
        assert learner.post(f"/courses/{draft.id}/enroll").status_code == 404

    hidden()
    authoring.submit(session, trainer, draft, load_policy(session))
    assert draft.status == "submitted"
    hidden()
    assert "/studio" not in learner.get("/learning").text  # no studio in the teacher's navigation


def test_school_admins_have_no_studio(session, browser, draft) -> None:
    school_admin = browser(make_user(session, role=Role.school_admin))
    for path in ("/studio", "/studio/courses/new", "/studio/review", f"/studio/courses/{draft.id}",
                 f"/studio/courses/{draft.id}/preview"):
        assert school_admin.get(path).status_code == 403, path
    assert school_admin.post("/studio/courses", {"title": "校本课程", "tier": "horizon",
                                                 "credit_hours": "1"}).status_code == 403
    assert school_admin.get(f"/courses/{draft.id}").status_code == 404


def test_every_studio_change_needs_the_csrf_token(session, browser, trainer, admin, draft) -> None:
    owner = browser(trainer)
    no_token = owner.client.post(f"/studio/courses/{draft.id}/submit", follow_redirects=False)
    assert no_token.status_code == 403
    forged = owner.client.post("/studio/courses", data={"title": "伪造", "tier": "horizon", "credit_hours": "1",
                                                        "csrf_token": "0" * 64}, follow_redirects=False)
    assert forged.status_code == 403
    assert owner.client.patch(f"/api/v1/studio/courses/{draft.id}", json={"title": "伪造"}).status_code == 403
    session.expunge_all()
    assert session.get(Course, draft.id).status == "draft"
    # Every form on the editor carries the token.
    page = owner.get(f"/studio/courses/{draft.id}").text
    assert page.count('method="post"') == page.count('name="csrf_token"') > 10


def test_published_courses_are_changed_only_through_a_new_version(session, browser, trainer, admin, draft) -> None:
    policy = load_policy(session)
    authoring.submit(session, trainer, draft, policy)
    owner = browser(trainer)
    assert owner.post(f"/studio/lessons/{draft.lessons[1].id}", {"title": "审核中改", "body_md": ""}).status_code == 409
    authoring.publish(session, admin, draft, policy)
    assert owner.post(f"/studio/courses/{draft.id}/lessons", {"kind": "text", "title": "发布后加"}).status_code == 409
    assert owner.post(f"/studio/courses/{draft.id}/submit").status_code == 409
