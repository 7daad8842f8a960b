"""The course library: tier tabs, topic chips and search (page and API)."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from backend.accounts.deps import CurrentUser
from backend.catalogue import service
from backend.catalogue.models import Course
from backend.db import SessionDep
from backend.kit.web import render
from backend.learning import playbacks
from backend.learning import service as learning
from backend.policies.service import load_policy
from backend.policies.taxonomy import TIER_CODES, TOPIC_CODES
from backend.quizzes import assignments
from backend.quizzes import service as quizzes

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["catalogue"])


def _clean_filters(tier: str | None, topic: str | None) -> tuple[str | None, str | None]:
    return (tier if tier in TIER_CODES else None, topic if topic in TOPIC_CODES else None)


@pages.get("/courses")
def catalogue_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    tier: str | None = None,
    topic: str | None = None,
    q: str | None = None,
) -> Response:
    tier, topic = _clean_filters(tier, topic)
    courses = service.current_courses(session, tier=tier, topic=topic, query=q)
    progress = {e.course_id: e for e in learning.my_enrollments(session, user.id)}
    return render(
        request,
        "catalogue/list.html",
        {"courses": courses, "tier": tier, "topic": topic, "q": q or "", "enrollments": progress},
        block="results",
    )


@pages.get("/courses/{course_id}")
def course_page(request: Request, course_id: int, session: SessionDep, user: CurrentUser) -> Response:
    course = learning.visible_course(session, user, course_id)
    playbacks.close_stale_playbacks(session, user.id, load_policy(session))
    state = learning.course_progress(session, user.id, course)
    quiz = quizzes.quiz_for_course(session, course.id)
    quiz_state = quizzes.state_for(session, quiz, user.id) if quiz else None
    return render(
        request,
        "catalogue/detail.html",
        {
            "course": course,
            "state": state,
            "quiz": quiz,
            "quiz_state": quiz_state,
            "assignment_items": assignments.states_for(session, course.id, user.id),
            # Issue 16: the course to complete first, while it is not (enrolling and starting are refused until then).
            "prerequisite": learning.missing_prerequisite(session, user.id, course),
        },
    )


class CourseOut(BaseModel):
    id: int
    code: str
    version: int
    title: str
    summary: str
    tier: str
    topics: list[str]
    credit_hours: Decimal
    status: str


class LessonOut(BaseModel):
    id: int
    position: int
    kind: str
    title: str
    duration_ms: int | None


class CourseDetailOut(CourseOut):
    description_md: str
    lessons: list[LessonOut]


def course_out(course: Course) -> CourseOut:
    return CourseOut(
        id=course.id,
        code=course.code,
        version=course.version,
        title=course.title,
        summary=course.summary,
        tier=course.tier,
        topics=course.topic_codes,
        credit_hours=course.credit_hours,
        status=course.status,
    )


@api.get("/courses", response_model=list[CourseOut])
def list_courses(
    session: SessionDep, user: CurrentUser, tier: str | None = None, topic: str | None = None, q: str | None = None
) -> list[CourseOut]:
    tier, topic = _clean_filters(tier, topic)
    return [course_out(c) for c in service.current_courses(session, tier=tier, topic=topic, query=q)]


@api.get("/courses/{course_id}", response_model=CourseDetailOut)
def get_course(course_id: int, session: SessionDep, user: CurrentUser) -> CourseDetailOut:
    course = learning.visible_course(session, user, course_id)
    return CourseDetailOut(
        **course_out(course).model_dump(),
        description_md=course.description_md,
        lessons=[
            LessonOut(
                id=lesson.id,
                position=lesson.position,
                kind=lesson.kind,
                title=lesson.title,
                duration_ms=lesson.duration_ms,
            )
            for lesson in course.lessons
        ],
    )
