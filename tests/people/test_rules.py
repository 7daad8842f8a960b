"""The title-review conditions and the honour list, pinned a day either side of every limit (DOMAIN.md, Title review).

Pure functions of the records: no database needed.
"""

from __future__ import annotations

from datetime import date

import pytest

from backend.people.rules import Evaluation, Period, anniversary, covered_days, honoured, review
from backend.policies.service import DEFAULT_POLICY

POLICY = DEFAULT_POLICY
SCHOOL_A, SCHOOL_B = 1, 2


def period(start: str, end: str | None = None, kind: str = "homeroom", school: int | None = SCHOOL_A, pid: int = 1):
    return Period(pid, kind, school, date.fromisoformat(start), date.fromisoformat(end) if end else None)


def met(as_of: str, *, start: str | None = "1990-09-01", periods=(), evaluations=()) -> dict[str, bool]:
    result = review(
        date.fromisoformat(start) if start else None,
        list(periods),
        list(evaluations),
        date.fromisoformat(as_of),
        POLICY,
    )
    return {c.code: c.met for c in result.conditions} | {"waiver": result.waiver}


# --- 1. ≥ 30 years of teaching ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("as_of", "expected"), [("2026-08-31", False), ("2026-09-01", True), ("2026-09-02", True)])
def test_thirty_years_of_teaching_are_complete_on_the_anniversary(as_of: str, expected: bool) -> None:
    assert met(as_of, start="1996-09-01")["teaching"] is expected


@pytest.mark.parametrize(("as_of", "expected"), [("2026-02-28", False), ("2026-03-01", True)])
def test_a_start_on_29_february_completes_its_years_on_1_march(as_of: str, expected: bool) -> None:
    assert met(as_of, start="1996-02-29")["teaching"] is expected
    assert anniversary(date(1996, 2, 29), 30) == date(2026, 3, 1)
    assert anniversary(date(1996, 2, 29), 28) == date(2024, 2, 29)


def test_without_a_teaching_start_date_the_condition_is_not_met() -> None:
    assert met("2026-09-01", start=None)["teaching"] is False


# --- 2. ≥ 20 years as homeroom teacher ------------------------------------------------------------------------


@pytest.mark.parametrize(("as_of", "days", "expected"), [("2026-08-31", 7304, False), ("2026-09-01", 7305, True)])
def test_twenty_years_of_one_ongoing_period_are_complete_on_the_anniversary(
    as_of: str, days: int, expected: bool
) -> None:
    result = review(None, [period("2006-09-01")], [], date.fromisoformat(as_of), POLICY)
    assert result.homeroom_days == days
    assert result.condition("homeroom").met is expected


@pytest.mark.parametrize(("end", "expected"), [("2026-08-30", False), ("2026-08-31", True)])
def test_an_ended_period_counts_its_last_day(end: str, expected: bool) -> None:
    assert met("2027-06-01", periods=[period("2006-09-01", end)])["homeroom"] is expected


def test_a_gap_between_periods_counts_nothing() -> None:
    # 2000-09-01 … 2010-08-31 (10 years), a year off, then 2011-09-01 on: 20 years served on 2021-09-01, not 2020.
    periods = [period("2000-09-01", "2010-08-31", pid=1), period("2011-09-01", pid=2)]
    assert met("2020-09-01", periods=periods)["homeroom"] is False
    assert met("2021-08-31", periods=periods)["homeroom"] is False
    assert met("2021-09-01", periods=periods)["homeroom"] is True


def test_overlapping_periods_at_two_schools_after_a_move_count_once() -> None:
    # Homeroom at school A until the summer of 2016, already at school B from March 2016: six months overlap.
    periods = [
        period("2006-09-01", "2016-08-31", school=SCHOOL_A, pid=1),
        period("2016-03-01", school=SCHOOL_B, pid=2),
    ]
    on_time = review(None, periods, [], date(2026, 9, 1), POLICY)
    assert on_time.homeroom_days == 7305  # not 7305 + the 184 overlapping days
    assert on_time.condition("homeroom").met is True
    assert met("2026-08-31", periods=periods)["homeroom"] is False


def test_a_period_inside_another_and_a_duplicate_add_nothing() -> None:
    outer = period("2006-09-01", "2026-08-31", pid=1)
    inner = period("2010-01-01", "2011-01-01", pid=2)
    duplicate = period("2006-09-01", "2026-08-31", pid=3)
    assert covered_days([outer, inner, duplicate], date(2030, 1, 1)) == covered_days([outer], date(2030, 1, 1)) == 7305


def test_adjacent_periods_join_without_a_lost_or_double_day() -> None:
    periods = [period("2006-09-01", "2016-08-31", pid=1), period("2016-09-01", school=SCHOOL_B, pid=2)]
    assert met("2026-08-31", periods=periods)["homeroom"] is False
    assert met("2026-09-01", periods=periods)["homeroom"] is True


def test_deputy_and_trainee_years_do_not_count_but_rotating_years_do() -> None:
    deputy = [period("2000-09-01", kind="deputy")]
    trainee = [period("2000-09-01", kind="trainee")]
    rotating = [period("2000-09-01", kind="rotating")]
    assert met("2026-09-01", periods=deputy)["homeroom"] is False
    assert met("2026-09-01", periods=trainee)["homeroom"] is False
    assert met("2026-09-01", periods=rotating)["homeroom"] is True
    assert met("2026-09-01", periods=deputy)["current"] is False


def test_the_kinds_that_count_are_policy() -> None:
    policy = DEFAULT_POLICY.with_values(homeroom_service_kinds="homeroom,rotating,deputy")
    result = review(None, [period("2000-09-01", kind="deputy")], [], date(2026, 9, 1), policy)
    assert result.condition("homeroom").met and result.condition("current").met


