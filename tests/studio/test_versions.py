"""Editing a published course makes a new version; teachers keep theirs unless moved, and earned hours never change."""

from __future__ import annotations

from sqlalchemy import select

from backend.catalogue import authoring
from backend.catalogue import service as catalogue
from backend.catalogue.models import Course
from backend.credits import ledger as credits
from backend.credits.models import LedgerEntry
from backend.kit import clock
from backend.learning import service as learning
from backend.learning.models import Enrollment, LessonProgress
from backend.policies.service import load_policy
from backend.quizzes import assignments
from backend.quizzes import service as quizzes
from tests.factories import _Quiz, make_user, standard_questions
from tests.studio.conftest import attach_clip, published_course


def _with_quiz(session, course: Course) -> Course:  # type: ignore[no-untyped-def]
    quizzes.create_quiz(session, course.id, _Quiz(standard_questions(), pass_mark=80, max_attempts=2))
    return course


def test_editing_a_published_course_makes_version_2_and_enrolled_teachers_keep_version_1(
    session, storage, browser, trainer, admin, teacher, clip_file
) -> None:
    v1 = published_course(session, storage, trainer, admin, clip_file, title="第一版")
    _with_quiz(session, v1)
    learning.enroll(session, teacher.id, v1)
    author = browser(trainer)

    r = author.post(f"/studio/courses/{v1.id}/new-version")
    assert r.status_code == 303
    v2_id = int(r.headers["location"].split("/")[3].split("?")[0])
    # Asking again opens the same draft instead of making a third version.
    again = author.post(f"/studio/courses/{v1.id}/new-version")
    assert again.headers["location"].startswith(f"/studio/courses/{v2_id}?")
    session.expunge_all()
    v1, v2 = catalogue.get_course(session, v1.id), catalogue.get_course(session, v2_id)
    assert (v2.code, v2.version, v2.status) == (v1.code, 2, "draft")
    assert [(x.position, x.kind, x.title, x.body_md, x.media_key, x.duration_ms) for x in v2.lessons] == [
        (x.position, x.kind, x.title, x.body_md, x.media_key, x.duration_ms) for x in v1.lessons]
    assert {x.id for x in v2.lessons}.isdisjoint({x.id for x in v1.lessons})
    old_quiz, new_quiz = quizzes.quiz_for_course(session, v1.id), quizzes.quiz_for_course(session, v2.id)
    assert new_quiz.id != old_quiz.id and (new_quiz.pass_mark, new_quiz.max_attempts) == (80, 2)
    assert [(q.kind, q.prompt, q.options, q.answer) for q in new_quiz.questions] == [
        (q.kind, q.prompt, q.options, q.answer) for q in old_quiz.questions]

    # The published version itself stays as it was.
    assert author.post(f"/studio/courses/{v1.id}", {"title": "改动", "tier": "horizon", "credit_hours": "0.1"}
                       ).status_code == 409
    author.post(f"/studio/courses/{v2.id}", {"title": "第二版", "tier": "horizon", "topics": ["moral"],
                                             "credit_hours": "0.1", "description_md": "新说明"}, htmx=True)
    assert author.post(f"/studio/courses/{v2.id}/submit").status_code == 303
    reviewer = browser(admin)
    assert reviewer.post(f"/studio/courses/{v2.id}/publish").status_code == 303

    session.expunge_all()
    v1, v2 = session.get(Course, v1.id), session.get(Course, v2.id)
    assert v2.status == "published" and v2.superseded_at is None and v2.title == "第二版"
    assert v1.status == "published" and v1.superseded_at is not None and v1.title == "第一版"
    assert [c.id for c in catalogue.current_courses(session) if c.code == v1.code] == [v2.id]
    assert learning.enrollment_for(session, teacher.id, v1.id) is not None
    assert learning.enrollment_for(session, teacher.id, v2.id) is None
    learner = browser(teacher)
    assert learner.get(f"/courses/{v1.id}").status_code == 200  # still theirs
    library = learner.get("/courses").text
    assert "第二版" in library and "第一版" not in library


