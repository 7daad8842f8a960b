"""A trainer builds a course in the studio, a district admin reviews it, and teachers find it in the library."""

from __future__ import annotations

import re

from sqlalchemy import select

from backend.catalogue import service as catalogue
from backend.catalogue.models import Course, CourseReview
from backend.catalogue.ownership import owner_ids
from tests.studio.conftest import attach_clip, reading


def _course_id(response) -> int:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, response.text
    match = re.match(r"/studio/courses/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


FIELDS = {
    "title": "家校沟通的艺术",
    "summary": "用好家长会与家访。",
    "description_md": "## 学习目标\n\n- 会开家长会",
    "tier": "horizon",
    "topics": ["family", "norms"],
    "credit_hours": "1.0",
    "credit_category": "practice",
}


def test_trainer_builds_a_course_and_a_district_admin_sends_it_back_then_publishes_it(
    session, storage, browser, trainer, admin, teacher, clip_file
) -> None:
    author = browser(trainer)
    assert "/studio" in author.get("/courses").text  # the nav item

    # Create: a new code, a draft, and the creator is its owner.
    course_id = _course_id(author.post("/studio/courses", FIELDS))
    course = session.get(Course, course_id)
    assert course.status == "draft" and course.version == 1 and course.code.startswith("C-")
    assert owner_ids(session, course.code) == [trainer.id]
    page = author.get(f"/studio/courses/{course_id}")
    assert page.status_code == 200 and "家校沟通的艺术" in page.text
    assert 'name="csrf_token"' in page.text and f'hx-post="/studio/courses/{course_id}"' in page.text

    # Lessons: a video (plain form), a text lesson (htmx: only the lesson list comes back), a document.
    assert author.post(f"/studio/courses/{course_id}/lessons", {"kind": "video", "title": "第一讲"}).status_code == 303
    partial = author.post(f"/studio/courses/{course_id}/lessons", {"kind": "text", "title": "第二讲：阅读"}, htmx=True)
    assert partial.status_code == 200 and "<html" not in partial.text and 'id="lessons"' in partial.text
    assert "第一讲" in partial.text and "第二讲：阅读" in partial.text
    session.expunge_all()
    video, text = catalogue.get_course(session, course_id).lessons
    attach_clip(session, storage, video, clip_file)

    # Autosave: htmx gets the "saved at" line (and the content estimate out of band), not a page.
    saved = author.post(f"/studio/lessons/{text.id}", {"title": "第二讲：阅读材料", "body_md": reading(600)}, htmx=True)
    assert saved.status_code == 200 and 'class="saved"' in saved.text and "<html" not in saved.text
    autosaved = author.post(f"/studio/courses/{course_id}", {**FIELDS, "title": "家校沟通的艺术（修订）"}, htmx=True)
    assert autosaved.status_code == 200 and re.search(r"\d\d:\d\d", autosaved.text)
    assert 'id="content-check"' in autosaved.text and 'hx-swap-oob="true"' in autosaved.text
    # ... and the same form works as a plain POST.
    assert author.post(f"/studio/courses/{course_id}", {**FIELDS, "title": "家校沟通的艺术（修订）"}).status_code == 303
    session.expunge_all()
    assert session.get(Course, course_id).title == "家校沟通的艺术（修订）"

    # Submit: 1.0 hours need 45 minutes; 4 s of video and 600 characters (2 min) do not support it.
    refused = author.post(f"/studio/courses/{course_id}/submit")
    assert refused.status_code == 422
    assert 'id="lessons"' in refused.text and 'role="alert"' in refused.text  # the editor again, with the reason
    refused_api = author.api("POST", f"/studio/courses/{course_id}/submit")
    assert refused_api.status_code == 422
    detail = refused_api.json()["detail"]
    assert "2" in detail and "45" in detail and "1.0" in detail and "0.0" in detail, detail
    session.expunge_all()
    assert session.get(Course, course_id).status == "draft"

    # Fix: fewer hours (0.1 needs 4.5 minutes) and more reading (1500 characters is 5 minutes).
    author.post(f"/studio/lessons/{text.id}", {"title": "第二讲：阅读材料", "body_md": reading(1500)}, htmx=True)
    author.post(f"/studio/courses/{course_id}", {**FIELDS, "credit_hours": "0.1"}, htmx=True)
    assert author.post(f"/studio/courses/{course_id}/submit").status_code == 303
    session.expunge_all()
    assert session.get(Course, course_id).status == "submitted"
    # While in review the draft is locked.
    assert author.post(f"/studio/courses/{course_id}", FIELDS).status_code == 409

    # The district admin sees it in the queue; sending back needs a comment.
    reviewer = browser(admin)
    queue = reviewer.get("/studio/review")
    assert queue.status_code == 200 and "家校沟通的艺术" in queue.text
    assert reviewer.post(f"/studio/courses/{course_id}/send-back", {"comment": "  "}).status_code == 422
    back = reviewer.post(f"/studio/courses/{course_id}/send-back", {"comment": "请补充家访案例。", "next": "review"})
    assert back.status_code == 303 and back.headers["location"] == f"/studio/review?done=sent_back&course={course_id}"
    session.expunge_all()
    assert session.get(Course, course_id).status == "draft"
    assert "请补充家访案例。" in author.get(f"/studio/courses/{course_id}").text  # shown to the owners

    # Resubmitted and published; teachers now find it.
    author.post(f"/studio/lessons/{text.id}", {"title": "第二讲：家访案例", "body_md": reading(1500)})
    assert author.post(f"/studio/courses/{course_id}/submit").status_code == 303
    assert reviewer.post(f"/studio/courses/{course_id}/publish").status_code == 303
    session.expunge_all()
    course = session.get(Course, course_id)
    assert course.status == "published" and course.published_at is not None

    trail = session.scalars(
        select(CourseReview).where(CourseReview.course_id == course_id).order_by(CourseReview.id)
    ).all()
    assert [(r.from_status, r.to_status) for r in trail] == [
        ("draft", "submitted"), ("submitted", "draft"), ("draft", "submitted"), ("submitted", "published")]
    assert [r.actor_id for r in trail] == [trainer.id, admin.id, trainer.id, admin.id]
    assert trail[1].comment == "请补充家访案例。"

    learner = browser(teacher)
    assert course.title in learner.get("/courses").text
    assert course_id in [c["id"] for c in learner.get("/api/v1/courses").json()]
    assert learner.get(f"/courses/{course_id}").status_code == 200


def test_lessons_are_reordered_with_htmx_and_deleted(session, storage, browser, trainer) -> None:
    author = browser(trainer)
    course_id = _course_id(author.post("/studio/courses", FIELDS))
    for title in ("甲", "乙", "丙"):
        author.post(f"/studio/courses/{course_id}/lessons", {"kind": "text", "title": title})
    session.expunge_all()
    first, second, third = catalogue.get_course(session, course_id).lessons

    moved = author.post(f"/studio/lessons/{third.id}/move", {"direction": "up"}, htmx=True)
    assert moved.status_code == 200 and 'id="lessons"' in moved.text and "<html" not in moved.text
    author.post(f"/studio/lessons/{third.id}/move", {"direction": "up"})
    author.post(f"/studio/lessons/{third.id}/move", {"direction": "up"})  # already first: nothing happens
    session.expunge_all()
    assert [lesson.title for lesson in catalogue.get_course(session, course_id).lessons] == ["丙", "甲", "乙"]

    assert author.post(f"/studio/lessons/{first.id}/delete").status_code == 303
    session.expunge_all()
    lessons = catalogue.get_course(session, course_id).lessons
    assert [(lesson.position, lesson.title) for lesson in lessons] == [(1, "丙"), (2, "乙")]


def test_the_course_form_shows_what_to_correct(session, browser, trainer) -> None:
    author = browser(trainer)
    r = author.post("/studio/courses", {**FIELDS, "title": "", "credit_hours": "1.25", "tier": "moon"})
    assert r.status_code == 422
    assert r.text.count('class="field-error"') == 3
    assert session.scalar(select(Course).where(Course.title == "")) is None


def test_the_code_can_be_changed_once_while_a_draft(session, browser, trainer, teacher) -> None:
    author = browser(trainer)
    course_id = _course_id(author.post("/studio/courses", FIELDS))
    taken = _course_id(author.post("/studio/courses", {**FIELDS, "title": "另一门"}))
    session.expunge_all()
    other_code = session.get(Course, taken).code
    assert author.post(f"/studio/courses/{course_id}/code", {"code": other_code}).status_code == 409
    assert author.post(f"/studio/courses/{course_id}/code", {"code": "bad code!"}).status_code == 422
    assert author.post(f"/studio/courses/{course_id}/code", {"code": "HZ-09"}).status_code == 303
    session.expunge_all()
    assert session.get(Course, course_id).code == "HZ-09" and owner_ids(session, "HZ-09") == [trainer.id]
    assert author.get(f"/studio/courses/{course_id}").status_code == 200  # still the owner under the new code
    assert author.post(f"/studio/courses/{course_id}/code", {"code": "HZ-10"}).status_code == 409


def test_preview_shows_the_course_as_a_teacher_would_without_enrolling(
    session, storage, browser, trainer, clip_file
) -> None:
    from tests.studio.conftest import draft_course

    course = draft_course(session, storage, trainer, clip_file)
    author = browser(trainer)
    page = author.get(f"/studio/courses/{course.id}/preview")
    assert page.status_code == 200
    assert 'class="preview-banner"' in page.text and course.title in page.text
    video = course.lessons[0]
    assert f'src="/studio/lessons/{video.id}/media"' in page.text
    media = author.get(f"/studio/lessons/{video.id}/media")
    assert media.status_code == 200 and media.headers["content-type"] == "video/mp4"
    assert author.get("/learning").status_code == 200
    from backend.learning import service as learning

    assert learning.enrollment_for(session, trainer.id, course.id) is None


def test_studio_lists_my_courses_by_status(session, storage, browser, trainer, admin, clip_file) -> None:
    from tests.studio.conftest import draft_course, published_course

    mine = draft_course(session, storage, trainer, clip_file, title="我的草稿")
    live = published_course(session, storage, trainer, admin, clip_file, title="我的已发布课程")
    theirs = draft_course(session, storage, admin, clip_file, title="别人的草稿")
    page = browser(trainer).get("/studio").text
    drafts = page.split('id="group-draft"')[1].split('id="group-submitted"')[0]
    published = page.split('id="group-published"')[1].split('id="group-archived"')[0]
    assert mine.title in drafts and live.title in published and theirs.title not in page
    assert theirs.title in browser(admin).get("/studio").text  # district admins see every course


def test_the_review_queue_lists_the_longest_waiting_course_first(session, storage, clock, browser, trainer, admin,
                                                                  clip_file) -> None:
    from backend.catalogue import authoring
    from backend.policies.service import load_policy
    from tests.studio.conftest import draft_course

    first = draft_course(session, storage, trainer, clip_file, title="先提交的课程")
    second = draft_course(session, storage, trainer, clip_file, title="后提交的课程")
    authoring.submit(session, trainer, second, load_policy(session))
    clock.advance(3600)
    authoring.submit(session, trainer, first, load_policy(session))
    # Sent back and resubmitted later: it waits from its latest submission.
    authoring.send_back(session, admin, second, "请修改标题。")
    clock.advance(3600)
    authoring.submit(session, trainer, second, load_policy(session))

    assert [item.course.id for item in authoring.review_queue(session, admin, load_policy(session))] == [
        first.id, second.id]
    page = browser(admin).get("/studio/review").text
    assert page.index("先提交的课程") < page.index("后提交的课程")
