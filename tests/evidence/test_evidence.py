"""An administrator opens the evidence behind a credited hour in two clicks: 学时核查, then 查看依据.

The learning records are built with the models directly, as the heartbeat hot path and the playback service leave
them: a playback with heartbeats carrying notes, attention prompts answered and missed, a quiz attempt.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import event
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.catalogue.models import Course
from backend.credits.models import LedgerEntry
from backend.evidence import service
from backend.learning import service as learning
from backend.learning.models import AttentionPrompt, Enrollment, Heartbeat, LessonProgress, PlaybackSession
from backend.policies.service import load_policy
from backend.quizzes import service as quizzes
from backend.quizzes.models import Attempt
from tests.api.helpers import login
from tests.factories import make_course, make_user

# 14:05 in Shanghai on 2026-11-29.
STARTED = datetime(2026, 11, 29, 6, 5, tzinfo=UTC)
EVIDENCE_LINK = re.compile(r'href="/admin/hours/(\d+)/evidence"')


@dataclass
class Story:
    teacher: User
    course: Course
    enrollment: Enrollment
    entry: LedgerEntry


def _playback(
    session: Session,
    teacher: User,
    progress: LessonProgress,
    *,
    start: datetime,
    beats: list[tuple[str | None, int, int]],
    prompts: list[tuple[str, int, int, int | None]],
) -> PlaybackSession:
    """A closed playback with 15 s heartbeats (note, credited_ms, rejected_ms) and prompts
    (outcome, confirmed_ms, dropped_ms, seconds to answer)."""
    credited = sum(c for _, c, _ in beats)
    rejected = sum(r for _, _, r in beats) + sum(d for _, _, d, _ in prompts)
    end = start + timedelta(seconds=15 * len(beats))
    playback = PlaybackSession(
        id=str(uuid.uuid4()), user_id=teacher.id, lesson_id=progress.lesson_id, progress_id=progress.id,
        duration_ms=60_000, started_at=start, last_beat_at=end, confirmed_at=end, ended_at=end + timedelta(seconds=5),
        credited_ms=credited, rejected_ms=rejected, pending_ms=0,
    )
    session.add(playback)
    session.flush()
    for seq, (note, credit, reject) in enumerate(beats, start=1):
        session.add(Heartbeat(
            playback_id=playback.id, seq=seq, received_at=start + timedelta(seconds=15 * seq), position_ms=seq * 1000,
            playing=note != "paused", visible=note != "hidden", elapsed_ms=15_000, credited_ms=credit,
            rejected_ms=reject, note=note,
        ))
    for i, (outcome, confirmed, dropped, answer_after) in enumerate(prompts):
        issued = start + timedelta(minutes=10 * (i + 1))
        session.add(AttentionPrompt(
            id=uuid.uuid4().hex[:16], playback_id=playback.id, issued_at=issued,
            deadline=issued + timedelta(seconds=60),
            answered_at=issued + timedelta(seconds=answer_after) if answer_after is not None else None,
            outcome=outcome, confirmed_ms=confirmed, dropped_ms=dropped,
        ))
    session.flush()
    return playback


def _story(session: Session, school_code: str = "S-A", name: str = "张老师", *, playbacks: int = 1) -> Story:
    teacher = make_user(session, school_code=school_code, display_name=name)
    course = make_course(session, title="家校沟通入门", video_ms=(60_000, 120_000))
    enrollment = Enrollment(user_id=teacher.id, course_id=course.id, enrolled_at=STARTED - timedelta(days=1),
                            completed_at=STARTED + timedelta(hours=1))
    session.add(enrollment)
    session.flush()
    first, second = course.lessons
    for lesson in (first, second):
        progress = LessonProgress(
            enrollment_id=enrollment.id, lesson_id=lesson.id, coverage=[[0, 30_000], [40_000, 60_000]],
            covered_ms=50_000, credited_ms=50_000,
        )
        session.add(progress)
        session.flush()
        if lesson is first:
            for n in range(playbacks):
                _playback(
                    session, teacher, progress, start=STARTED + timedelta(minutes=30 * n),
                    beats=[(None, 15_000, 0), ("paused", 0, 15_000), ("hidden", 0, 15_000), ("hidden", 0, 15_000),
                           ("seek_ahead", 0, 15_000), (None, 14_000, 1_000)],
                    prompts=[("answered", 29_000, 0, 12), ("missed", 0, 14_000, None)],
                )
    quiz = quizzes.quiz_for_course(session, course.id)
    assert quiz is not None
    session.add(Attempt(quiz_id=quiz.id, user_id=teacher.id, number=1, submitted_at=STARTED + timedelta(hours=1),
                        answers={}, correct_count=3, question_count=3, score_percent=100, passed=True))
    return Story(teacher, course, enrollment, _completion_entry(session, enrollment, STARTED + timedelta(hours=1)))


def _completion_entry(session: Session, enrollment: Enrollment, when: datetime) -> LedgerEntry:
    """The 4.0 hours the completed enrollment earned, pending verification."""
    entry = LedgerEntry(
        user_id=enrollment.user_id, hours=Decimal("4.0"), category="knowledge_skills", level="district",
        source="course_completion", source_ref=f"enrollment:{enrollment.id}", course_id=enrollment.course_id,
        year=2026, status="pending", created_at=when,
    )
    session.add(entry)
    session.flush()
    return entry


def _entry(session: Session, teacher: User, n: int, when: datetime) -> LedgerEntry:
    entry = LedgerEntry(
        user_id=teacher.id, hours=Decimal("1.5"), category="practice", level="school", source="offline_session",
        source_ref=f"session:{teacher.id}:{n}", course_id=None, year=2026, status="verified", created_at=when,
    )
    session.add(entry)
    return entry


def test_district_admin_opens_the_evidence_of_a_credited_hour_in_two_clicks(client, session) -> None:
    story = _story(session)
    admin = make_user(session, role=Role.district_admin, school_code=None)
    login(client, admin.username)

    home = client.get("/learning").text
    assert 'href="/admin/hours"' in home and "学时核查" in home  # click 1: the nav item

    listing = client.get("/admin/hours")
    assert listing.status_code == 200
    html = listing.text
    assert "张老师" in html and "测试学校S-A" in html and "家校沟通入门" in html
    assert "4.0" in html and "待核定" in html and "查看依据" in html
    assert EVIDENCE_LINK.findall(html) == [str(story.entry.id)]  # click 2: the row's link

    page = client.get(f"/admin/hours/{story.entry.id}/evidence")
    assert page.status_code == 200
    html = page.text
    assert "张老师" in html and "家校沟通入门" in html
    assert "2026年11月29日 14:05" in html  # playback start, in Shanghai time
    assert "2026年11月29日 15:05" in html  # completion
    # Coverage: a server-rendered bar of the two watched parts, 50 of 60 seconds.
    assert html.count("<svg") == 2 and "83%" in html
    assert 'x="0.0" y="0" width="500.0"' in html and 'x="666.67"' in html
    # Rejected time by reason, in Chinese, and the prompt outcomes.
    for label in ("视频暂停", "页面在后台", "快进", "按时回应", "未回应"):
        assert label in html, label
    assert "0:30" in html  # hidden twice: 30 s not credited
    assert "0:14" in html  # pending time dropped by the missed prompt
    assert "0:12" in html  # the answered prompt took 12 s
    assert "100 分" in html and "通过" in html  # quiz attempt
    assert "<script" not in html.split("</head>", 1)[1]  # no inline script in the page body


def test_school_admin_sees_only_their_own_school(client, session) -> None:
    ours = _story(session, "S-A", "张老师")
    theirs = _story(session, "S-B", "李老师")
    admin = make_user(session, role=Role.school_admin, school_code="S-A")
    login(client, admin.username)

    html = client.get("/admin/hours").text
    assert EVIDENCE_LINK.findall(html) == [str(ours.entry.id)]
    assert "李老师" not in html and 'name="school"' not in html  # no school filter for a school admin
    # Filtering by another school changes nothing: the scope is in the query, not the form.
    other_school = theirs.teacher.school_id
    assert EVIDENCE_LINK.findall(client.get("/admin/hours", params={"school": other_school}).text) == [
        str(ours.entry.id)
    ]

    assert client.get(f"/admin/hours/{ours.entry.id}/evidence").status_code == 200
    denied = client.get(f"/admin/hours/{theirs.entry.id}/evidence")
    assert denied.status_code == 404 and "李老师" not in denied.text
    assert client.get("/admin/hours/999999/evidence").status_code == 404  # same answer as for another school


def test_school_admin_without_a_school_sees_nobody(client, session) -> None:
    _story(session, "S-A")
    admin = make_user(session, role=Role.school_admin, school_code=None)
    login(client, admin.username)
    html = client.get("/admin/hours").text
    assert EVIDENCE_LINK.findall(html) == [] and 'class="empty"' in html


def test_teachers_and_trainers_are_refused(client, session) -> None:
    story = _story(session)
    for role in (Role.teacher, Role.trainer):
        login(client, make_user(session, role=role, school_code="S-A").username)
        assert client.get("/admin/hours").status_code == 403
        assert client.get(f"/admin/hours/{story.entry.id}/evidence").status_code == 403
        assert 'href="/admin/hours"' not in client.get("/learning").text


def test_logged_out_visitors_are_sent_to_log_in(client, session) -> None:
    r = client.get("/admin/hours", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_the_list_pages_by_fifty_newest_first(client, session) -> None:
    teacher = make_user(session, school_code="S-A", display_name="王老师")
    entries = [_entry(session, teacher, n, STARTED + timedelta(minutes=n)) for n in range(55)]
    session.flush()
    login(client, make_user(session, role=Role.district_admin, school_code=None).username)

    first = client.get("/admin/hours").text
    ids = EVIDENCE_LINK.findall(first)
    assert len(ids) == 50
    assert ids[0] == str(entries[-1].id)  # newest first
    assert "第 1 / 2 页" in first and "page=2" in first

    second = client.get("/admin/hours", params={"page": 2}).text
    assert EVIDENCE_LINK.findall(second) == [str(e.id) for e in reversed(entries[:5])]
    # A page past the end shows the last page; nonsense is ignored.
    assert EVIDENCE_LINK.findall(client.get("/admin/hours", params={"page": 9}).text) == EVIDENCE_LINK.findall(second)
    assert client.get("/admin/hours", params={"page": "x", "school": "y"}).status_code == 200

    # An entry without an online course has no viewing record; its evidence page says so.
    html = client.get(f"/admin/hours/{entries[0].id}/evidence").text
    assert "线下研修" in html and "没有观看记录" in html


def test_the_list_filters_by_teacher_and_school(client, session) -> None:
    zhang = _story(session, "S-A", "张老师")
    li = _story(session, "S-B", "李老师")
    login(client, make_user(session, role=Role.district_admin, school_code=None).username)

    assert EVIDENCE_LINK.findall(client.get("/admin/hours", params={"q": "李"}).text) == [str(li.entry.id)]
    by_username = client.get("/admin/hours", params={"q": zhang.teacher.username.upper()}).text
    assert EVIDENCE_LINK.findall(by_username) == [str(zhang.entry.id)]
    by_school = client.get("/admin/hours", params={"school": zhang.teacher.school_id}).text
    assert EVIDENCE_LINK.findall(by_school) == [str(zhang.entry.id)]
    assert f'<option value="{zhang.teacher.school_id}" selected>' in by_school
    # LIKE wildcards in the search are taken literally.
    nothing = client.get("/admin/hours", params={"q": "%"}).text
    assert EVIDENCE_LINK.findall(nothing) == [] and 'class="empty"' in nothing

    partial = client.get("/admin/hours", params={"q": "张"}, headers={"HX-Request": "true"})
    assert partial.headers["vary"] == "HX-Request"
    assert "<html" not in partial.text and 'id="results"' in partial.text
    assert EVIDENCE_LINK.findall(partial.text) == [str(zhang.entry.id)]


def test_evidence_takes_the_same_few_queries_however_many_playbacks(session) -> None:
    admin = make_user(session, role=Role.district_admin, school_code=None)
    one = _story(session, "S-A", playbacks=1)
    many = _story(session, "S-A", playbacks=6)

    def count_queries(entry_id: int) -> tuple[int, service.Evidence]:
        statements: list[str] = []

        def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
            statements.append(statement)

        session.expire_all()  # nothing of the story comes from the identity map
        assert admin.role == Role.district_admin  # reloads the actor, which a request has loaded already
        connection = session.connection()
        event.listen(connection, "before_cursor_execute", record)
        try:
            evidence = service.evidence_for(session, admin, entry_id)
        finally:
            event.remove(connection, "before_cursor_execute", record)
        return len(statements), evidence

    few, small = count_queries(one.entry.id)
    more, large = count_queries(many.entry.id)
    assert few == more and few <= 10
    assert len(large.lessons[0].playbacks) == 6 and large.lessons[1].playbacks == []
    playback = small.lessons[0].playbacks[0]
    reasons = {r.note: (r.beats, r.rejected_ms) for r in playback.reasons}
    assert reasons == {
        "hidden": (2, 30_000), "paused": (1, 15_000), "seek_ahead": (1, 15_000), None: (2, 1_000),
        "prompt_dropped": (1, 14_000),
    }
    assert sum(r.rejected_ms for r in playback.reasons) == playback.rejected_ms
    assert [(p.outcome, p.response_ms) for p in playback.prompts] == [("answered", 12_000), ("missed", None)]


def test_evidence_still_shows_the_playbacks_of_a_learner_moved_to_a_new_course_version(session) -> None:
    """The admin moved the teacher to version 2 part-way; the video is the same, so its progress came along. The
    playbacks were made on version 1's lesson and are found through the progress row they counted toward."""
    teacher = make_user(session, school_code="S-A")
    v1 = make_course(session, title="家校沟通入门", video_ms=(60_000,))
    v2 = make_course(session, title="家校沟通入门（修订）", video_ms=(60_000,))
    v2.code, v2.version = v1.code, 2
    enrollment = Enrollment(user_id=teacher.id, course_id=v1.id, enrolled_at=STARTED - timedelta(days=1))
    session.add(enrollment)
    session.flush()
    progress = LessonProgress(enrollment_id=enrollment.id, lesson_id=v1.lessons[0].id, coverage=[[0, 60_000]],
                              covered_ms=60_000, credited_ms=60_000)
    session.add(progress)
    session.flush()
    played = _playback(session, teacher, progress, start=STARTED, beats=[(None, 15_000, 0)] * 4, prompts=[])

    assert learning.migrate_learners(session, v1, v2, load_policy(session)) == 1
    assert (enrollment.course_id, progress.lesson_id, played.lesson_id) == (v2.id, v2.lessons[0].id, v1.lessons[0].id)
    enrollment.completed_at = STARTED + timedelta(hours=2)
    entry = _completion_entry(session, enrollment, enrollment.completed_at)

    admin = make_user(session, role=Role.district_admin, school_code=None)
    evidence = service.evidence_for(session, admin, entry.id)
    assert evidence.course is not None and evidence.course.id == v2.id
    [lesson] = evidence.lessons
    assert lesson.lesson_id == v2.lessons[0].id and lesson.credited_ms == 60_000
    assert [p.id for p in lesson.playbacks] == [played.id] and lesson.playbacks[0].beats == 4
