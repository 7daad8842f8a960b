"""Title review (职称评审) and the honour list, as pure functions of a teacher's records and the policy.

DOMAIN.md, Title review and honours: the paper requirement of a senior-teacher application is waived when ALL hold
  1. ≥ 30 years of teaching                      (`TitleReviewPolicy.title_teaching_years`)
  2. of them ≥ 20 years as homeroom teacher       (`TitleReviewPolicy.title_homeroom_years`)
  3. currently a homeroom teacher
  4. ≥ 1 "excellent" evaluation in the last 5 years (`TitleReviewPolicy.title_excellent_within_years`)
and homeroom teachers in post with ≥ 20 years of service receive an honour certificate
(`TitleReviewPolicy.honour_homeroom_years`).

How the dates are read (each one pinned by a test a day either side):
- Years of teaching are completed on the anniversary: a start on 1996-09-01 completes 30 years on 2026-09-01.
  A start on 29 February completes its years on 1 March of a common year (the full year ends with 28 February).
- A service period runs from its start to its end date inclusive; an open end means still serving. On the review
  date D, the days served are those before D (D itself is not yet a completed day), the same reading as the
  anniversary rule: a single period from 2006-09-01 completes 20 years on 2026-09-01.
- Years of homeroom service are the days covered by the UNION of the counting periods, so a gap counts nothing and an
  overlap (two schools at once after a move, a duplicated record) counts once. ONE definition of a year for every
  rule (issue 13; the induction's trainee year too): N years of service are complete when the days served reach the
  days from the first day of service to its N-th anniversary (`days_for_years`), so one unbroken period completes
  on its anniversary exactly, 29 February included (it rolls to 1 March in a common year), and a gap moves the day
  on by its length. Years are never rounded: 19 years 364 days are 19 completed years and 364 days
  (`years_and_days`), never "20.0".
- Which kinds count as homeroom service (`TitleReviewPolicy.homeroom_service_kinds`, default "homeroom,rotating"):
  DOMAIN.md names the appointed homeroom teacher 班主任 and, beside it, the deputy 副班主任 and the rotating
  homeroom teacher 轮值班主任; the trainee 见习班主任 comes before appointment (reserve pool → trainee → appointed).
  The plan's condition is years "as homeroom teacher" (担任班主任), i.e. in charge of a class: an appointed or rotating
  homeroom teacher is; a deputy assists the one who is, and a trainee is not yet appointed. A district that reads
  it otherwise changes the policy, not the code.
- "Of them": homeroom service is counted from the teaching start date on (when one is recorded).
- "Currently a homeroom teacher" and "in post": a counting period covers the review date itself.
- The last 5 years of evaluations: evaluations carry the calendar year they were given for. For a review in year Y
  the window is the five completed years Y-5 … Y-1, plus a result already recorded for Y itself. So in a 2026 review
  an excellent of 2021 ("exactly 5 years ago") counts and one of 2020 does not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

from backend.policies.service import Policy

DAYS_PER_YEAR = 365.25


class Period(NamedTuple):
    """A service period as the rules see it (dates inclusive; `end` None = ongoing). A tuple: the export builds
    50,000 of them."""

    id: int
    kind: str
    school_id: int | None
    start: date
    end: date | None
    school_name: str | None = None


class Evaluation(NamedTuple):
    year: int
    result: str


@dataclass(frozen=True)
class Condition:
    """One condition: met or not, the figure behind it and the threshold it was held against."""

    code: str
    met: bool
    value: str
    required: str


@dataclass(frozen=True)
class Review:
    as_of: date
    teaching_start: date | None
    teaching_years: int  # completed years of teaching
    homeroom_days: int
    homeroom_years: int  # completed years of homeroom service (floored, never rounded up)
    homeroom_extra_days: int  # days served beyond them: "19 年 364 天"
    days_before_teaching: int  # counting-period days recorded before the teaching start: not counted, flagged
    counted_periods: tuple[Period, ...]  # the periods behind the homeroom figure
    ignored_periods: tuple[Period, ...]  # kinds that do not count, or starting after the review date
    current_period: Period | None
    excellent_years: tuple[int, ...]  # "excellent" results inside the window
    window: tuple[int, int]  # first and last evaluation year considered
    conditions: tuple[Condition, ...] = field(default=())
    # A standing declined appointment of the review's year (the plan's 二(一)1, `backend.people.declined`): its
    # reason. That year's title promotion and honours are deferred: no waiver, no honour certificate.
    deferral: str | None = None

    @property
    def waiver(self) -> bool:
        return self.deferral is None and all(c.met for c in self.conditions)

    def condition(self, code: str) -> Condition:
        return next(c for c in self.conditions if c.code == code)


def counting_kinds(policy: Policy) -> frozenset[str]:
    return _kinds(policy.title_review.homeroom_service_kinds)


@lru_cache(maxsize=16)
def _kinds(setting: str) -> frozenset[str]:
    return frozenset(k.strip() for k in setting.split(",") if k.strip())


def anniversary(start: date, years: int) -> date:
    """The day `years` full years after `start`; 29 February rolls to 1 March in a common year."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February into a common year
        return date(start.year + years, 3, 1)