def test_a_period_starting_after_the_review_date_does_not_count() -> None:
    result = review(None, [period("2026-09-02")], [], date(2026, 9, 1), POLICY)
    assert result.homeroom_days == 0 and result.current_period is None
    assert [p.id for p in result.ignored_periods] == [1]


# --- 3. currently a homeroom teacher --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-09-01", None, True),  # starts on the review date
        ("2026-09-02", None, False),  # starts the day after
        ("2020-09-01", "2026-09-01", True),  # ends on the review date
        ("2020-09-01", "2026-08-31", False),  # ended the day before
    ],
)
def test_currently_homeroom_teacher_means_a_period_covers_the_review_date(
    start: str, end: str | None, expected: bool
) -> None:
    assert met("2026-09-01", periods=[period(start, end)])["current"] is expected


# --- 4. ≥ 1 excellent evaluation in the last 5 years ----------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "expected"),
    [(2020, False), (2021, True), (2025, True), (2026, True), (2027, False)],
)
def test_an_excellent_evaluation_exactly_five_years_ago_counts_six_does_not(year: int, expected: bool) -> None:
    assert met("2026-09-01", evaluations=[Evaluation(year, "excellent")])["excellent"] is expected


def test_only_excellent_results_count() -> None:
    evaluations = [Evaluation(y, r) for y, r in ((2022, "qualified"), (2023, "basic"), (2024, "qualified"))]
    assert met("2026-09-01", evaluations=evaluations)["excellent"] is False


def test_the_window_moves_with_the_review_date_not_the_calendar_day() -> None:
    evaluations = [Evaluation(2021, "excellent")]
    assert met("2026-12-31", evaluations=evaluations)["excellent"] is True
    assert met("2027-01-01", evaluations=evaluations)["excellent"] is False


# --- the paper waiver and the honour list ---------------------------------------------------------------------


def _veteran(teaching: str = "1996-09-01", homeroom: str = "2006-09-01", excellent: int = 2024):
    return dict(start=teaching, periods=[period(homeroom)], evaluations=[Evaluation(excellent, "excellent")])


def test_the_paper_is_waived_only_when_all_four_hold() -> None:
    assert met("2026-09-01", **_veteran())["waiver"] is True
    assert met("2026-08-31", **_veteran())["waiver"] is False  # 29 years of teaching, 7,304 days of homeroom
    assert met("2026-09-01", **_veteran(teaching="1996-09-02"))["waiver"] is False
    assert met("2026-09-01", **_veteran(homeroom="2006-09-02"))["waiver"] is False
    assert met("2026-09-01", **_veteran(excellent=2020))["waiver"] is False
    ended = dict(_veteran(), periods=[period("2000-09-01", "2026-08-31")])
    assert met("2026-09-01", **ended)["waiver"] is False  # 26 years served, but not homeroom teacher now


@pytest.mark.parametrize(
    ("periods", "as_of", "expected"),
    [
        ([period("2006-09-01")], "2026-09-01", True),
        ([period("2006-09-01")], "2026-08-31", False),
        ([period("2000-09-01", "2026-08-31")], "2026-09-01", False),  # 26 years but no longer in post
        ([period("2000-09-01", kind="deputy")], "2026-09-01", False),
    ],
)
def test_the_honour_list_is_homeroom_teachers_in_post_with_twenty_years(periods, as_of: str, expected: bool) -> None:
    result = review(None, periods, [], date.fromisoformat(as_of), POLICY)
    assert honoured(result, POLICY) is expected


def test_homeroom_years_are_counted_within_the_years_of_teaching() -> None:
    """ "Of them ≥ 20 years": service recorded before the teaching start date does not count."""
    periods = [period("2005-09-01")]
    assert met("2026-09-01", start="2006-09-01", periods=periods)["homeroom"] is True
    assert met("2026-09-01", start="2006-09-02", periods=periods)["homeroom"] is False
    assert met("2026-08-31", start=None, periods=periods)["homeroom"] is True  # no start date: nothing to clip


# --- issue 13: one definition of a year, never rounded up -----------------------------------------------------------


def test_nineteen_years_and_364_days_are_19_years_not_20() -> None:
    result = review(None, [period("2006-09-01")], [], date(2026, 8, 31), POLICY)
    assert (result.homeroom_years, result.homeroom_extra_days) == (19, 364)
    assert (result.condition("homeroom").value, result.condition("homeroom").met) == ("19", False)
    on_the_day = review(None, [period("2006-09-01")], [], date(2026, 9, 1), POLICY)
    assert (on_the_day.homeroom_years, on_the_day.homeroom_extra_days, on_the_day.condition("homeroom").met) == (
        20, 0, True
    )  # fmt: skip


@pytest.mark.parametrize(("as_of", "expected"), [("2025-02-28", False), ("2025-03-01", True)])
def test_homeroom_years_from_29_february_complete_on_1_march(as_of: str, expected: bool) -> None:
    """The same anniversary rule as the teaching years and the trainee year: 21 years from 29 February 2004."""
    policy = POLICY.with_values(title_homeroom_years=21)
    result = review(None, [period("2004-02-29")], [], date.fromisoformat(as_of), policy)
    assert result.condition("homeroom").met is expected


def test_homeroom_service_recorded_before_the_teaching_start_is_flagged_not_silently_cut() -> None:
    result = review(date(2006, 9, 1), [period("2006-06-01")], [], date(2026, 9, 1), POLICY)
    assert result.days_before_teaching == 92  # June, July, August 2006
    assert result.homeroom_days == 7305 and result.condition("homeroom").met
    clean = review(date(2006, 9, 1), [period("2006-09-01")], [], date(2026, 9, 1), POLICY)
    assert clean.days_before_teaching == 0
