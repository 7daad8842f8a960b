"""Course analytics on a small data set built by hand: the funnel, coverage and drop-off, question difficulty and
discrimination, and the same numbers in the Excel export."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from backend.catalogue import service as catalogue
from backend.kit import clock as server_clock
from backend.learning.models import LessonProgress
from backend.quizzes import analytics, service
from tests.quizzes.helpers import enrolled_teacher, owned_course, quiz_with, single, truefalse

COVERAGE = {  # teacher → (lesson 1 intervals, lesson 2 intervals); lesson 1 is 100 s, lesson 2 is 50 s
    "t1": ([[0, 100_000]], [[0, 50_000]]),
    "t2": ([[0, 55_000]], None),
    "t3": ([[0, 100_000]], [[0, 10_000]]),
    "t4": ([[0, 25_000], [60_000, 70_000]], None),
    "t5": (None, None),
}
ANSWERS = {"t1": ([0], [0]), "t2": ([0], [1]), "t3": ([1], [0]), "t4": ([1], [0])}  # (single, true/false)


@pytest.fixture
def world(session):  # type: ignore[no-untyped-def]
    course, trainer = owned_course(session, video_ms=(100_000, 50_000))
    quiz = quiz_with(session, course, [single(), truefalse()], pass_mark=60)
    course = catalogue.get_course(session, course.id)
    lessons = course.lessons
    for name, (first, second) in COVERAGE.items():
        teacher = enrolled_teacher(session, course, username=f"{name}-{course.code}")
        from backend.learning import service as learning

        enrollment = learning.enrollment_for(session, teacher.id, course.id)
        for lesson, intervals in zip(lessons, (first, second), strict=True):
            if intervals is None:
                continue
            covered = sum(hi - lo for lo, hi in intervals)
            session.add(LessonProgress(
                enrollment_id=enrollment.id, lesson_id=lesson.id, coverage=intervals, covered_ms=covered,
                credited_ms=covered, covered_at=server_clock.now() if covered >= 0.9 * lesson.duration_ms else None,
            ))
        if name in ANSWERS:
            one, tf = ANSWERS[name]
            service.submit_attempt(session, quiz, teacher.id, {quiz.questions[0].id: one, quiz.questions[1].id: tf})
        if name == "t1":
            enrollment.completed_at = server_clock.now()
    session.flush()
    return course, trainer


def test_the_numbers_on_a_small_course(session, world) -> None:
    course, _trainer = world
    data = analytics.course_analytics(session, course)
    assert (data.enrolled, data.completed, data.graded_attempts) == (5, 1, 4)
    assert [(s.kind, s.count) for s in data.funnel] == [
        ("enrolled", 5), ("lesson", 2), ("lesson", 1), ("quiz", 1), ("completed", 1)]
    assert data.funnel[1].share == pytest.approx(0.4)

    first, second = data.videos
    assert first.viewers == 4 and first.average_coverage == pytest.approx((1 + 0.55 + 1 + 0.35) / 4)
    assert first.reach == pytest.approx([1, 1, 0.75, 0.75, 0.75, 0.5, 0.75, 0.5, 0.5, 0.5])
    assert second.viewers == 2 and second.average_coverage == pytest.approx(0.6)
    assert second.reach == pytest.approx([1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])

    q1, q2 = data.questions
    # scores: t1 100, t2 50, t3 50, t4 50; top 27% of 4 = the best one (t1), bottom = the last one (t4)
    assert q1.answered == 4 and q1.difficulty == pytest.approx(0.5) and q1.discrimination == pytest.approx(1.0)
    assert q2.difficulty == pytest.approx(0.75) and q2.discrimination == pytest.approx(0.0)


def test_the_page_and_the_excel_export_show_the_same_numbers(client_for, session, world) -> None:
    course, trainer = world
    web = client_for(trainer)
    page = web.get(f"/studio/courses/{course.id}/analytics")
    assert page.status_code == 200
    assert 'id="enrolled">5<' in page.text and 'id="completed">1<' in page.text and "72.5%" in page.text

    r = web.get(f"/studio/courses/{course.id}/analytics.xlsx")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert ".xlsx" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["概况", "完成漏斗", "视频观看", "题目分析"]
    funnel = [[c.value for c in row] for row in wb["完成漏斗"].iter_rows()]
    assert funnel[0] == ["步骤", "内容", "人数", "占报名(%)"]
    assert funnel[1] == ["报名", None, 5, 100] and funnel[-1] == ["完成课程", None, 1, 20]
    videos = [[c.value for c in row] for row in wb["视频观看"].iter_rows()]
    assert videos[0][:5] == ["序号", "视频课", "时长(秒)", "观看人数", "平均覆盖率(%)"]
    assert videos[1][2:5] == [100, 4, 72.5]
    questions = [[c.value for c in row] for row in wb["题目分析"].iter_rows()]
    assert questions[0] == ["题号", "题型", "来源", "题干", "作答次数", "答对率(%)", "区分度"]
    assert questions[2][4:] == [4, 75.0, 0.0]


def test_an_empty_course_says_what_comes(client_for, session) -> None:
    course, trainer = owned_course(session)
    page = client_for(trainer).get(f"/studio/courses/{course.id}/analytics").text
    assert 'class="empty"' in page
