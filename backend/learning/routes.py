"""The teacher's learning: enrollment, the lesson player and its heartbeats, and My learning."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from backend.accounts.deps import CurrentUser, OptionalUser
from backend.catalogue import service as catalogue
from backend.credits import hours, programs
from backend.credits.next_step import next_step
from backend.db import SessionDep, WriteSessionDep
from backend.kit import clock
from backend.kit.numbers import Int
from backend.kit.web import redirect, render
from backend.learning import heartbeat_lane, playbacks, service
from backend.learning.heartbeats import HeartbeatIn, HeartbeatOut
from backend.learning.lesson_files import lesson_document_url, lesson_video_url
from backend.policies.service import load_policy
from backend.quizzes import service as quizzes

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["learning"])


LANDING = {"district_admin": "/dashboard", "trainer": "/studio"}  # issue 17: each role lands on its own work


@pages.get("/")
def home(request: Request, user: OptionalUser) -> Response:
    if user is None:
        return redirect(request, "/login")
    if user.role == "school_admin" and user.school_id is not None:
        return redirect(request, f"/dashboard/schools/{user.school_id}")
    return redirect(request, LANDING.get(user.role, "/learning"))


@pages.post("/courses/{course_id}/enroll")
def enroll_page(request: Request, course_id: int, session: SessionDep, user: CurrentUser) -> Response:
    course = service.visible_course(session, user, course_id)
    service.enroll(session, user.id, course)
    first = next((lesson for lesson in course.lessons), None)
    return redirect(request, f"/lessons/{first.id}" if first else f"/courses/{course.id}")


@pages.get("/lessons/{lesson_id}")
def lesson_page(request: Request, lesson_id: int, session: SessionDep, user: CurrentUser) -> Response:
    lesson = catalogue.get_lesson(session, lesson_id)
    course = service.visible_course(session, user, lesson.course_id)
    enrollment = service.enrollment_for(session, user.id, course.id)
    if enrollment is None:
        return redirect(request, f"/courses/{course.id}")
    service.require_prerequisite(session, user.id, course)  # an assigned course waits for its prerequisite
    policy = load_policy(session)
    progress = service.progress_by_lesson(session, enrollment.id).get(lesson.id)
    index = [lesson_.id for lesson_ in course.lessons].index(lesson.id)
    return render(
        request,
        "learning/lesson.html",
        {
            "course": course,
            "lesson": lesson,
            "progress": progress,
            "policy": policy,
            "resume_ms": playbacks.last_playback_position(session, user.id, lesson.id),
            "pending_ms": playbacks.pending_ms(session, user.id, lesson.id),
            "previous": course.lessons[index - 1] if index > 0 else None,
            "next": course.lessons[index + 1] if index + 1 < len(course.lessons) else None,
            "has_quiz": quizzes.quiz_for_course(session, course.id) is not None,
            "video_url": lesson_video_url(lesson) if lesson.kind == "video" and lesson.media_key else None,
            "document_url": lesson_document_url(lesson) if lesson.kind == "document" and lesson.media_key else None,
        },
    )


@pages.get("/learning")
def my_learning(request: Request, session: WriteSessionDep, user: CurrentUser) -> Response:
    policy = load_policy(session)
    playbacks.close_stale_playbacks(session, user.id, policy)
    # Assigned courses with their deadlines come first (the organisation's section, issue 16); it enrols the teacher
    # in any assigned course of a group they joined since, so it runs before the enrollments are read.
    sections = service.home_extra_sections(session, user)
    year = clock.local_year(clock.now())
    enrollments = service.my_enrollments(session, user.id)
    courses = {e.course_id: catalogue.get_course(session, e.course_id) for e in enrollments}
    progress = {cid: service.course_progress(session, user.id, c) for cid, c in courses.items()}
    return render(
        request,
        "learning/home.html",
        {
            "year": year,
            "summary": hours.teacher_total(session, user.id, year=year),
            "by_tier": programs.hours_by_tier(session, user.id, year),
            "induction": programs.induction_progress(session, user.id, policy),
            "status_note": hours.STATUS_NOTE,
            "policy": policy,
            "enrollments": enrollments,
            "courses": courses,
            "next_step": next_step(session, user.id, policy, clock.now().astimezone(clock.SHANGHAI).date()),
            "progress": progress,
            "entries": hours.entries(session, user.id),
            "sections": sections,
        },
    )


class EnrollmentOut(BaseModel):
    id: int
    course_id: int
    completed: bool


@api.post("/courses/{course_id}/enrollment", response_model=EnrollmentOut, status_code=201)
def enroll_api(course_id: int, session: SessionDep, user: CurrentUser) -> EnrollmentOut:
    course = service.visible_course(session, user, course_id)
    enrollment = service.enroll(session, user.id, course)
    return EnrollmentOut(id=enrollment.id, course_id=course.id, completed=enrollment.completed_at is not None)


class PlaybackIn(BaseModel):
    start_ms: Annotated[Int, Field(ge=0)] = 0


class PlaybackOut(BaseModel):
    playback_id: str
    heartbeat_seconds: int
    start_ms: int
    duration_ms: int
    covered_ms: int
    coverage: list[list[int]]
    lesson_credited_ms: int  # confirmed for this lesson before this playback; the player adds its own
    coverage_threshold: float
    max_playback_rate: float
    allow_seek_ahead: bool
    counting: bool
    note: str | None


@api.post("/lessons/{lesson_id}/playbacks", response_model=PlaybackOut, status_code=201)
def start_playback(lesson_id: int, body: PlaybackIn, session: WriteSessionDep, user: CurrentUser) -> PlaybackOut:
    policy = load_policy(session)
    started = playbacks.start_playback(session, user.id, lesson_id, policy, body.start_ms)
    return PlaybackOut(
        playback_id=started.playback.id,
        heartbeat_seconds=policy.viewing.heartbeat_seconds,
        start_ms=started.playback.last_position_ms,
        duration_ms=started.lesson.duration_ms or 0,
        covered_ms=started.progress.covered_ms,
        coverage=started.progress.coverage,
        lesson_credited_ms=started.progress.credited_ms,
        coverage_threshold=policy.viewing.coverage_threshold,
        max_playback_rate=policy.viewing.max_playback_rate,
        allow_seek_ahead=policy.viewing.allow_seek_ahead,
        counting=started.playback.holds_lease,
        note=None if started.playback.holds_lease else "other_playback",
    )


@api.post(heartbeat_lane.ROUTE, **heartbeat_lane.DOC)
async def heartbeat(playback_id: str, body: HeartbeatIn) -> HeartbeatOut:
    """Acknowledged only after it is stored. Documentation only: the heartbeat lane in front of the framework
    (backend/learning/heartbeat_lane.py) is the one implementation and answers every request to this URL."""
    raise heartbeat_lane.NotServedHere(playback_id)


class PromptAnswerOut(BaseModel):
    outcome: str
    confirmed_ms: int
    course_completed: bool


@api.post("/playbacks/{playback_id}/prompts/{prompt_id}", response_model=PromptAnswerOut)
def answer_prompt(playback_id: str, prompt_id: str, session: WriteSessionDep, user: CurrentUser) -> PromptAnswerOut:
    """The teacher confirms being there. In time: pending credit is confirmed. Late: it was dropped."""
    answer = playbacks.answer_prompt(session, user.id, playback_id, prompt_id, load_policy(session))
    return PromptAnswerOut(outcome=answer.outcome, confirmed_ms=answer.confirmed_ms,
                           course_completed=answer.course_completed)


class CloseOut(BaseModel):
    credited_ms: int
    course_completed: bool


@api.post("/playbacks/{playback_id}/close", response_model=CloseOut)
def close_playback(playback_id: str, session: WriteSessionDep, user: CurrentUser) -> CloseOut:
    """The player stops (page left, video ended): pending credit is confirmed and the lease passes on."""
    playback, completed = playbacks.close_by_id(session, user.id, playback_id, load_policy(session))
    return CloseOut(credited_ms=playback.credited_ms, course_completed=completed)


class LearningOut(BaseModel):
    year: int
    hours_this_year: Decimal = Field(description="Certified hours of this year: the hours that count")
    hours_this_year_awaiting: Decimal = Field(description="Hours of this year pending or verified, not yet certified")
    induction_hours: Decimal = Field(description="Certified hours toward the induction")
    induction_hours_awaiting: Decimal
    induction_required: Decimal
    induction_missing_topics: list[str]
    induction_complete: bool
    enrolled_course_ids: list[int]
    completed_course_ids: list[int]


@api.get("/me/learning", response_model=LearningOut)
def my_learning_api(session: SessionDep, user: CurrentUser) -> LearningOut:
    policy = load_policy(session)
    year = clock.local_year(clock.now())
    induction = programs.induction_progress(session, user.id, policy)
    enrollments = service.my_enrollments(session, user.id)
    this_year = hours.teacher_total(session, user.id, year=year)
    return LearningOut(
        year=year,
        hours_this_year=this_year.certified,
        hours_this_year_awaiting=this_year.awaiting,
        induction_hours=induction.hours,
        induction_hours_awaiting=induction.awaiting,
        induction_required=induction.required,
        induction_missing_topics=induction.missing_topics,
        induction_complete=induction.complete,
        enrolled_course_ids=[e.course_id for e in enrollments],
        completed_course_ids=[e.course_id for e in enrollments if e.completed_at is not None],
    )