def test_migrating_moves_unfinished_learners_with_their_progress_and_never_completed_ones(
    session, storage, trainer, admin, clip_file, other_clip_file
) -> None:
    policy = load_policy(session)
    v1 = published_course(session, storage, trainer, admin, clip_file, title="第一版")
    video_v1, text_v1 = v1.lessons
    learning_teacher, finished_teacher, fresh_teacher = make_user(session), make_user(session), make_user(session)

    part_way = learning.enroll(session, learning_teacher.id, v1)
    watched = LessonProgress(enrollment_id=part_way.id, lesson_id=video_v1.id, coverage=[[0, 2000]],
                             covered_ms=2000, credited_ms=2000)
    read = LessonProgress(enrollment_id=part_way.id, lesson_id=text_v1.id, coverage=[], covered_ms=0,
                          credited_ms=0)
    session.add_all([watched, read])
    done = learning.enroll(session, finished_teacher.id, v1)
    done.completed_at = clock.now()
    earned = credits.record_course_completion(session, user_id=finished_teacher.id, course_id=v1.id,
                                              enrollment_id=done.id, hours=v1.credit_hours,
                                              category=v1.credit_category)
    session.flush()

    v2 = authoring.start_new_version(session, trainer, v1)
    v2 = catalogue.get_course(session, v2.id)
    # Version 2 gets a third lesson (a new video); lessons 1 and 2 are unchanged.
    extra = authoring.add_lesson(session, trainer, v2, "video", "第三讲：新增视频")
    attach_clip(session, storage, extra, other_clip_file)
    authoring.submit(session, trainer, v2, policy)
    assert authoring.review_queue(session, admin, policy)[0].unfinished_learners == 1

    result = authoring.publish(session, admin, v2, policy, migrate=True)
    assert result.migrated == 1 and [c.id for c in result.superseded] == [v1.id]

    session.expunge_all()
    moved = session.get(Enrollment, part_way.id)
    assert moved.course_id == v2.id and moved.completed_at is None
    video_v2 = catalogue.get_course(session, v2.id).lessons[0]
    progress = learning.progress_by_lesson(session, moved.id)
    assert progress[video_v2.id].covered_ms == 2000  # same video, same position: progress carried over
    assert session.get(LessonProgress, read.id).lesson_id == text_v1.id  # a text lesson has no media to match

    stayed = session.get(Enrollment, done.id)
    assert stayed.course_id == v1.id and stayed.completed_at is not None  # completed: never moved
    entry = session.get(LedgerEntry, earned.id)
    assert (entry.hours, entry.course_id, entry.status) == (v1.credit_hours, v1.id, "pending")
    assert session.scalars(select(LedgerEntry).where(LedgerEntry.user_id == learning_teacher.id)).all() == []

    # Nobody is enrolled in version 1 any more who had not finished it; new learners start on version 2.
    assert learning.enrollment_for(session, fresh_teacher.id, v2.id) is None
    assert learning.enroll(session, fresh_teacher.id, catalogue.get_course(session, v2.id)).course_id == v2.id


def test_without_migration_learners_stay_and_the_choice_is_recorded(session, storage, trainer, admin,
                                                                   clip_file) -> None:
    policy = load_policy(session)
    v1 = published_course(session, storage, trainer, admin, clip_file)
    enrollment = learning.enroll(session, make_user(session).id, v1)
    v2 = catalogue.get_course(session, authoring.start_new_version(session, trainer, v1).id)
    authoring.submit(session, trainer, v2, policy)
    result = authoring.publish(session, admin, v2, policy, migrate=False)
    assert result.migrated == 0 and enrollment.course_id == v1.id
    last = authoring.history(session, v2.id)[0].review
    assert (last.to_status, last.learners_moved) == ("published", None)


def test_archived_courses_leave_the_library_and_enrolled_teachers_keep_them(
    session, storage, browser, trainer, admin, teacher, clip_file
) -> None:
    course = published_course(session, storage, trainer, admin, clip_file, title="将归档的课程")
    enrollment = learning.enroll(session, teacher.id, course)
    enrollment.completed_at = clock.now()
    entry = credits.record_course_completion(session, user_id=teacher.id, course_id=course.id,
                                             enrollment_id=enrollment.id, hours=course.credit_hours,
                                             category=course.credit_category)
    session.flush()
    reviewer = browser(admin)
    assert reviewer.post(f"/studio/courses/{course.id}/archive").status_code == 303

    session.expunge_all()
    assert session.get(Course, course.id).status == "archived"
    assert course.id not in [c.id for c in catalogue.current_courses(session)]
    learner = browser(teacher)
    assert "将归档的课程" not in learner.get("/courses").text
    assert learner.get(f"/courses/{course.id}").status_code == 200  # enrolled: keeps access
    assert session.get(LedgerEntry, entry.id).status == "pending"  # hours untouched
    stranger = browser(make_user(session))
    assert stranger.get(f"/courses/{course.id}").status_code == 404
    assert stranger.post(f"/courses/{course.id}/enroll").status_code == 404


def test_a_new_version_copies_the_assignments_and_their_rubrics_but_not_the_submissions(
    session, storage, trainer, admin, teacher, clip_file
) -> None:
    v1 = published_course(session, storage, trainer, admin, clip_file)
    plan = assignments.create_assignment(
        session,
        v1.id,
        assignments.AssignmentInput(
            title="班会设计方案", instructions_md="提交一份方案。", pass_score=12, allow_resubmission=True,
            required=True, rubric=[("主题明确", 10), ("流程完整", 10)],
        ),
    )
    learning.enroll(session, teacher.id, v1)
    assignments.submit(session, storage, plan, teacher.id, "我的方案", None)

    v2 = authoring.start_new_version(session, trainer, v1)
    [copy] = assignments.assignments_for_course(session, v2.id)
    assert copy.id != plan.id
    assert (copy.title, copy.instructions_md, copy.max_score, copy.pass_score, copy.allow_resubmission,
            copy.required) == ("班会设计方案", "提交一份方案。", 20, 12, True, True)
    assert [(r.position, r.title, r.points) for r in copy.rubric] == [(1, "主题明确", 10), (2, "流程完整", 10)]
    assert assignments.submissions_of(session, copy.id, teacher.id) == []
    assert len(assignments.submissions_of(session, plan.id, teacher.id)) == 1  # stays with version 1
