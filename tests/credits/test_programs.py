"""Programs say, rule by rule, what is met and what is missing — and every boundary holds to the tenth of an
hour and to the day. Only certified hours decide; pending ones are shown as awaiting certification."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.credits import ledger as credits
from backend.credits import programs, workflow
from backend.credits.models import LedgerEntry
from backend.people.models import ServicePeriod
from backend.policies.service import DEFAULT_POLICY
from backend.policies.taxonomy import TOPICS
from backend.quizzes import service as quizzes
from tests.factories import correct_answers, make_course, make_user, wrong_answers

ALL_TOPICS = tuple(t.code for t in TOPICS)
TODAY = date(2026, 11, 29)
RECORDED = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # before TODAY: programmes answer as of a day


def _entry(
    session: Session,
    teacher: User,
    hours: str,
    *,
    status: str = "certified",
    category: str = "practice",
    level: str = "school",
    year: int = 2026,
    course_id: int | None = None,
    topics: tuple[str, ...] = (),
) -> LedgerEntry:
    if course_id:  # a Horizon course's topics, as the service does
        topics = (*topics, *credits.induction_topics_of_course(session, course_id))
    entry = LedgerEntry(
        user_id=teacher.id,
        hours=Decimal(hours),
        category=category,
        level=level,
        source="course_completion" if course_id else "external",
        source_ref=uuid.uuid4().hex,
        course_id=course_id,
        year=year,
        status=status,
        created_at=RECORDED,
    )
    credits.tag(session, entry, topics)  # written with the entry: its chain hash covers them
    session.add(entry)
    session.flush()
    return entry


def _period(session: Session, teacher: User, kind: str, start: date, end: date | None = None) -> None:
    session.add(ServicePeriod(user_id=teacher.id, kind=kind, start=start, end=end))
    session.flush()


def _check(result: programs.ProgramResult, code: str) -> programs.Check:
    return next(c for c in result.checks if c.code == code)


# --- induction ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("hours", "met"), [("32.0", True), ("31.9", False)])
def test_induction_needs_32_certified_hours(session: Session, hours: str, met: bool) -> None:
    teacher = make_user(session)
    course = make_course(session, tier="horizon", topics=ALL_TOPICS, hours=hours)
    _entry(session, teacher, hours, course_id=course.id)
    check = _check(programs.induction_program(session, teacher.id, DEFAULT_POLICY, TODAY), "hours")
    assert (check.met, check.have, check.need) == (met, hours, "32.0")


def test_pending_induction_hours_wait_for_certification_and_other_tiers_do_not_count(session: Session) -> None:
    teacher = make_user(session)
    horizon = make_course(session, tier="horizon", topics=ALL_TOPICS, hours="32")
    compass = make_course(session, tier="compass", topics=ALL_TOPICS, hours="40")
    _entry(session, teacher, "32", course_id=horizon.id, status="verified")
    _entry(session, teacher, "40", course_id=compass.id)
    result = programs.induction_program(session, teacher.id, DEFAULT_POLICY, TODAY)
    hours = _check(result, "hours")
    assert (hours.met, hours.have, hours.awaiting) == (False, "0.0", Decimal("32"))
    assert _check(result, "topics").met is False


def test_a_reversed_course_no_longer_covers_its_topics(session: Session, clock) -> None:
    teacher = make_user(session)
    admin = make_user(session, Role.district_admin, school_code=None)
    course = make_course(session, tier="horizon", topics=("crisis",), hours="4")
    original = _entry(session, teacher, "4", course_id=course.id)
    correction = workflow.reverse(session, admin, original.id, "课程学时录入错误")  # on 2 November (the clock)
    assert credits.topics_of(session, correction.id) == ["crisis"]
    topics = _check(programs.induction_program(session, teacher.id, DEFAULT_POLICY, TODAY), "topics")
    assert "Class crisis intervention" in topics.missing and topics.have == "0"
    # As of the day before the correction, the course still covered its topic.
    before = _check(programs.induction_program(session, teacher.id, DEFAULT_POLICY, date(2026, 11, 1)), "topics")
    assert "Class crisis intervention" not in before.missing


def test_seven_topics_leave_the_eighth_missing(session: Session) -> None:
    teacher = make_user(session)
    course = make_course(session, tier="horizon", topics=ALL_TOPICS[:-1], hours="40")
    _entry(session, teacher, "40", course_id=course.id)
    topics = _check(programs.induction_program(session, teacher.id, DEFAULT_POLICY, TODAY), "topics")
    assert (topics.met, topics.have, topics.missing) == (False, "7", ("Education policy and law",))


def test_the_assessment_counts_once_the_district_names_it_and_the_teacher_passes(session: Session, clock) -> None:
    teacher = make_user(session)
    exam = make_course(session, tier="horizon", topics=("norms",), hours="1")
    quiz = quizzes.quiz_for_course(session, exam.id)
    assert quiz is not None
    unset = programs.induction_program(session, teacher.id, DEFAULT_POLICY, TODAY)
    assert _check(unset, "assessment").met is False
    policy = DEFAULT_POLICY.with_values(induction_assessment_course=exam.code)
    quizzes.submit_attempt(session, quiz, teacher.id, wrong_answers(quiz))
    assert _check(programs.induction_program(session, teacher.id, policy, TODAY), "assessment").met is False
    quizzes.submit_attempt(session, quiz, teacher.id, correct_answers(quiz))
    assert _check(programs.induction_program(session, teacher.id, policy, TODAY), "assessment").met is True


@pytest.mark.parametrize(("as_of", "days", "met"), [(date(2026, 9, 1), 365, True), (date(2026, 8, 31), 364, False)])
def test_a_year_as_trainee_is_complete_on_its_anniversary_not_a_day_before(
    session: Session, as_of: date, days: int, met: bool
) -> None:
    teacher = make_user(session)
    _period(session, teacher, "trainee", date(2025, 9, 1))
    check = _check(programs.induction_program(session, teacher.id, DEFAULT_POLICY, as_of), "trainee")
    assert (check.have, check.met) == (str(days), met)


@pytest.mark.parametrize(("as_of", "days", "met"), [(date(2025, 3, 1), 366, True), (date(2025, 2, 28), 365, False)])
def test_a_trainee_year_from_29_february_is_complete_on_1_march(
    session: Session, as_of: date, days: int, met: bool
) -> None:
    """Issue 13, one definition of a year: the anniversary, here of a leap day (366 days to 1 March 2025)."""
    teacher = make_user(session)
    _period(session, teacher, "trainee", date(2024, 2, 29))
    check = _check(programs.induction_program(session, teacher.id, DEFAULT_POLICY, as_of), "trainee")
    assert (check.have, check.need, check.met) == (str(days), "366", met)


@pytest.mark.parametrize(("end", "met"), [(date(2026, 8, 31), True), (date(2026, 8, 30), False)])
def test_an_ended_trainee_period_counts_through_its_last_day(session: Session, end: date, met: bool) -> None:
    teacher = make_user(session)
    _period(session, teacher, "trainee", date(2025, 9, 1), end)
    assert _check(programs.induction_program(session, teacher.id, DEFAULT_POLICY, TODAY), "trainee").met is met


def test_trainee_periods_add_up_across_a_gap_and_an_overlap_counts_once(session: Session) -> None:
    teacher = make_user(session)
    # Two schools: 2024-09-01..2024-12-31 (122 days), a gap, then 2025-03-01..2025-11-30 (275 days), with a
    # duplicate record 2025-06-01..2025-07-31 at the new school inside the second; and a homeroom period that
    # is not trainee service.
    _period(session, teacher, "trainee", date(2024, 9, 1), date(2024, 12, 31))
    _period(session, teacher, "trainee", date(2025, 3, 1), date(2025, 11, 30))
    _period(session, teacher, "trainee", date(2025, 6, 1), date(2025, 7, 31))
    _period(session, teacher, "homeroom", date(2020, 1, 1))
    check = _check(programs.induction_program(session, teacher.id, DEFAULT_POLICY, TODAY), "trainee")
    assert (check.have, check.met) == ("397", True)
    short = DEFAULT_POLICY.with_values(induction_trainee_years=2)
    assert _check(programs.induction_program(session, teacher.id, short, TODAY), "trainee").met is False


def test_everything_met_makes_the_teacher_eligible_for_appointment(session: Session, clock) -> None:
    teacher = make_user(session)
    course = make_course(session, tier="horizon", topics=ALL_TOPICS, hours="32")
    _entry(session, teacher, "32", course_id=course.id)
    quiz = quizzes.quiz_for_course(session, course.id)
    assert quiz is not None
    quizzes.submit_attempt(session, quiz, teacher.id, correct_answers(quiz))
    _period(session, teacher, "trainee", date(2025, 9, 1), date(2026, 8, 31))
    policy = DEFAULT_POLICY.with_values(induction_assessment_course=course.code)
    assert programs.induction_program(session, teacher.id, policy, TODAY).met is True


# --- annual hours -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("hours", "met"), [("72.0", True), ("71.9", False)])
def test_a_homeroom_teacher_needs_the_annual_hours(session: Session, hours: str, met: bool) -> None:
    teacher = make_user(session)
    _period(session, teacher, "homeroom", date(2020, 9, 1))
    _entry(session, teacher, hours)
    _entry(session, teacher, "10", year=2025)  # another year
    _entry(session, teacher, "10", status="rejected")
    result = programs.annual_program(session, teacher.id, DEFAULT_POLICY, 2026)
    assert (result.applies, result.met, _check(result, "hours").have) == (True, met, hours)


@pytest.mark.parametrize(
    ("start", "end", "applies"),
    [
        (date(2020, 9, 1), date(2025, 12, 31), False),  # ended the day before the year began
        (date(2020, 9, 1), date(2026, 1, 1), True),  # one day in the year
        (date(2026, 12, 31), None, True),  # began on the year's last day
        (date(2027, 1, 1), None, False),
    ],
)
def test_annual_hours_apply_in_a_year_with_homeroom_service(
    session: Session, start: date, end: date | None, applies: bool
) -> None:
    teacher = make_user(session)
    _period(session, teacher, "homeroom", start, end)
    _period(session, teacher, "trainee", date(2026, 1, 1))  # a trainee is not yet a homeroom teacher
    assert programs.annual_program(session, teacher.id, DEFAULT_POLICY, 2026).applies is applies


# --- the five-year cycle ------------------------------------------------------------------------------------------


def test_cycles_run_2021_to_2025_and_2026_to_2030() -> None:
    assert programs.cycle_years(DEFAULT_POLICY, 2025) == (2021, 2025)
    assert programs.cycle_years(DEFAULT_POLICY, 2026) == (2026, 2030)
    assert programs.cycle_years(DEFAULT_POLICY, 2030) == (2026, 2030)


def _complete_cycle(session: Session, teacher: User, year: int = 2026) -> None:
    """36 credits: ethics 8, knowledge 10, practice 14, self-study 4; city 7, district 10 (workshop), school 19."""
    for hours, category, level in [
        ("70", "ethics", "city"),
        ("10", "ethics", "school"),
        ("100", "knowledge_skills", "workshop"),
        ("140", "practice", "school"),
        ("40", "self_study", "school"),
    ]:
        _entry(session, teacher, hours, category=category, level=level, year=year)


def test_a_complete_cycle_meets_every_minimum(session: Session) -> None:
    teacher = make_user(session)
    _complete_cycle(session, teacher)
    result = programs.cycle_program(session, teacher.id, DEFAULT_POLICY, 2026)
    assert result.met, [c for c in result.checks if not c.met]
    assert (result.period, _check(result, "total").have, _check(result, "level_district").have) == (
        "2026–2030",
        "36.0",
        "10.0",
    )


@pytest.mark.parametrize(
    ("removed", "failing"),
    [
        (("0.1", "ethics", "school"), {"total", "category_ethics"}),  # 7.99 credits of 师德素养
        (("0.1", "knowledge_skills", "workshop"), {"total", "category_knowledge_skills", "level_district"}),
        (("0.1", "practice", "school"), {"total", "category_practice"}),
        (("0.1", "ethics", "city"), {"total", "category_ethics", "level_city"}),
    ],
)
def test_a_tenth_of_an_hour_short_fails_exactly_the_rules_it_touches(
    session: Session, removed: tuple[str, str, str], failing: set[str]
) -> None:
    teacher = make_user(session)
    _complete_cycle(session, teacher)
    hours, category, level = removed
    _entry(session, teacher, f"-{hours}", category=category, level=level)
    result = programs.cycle_program(session, teacher.id, DEFAULT_POLICY, 2026)
    assert {c.code for c in result.checks if not c.met} == failing


def test_self_study_counts_at_most_four_credits_toward_the_total(session: Session) -> None:
    teacher = make_user(session)
    _complete_cycle(session, teacher)
    _entry(session, teacher, "-0.1", category="practice", level="school")  # 35.99 credits
    _entry(session, teacher, "50", category="self_study", level="school")  # 5 more self-study credits
    result = programs.cycle_program(session, teacher.id, DEFAULT_POLICY, 2026)
    assert _check(result, "category_self_study").have == "9.0"
    assert _check(result, "total").met is False


def test_last_cycles_credits_and_pending_hours_do_not_count(session: Session) -> None:
    teacher = make_user(session)
    _complete_cycle(session, teacher, year=2025)
    _entry(session, teacher, "360", status="pending")
    total = _check(programs.cycle_program(session, teacher.id, DEFAULT_POLICY, 2026), "total")
    assert (total.have, total.met, total.awaiting) == ("0.0", False, Decimal("36"))
    assert programs.cycle_program(session, teacher.id, DEFAULT_POLICY, 2025).met is True


def test_the_hour_to_credit_conversion_is_a_setting(session: Session) -> None:
    teacher = make_user(session)
    _complete_cycle(session, teacher)
    twelve = DEFAULT_POLICY.with_values(hours_per_credit=Decimal("12"))
    result = programs.cycle_program(session, teacher.id, twelve, 2026)
    assert _check(result, "total").have == "30.0" and not result.met


# --- issue 13: the induction from every source, with the day each condition was met --------------------------------


def test_external_and_offline_hours_tagged_with_a_topic_count_toward_the_induction(session: Session) -> None:
    teacher = make_user(session)
    course = make_course(session, tier="horizon", topics=ALL_TOPICS[:6], hours="24")
    _entry(session, teacher, "24", course_id=course.id)
    _entry(session, teacher, "5", topics=("activities",))  # an external record on activity design and management
    _entry(session, teacher, "3", level="school", topics=("policy_law",))  # a school session on education law
    _entry(session, teacher, "10")  # untagged: counts for the year, not for the induction
    progress = programs.induction_progress(session, teacher.id, DEFAULT_POLICY, TODAY)
    assert (progress.hours, progress.missing_topics) == (Decimal("32"), [])
    assert _check(progress.program, "hours").met and _check(progress.program, "topics").met


def test_the_induction_records_the_day_each_condition_was_met_and_answers_as_of(session: Session, clock) -> None:
    teacher = make_user(session)
    school_admin = make_user(session, Role.school_admin, school_code="T-01")
    district = make_user(session, Role.district_admin, school_code=None)
    course = make_course(session, tier="horizon", topics=ALL_TOPICS, hours="32")
    policy = DEFAULT_POLICY.with_values(induction_assessment_course=course.code)
    _period(session, teacher, "trainee", date(2025, 9, 1))  # the year completes on 2026-09-01

    def at(day: str) -> None:
        clock.current = datetime.fromisoformat(f"{day}T02:00:00+00:00")

    at("2026-10-10")
    entry = _entry(session, teacher, "32", course_id=course.id, status="pending")
    at("2026-10-12")
    workflow.apply(session, school_admin, [entry.id], "verify")
    quiz = quizzes.quiz_for_course(session, course.id)
    assert quiz is not None
    quizzes.submit_attempt(session, quiz, teacher.id, correct_answers(quiz))  # passed on 12 October
    at("2026-10-20")
    workflow.apply(session, district, [entry.id], "certify")  # hours and topics count from 20 October
    at("2026-11-02")

    done = programs.induction_progress(session, teacher.id, policy, date(2026, 11, 1))
    assert done.complete and done.program.completed_on == date(2026, 10, 20)
    assert (done.dates.hours, done.dates.topics, done.dates.assessment, done.dates.trainee) == (
        date(2026, 10, 20), date(2026, 10, 20), date(2026, 10, 12), date(2026, 9, 1),
    )  # fmt: skip
    # As of 15 October the hours were verified, not certified: not complete, and the assessment already passed.
    earlier = programs.induction_progress(session, teacher.id, policy, date(2026, 10, 15))
    assert not earlier.complete and earlier.program.completed_on is None
    assert (earlier.hours, earlier.awaiting, earlier.dates.assessment) == (0, Decimal("32"), date(2026, 10, 12))
    # As of 11 October the assessment had not been taken: attempts made later do not count.
    assert programs.induction_progress(session, teacher.id, policy, date(2026, 10, 11)).dates.assessment is None


def test_without_an_assessment_set_up_the_teacher_is_told_who_acts(session: Session) -> None:
    teacher = make_user(session)
    check = _check(programs.induction_program(session, teacher.id, DEFAULT_POLICY, TODAY), "assessment")
    assert not check.met and check.who_acts == programs.WHO_SETS_ASSESSMENT