def completed_years(start: date | None, as_of: date) -> int:
    if start is None or start > as_of:
        return 0
    years = as_of.year - start.year
    return years if anniversary(start, years) <= as_of else years - 1


def days_for_years(years: int, since: date | None = None) -> int:
    """The days `years` years of service hold, counted from `since`, the first day of service: up to its `years`-th
    anniversary. Without a first day (nothing served yet), the average length, ceil(years × 365.25)."""
    if since is None:
        return math.ceil(years * DAYS_PER_YEAR)
    return (anniversary(since, years) - since).days


def years_and_days(days: int, since: date | None) -> tuple[int, int]:
    """`days` of service from `since` as (completed years, days beyond them); never rounded up."""
    years = max(0, int(days / DAYS_PER_YEAR) - 1)
    while days_for_years(years + 1, since) <= days:
        years += 1
    return years, days - days_for_years(years, since)


def first_day(periods: Iterable[Period], since: date | None = None) -> date | None:
    """The first day of service the periods count (not before `since`, e.g. the teaching start)."""
    starts = [
        max(p.start, since) if since else p.start
        for p in periods
        if since is None or p.end is None or p.end >= since
    ]
    return min(starts) if starts else None


def covered_days(periods: Iterable[Period], as_of: date, since: date | None = None) -> int:
    """Days before `as_of` (and from `since` on) covered by at least one period: the union of the half-open spans
    [start, end + 1 day)."""
    floor = since or date.min
    spans = sorted(
        (max(p.start, floor), min(p.end + timedelta(days=1), as_of) if p.end else as_of)
        for p in periods
        if p.start < as_of
    )
    total, reach = 0, None
    for start, stop in spans:
        if reach is not None and start < reach:
            start = reach
        if stop > start:
            total += (stop - start).days
            reach = stop
    return total


def is_current(period: Period, as_of: date) -> bool:
    return period.start <= as_of and (period.end is None or period.end >= as_of)


def evaluation_window(as_of: date, policy: Policy) -> tuple[int, int]:
    return as_of.year - policy.title_review.title_excellent_within_years, as_of.year


def review(
    teaching_start: date | None,
    periods: Sequence[Period],
    evaluations: Iterable[Evaluation],
    as_of: date,
    policy: Policy,
    deferral: str | None = None,
) -> Review:
    """The four conditions on `as_of`; `deferral` is the reason of a declined appointment recorded for `as_of`'s
    year, if one stands (it blocks the waiver and the honour that year, whatever the conditions say)."""
    kinds = counting_kinds(policy)
    counted = tuple(sorted((p for p in periods if p.kind in kinds and p.start < as_of), key=lambda p: p.start))
    counted_ids = {p.id for p in counted}
    ignored = tuple(sorted((p for p in periods if p.id not in counted_ids), key=lambda p: p.start))
    # "Of them" (DOMAIN.md): homeroom years are years of teaching, so service recorded before the teaching start
    # date (a typing slip, usually) does not count.
    days = covered_days(counted, as_of, since=teaching_start)
    before_teaching = covered_days(counted, min(as_of, teaching_start)) if teaching_start else 0
    current = next(
        (p for p in sorted(periods, key=lambda p: p.start, reverse=True) if p.kind in kinds and is_current(p, as_of)),
        None,
    )
    first, last = evaluation_window(as_of, policy)
    excellent = tuple(sorted(e.year for e in evaluations if e.result == "excellent" and first <= e.year <= last))
    teaching = completed_years(teaching_start, as_of)
    since = first_day(counted, teaching_start)
    years, extra = years_and_days(days, since)
    rule = policy.title_review
    conditions = (
        Condition("teaching", teaching >= rule.title_teaching_years, str(teaching), str(rule.title_teaching_years)),
        Condition("homeroom", years >= rule.title_homeroom_years, str(years), str(rule.title_homeroom_years)),
        Condition("current", current is not None, "1" if current else "0", "1"),
        Condition("excellent", len(excellent) >= 1, str(len(excellent)), "1"),
    )
    return Review(
        as_of=as_of,
        teaching_start=teaching_start,
        teaching_years=teaching,
        homeroom_days=days,
        homeroom_years=years,
        homeroom_extra_days=extra,
        days_before_teaching=before_teaching,
        counted_periods=counted,
        ignored_periods=ignored,
        current_period=current,
        excellent_years=excellent,
        window=(first, last),
        conditions=conditions,
        deferral=deferral,
    )


def honoured(result: Review, policy: Policy) -> bool:
    """DOMAIN.md, honours: in post (a counting period covers the date) with ≥ `honour_homeroom_years` of service,
    unless a declined appointment defers that year's honours (暂缓当年度评优评先)."""
    return (
        result.deferral is None
        and result.current_period is not None
        and result.homeroom_years >= policy.title_review.honour_homeroom_years
    )
