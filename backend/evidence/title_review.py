"""The title-review report (职称评审), the honour list and the Excel export, over the teachers an admin oversees.

The rules themselves are in `backend.people.rules`; this module reads the records behind them and the certified
ledger. Every figure is traceable: the report names the periods, evaluations and ledger entries it counted.

Hours come from the ledger through `backend.credits.hours` (the one reading of it), summed by year and category,
counting certified hours only (已认定: certified by the district, the only hours title review may rely on). A
correction is a reversing entry with negative hours, certified like any other, so the sums already net it out.

The export streams: teachers, periods, evaluations and the hours pivot are read with server-side cursors ordered by
teacher, merged as they arrive and written row by row into the workbook on disk (`backend.kit.xlsx`), so memory
stays bounded at any district size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.credits import hours
from backend.kit import clock
from backend.kit.clock import SHANGHAI
from backend.kit.i18n import translate
from backend.kit.pagination import Page, page_size, paginate, slice_page
from backend.kit.xlsx import Sheet, temporary_workbook
from backend.people import declined, records, rules
from backend.people.models import AnnualEvaluation, DeclinedAppointment, School, ServicePeriod, TeacherProfile
from backend.policies.service import Policy, load_policy
from backend.policies.taxonomy import CREDIT_CATEGORIES

STREAM_BATCH = 2000
HOURS_YEARS = 5  # years of hours in the export: the review year and the four before it
KIND_NAMES = {"homeroom": "班主任", "deputy": "副班主任", "trainee": "见习班主任", "rotating": "轮值班主任"}
FILTERS = ("waiver", "honour")


def today() -> date:
    return clock.now().astimezone(SHANGHAI).date()


def parse_as_of(raw: str | None) -> date:
    """The review date from a query string; today (in Shanghai) when absent or unreadable."""
    try:
        return records.parse_date(raw) or today()
    except ValueError:
        return today()


@dataclass(frozen=True)
class ReviewRow:
    user_id: int
    name: str
    staff_no: str | None
    school_name: str | None
    review: rules.Review
    honoured: bool


# ---------------------------------------------------------------------------------------------------------------
# Reading the records


PERIOD_COLUMNS = (
    ServicePeriod.user_id,
    ServicePeriod.id,
    ServicePeriod.kind,
    ServicePeriod.school_id,
    ServicePeriod.start,
    ServicePeriod.end,
)


def _school_names(session: Session) -> dict[int, str]:
    # A district has a few hundred schools: one small read instead of a join on every period row.
    return {sid: name for sid, name in session.execute(select(School.id, School.name))}


def _periods_by_teacher(session: Session, user_ids: list[int]) -> dict[int, list[rules.Period]]:
    found: dict[int, list[rules.Period]] = {uid: [] for uid in user_ids}
    if not user_ids:
        return found
    names = _school_names(session)
    rows = session.execute(
        select(*PERIOD_COLUMNS).where(ServicePeriod.user_id.in_(user_ids)).order_by(ServicePeriod.user_id)
    )
    for user_id, pid, kind, school_id, start, end in rows:
        found[user_id].append(rules.Period(pid, kind, school_id, start, end, names.get(school_id or 0)))
    return found


def _period(period: ServicePeriod, school_name: str | None) -> rules.Period:
    return rules.Period(period.id, period.kind, period.school_id, period.start, period.end, school_name)


def _evaluations_by_teacher(session: Session, user_ids: list[int]) -> dict[int, list[rules.Evaluation]]:
    found: dict[int, list[rules.Evaluation]] = {uid: [] for uid in user_ids}
    if not user_ids:
        return found
    for user_id, year, result in session.execute(
        select(AnnualEvaluation.user_id, AnnualEvaluation.year, AnnualEvaluation.result).where(
            AnnualEvaluation.user_id.in_(user_ids)
        )
    ):
        found[user_id].append(rules.Evaluation(year, result))
    return found


def _teachers(conditions: list[ColumnElement[bool]]) -> Any:
    return (
        select(User.id, User.display_name, TeacherProfile.staff_no, School.name, TeacherProfile.teaching_start)
        .outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
        .outerjoin(School, School.id == User.school_id)
        .where(*conditions)
    )


def _prefilter(only: str | None, as_of: date, policy: Policy) -> list[ColumnElement[bool]]:
    """SQL conditions every teacher passing `only` must meet (necessary, not sufficient: the rules decide)."""
    if only not in FILTERS:
        return []
    kinds = sorted(rules.counting_kinds(policy))
    current = exists().where(
        ServicePeriod.user_id == User.id,
        ServicePeriod.kind.in_(kinds),
        ServicePeriod.start <= as_of,
        (ServicePeriod.end.is_(None)) | (ServicePeriod.end >= as_of),
    )
    years = policy.title_review.honour_homeroom_years if only == "honour" else policy.title_review.title_homeroom_years
    # Years of service cannot exceed the span from the first counting period's start.
    long_enough = exists().where(
        ServicePeriod.user_id == User.id,
        ServicePeriod.kind.in_(kinds),
        ServicePeriod.start <= date(max(as_of.year - years, 1), 12, 31),
    )
    conditions: list[ColumnElement[bool]] = [current, long_enough]
    if only == "waiver":
        conditions.append(
            TeacherProfile.teaching_start <= date(max(as_of.year - policy.title_review.title_teaching_years, 1), 12, 31)
        )
    return conditions


def _review_rows(session: Session, rows: list[Any], as_of: date, policy: Policy) -> list[ReviewRow]:
    ids = [r[0] for r in rows]
    periods = _periods_by_teacher(session, ids)
    evaluations = _evaluations_by_teacher(session, ids)
    deferred = declined.standing(session, ids, as_of.year)
    result = []
    for user_id, name, staff_no, school_name, start in rows:
        review = rules.review(start, periods[user_id], evaluations[user_id], as_of, policy, deferred.get(user_id))
        result.append(ReviewRow(user_id, name, staff_no, school_name, review, rules.honoured(review, policy)))
    return result


def _keep(row: ReviewRow, only: str | None) -> bool:
    return only is None or (only == "waiver" and row.review.waiver) or (only == "honour" and row.honoured)


@dataclass(frozen=True)
class ReviewPage:
    page: Page[ReviewRow]
    # False when a filtered list was judged only as far as this page: more follow, their number is not known yet.
    exact: bool = True


CANDIDATE_CHUNK = 200


def review_page(
    session: Session,
    actor: User,
    *,
    as_of: date,
    query: str | None = None,
    school_id: int | None = None,
    only: str | None = None,
    page: int = 1,
) -> ReviewPage:
    """One page of the report. Unfiltered, the page is cut in SQL. Filtered (waiver / honour), the candidates the SQL
    prefilter leaves are judged by the rules chunk by chunk, only until this page and one more row are found, so a
    page costs the same at any district size (the export has the complete lists)."""
    policy = load_policy(session)
    only = only if only in FILTERS else None
    conditions = records.teacher_filter(actor, query=query, school_id=school_id) + _prefilter(only, as_of, policy)
    ordered = _teachers(conditions).order_by(School.code, TeacherProfile.staff_no, User.id)
    if only is None:
        found = paginate(session, ordered, page)
        return ReviewPage(found.with_items(_review_rows(session, found.items, as_of, policy)))
    size = page_size()
    wanted = max(1, page) * size + 1
    passing: list[ReviewRow] = []
    offset = 0
    while len(passing) < wanted:
        chunk = list(session.execute(ordered.limit(CANDIDATE_CHUNK).offset(offset)).all())
        offset += len(chunk)
        passing.extend(r for r in _review_rows(session, chunk, as_of, policy) if _keep(r, only))
        if len(chunk) < CANDIDATE_CHUNK:
            return ReviewPage(slice_page(passing, page))
    # Judged only as far as this page and one more row: the page is whole, how many pages follow is not known yet.
    return ReviewPage(slice_page(passing, page), exact=False)


# ---------------------------------------------------------------------------------------------------------------
# One teacher, with everything behind the figures


@dataclass(frozen=True)
class HoursLine:
    entry_id: int
    year: int
    category: str
    level: str
    source: str
    hours: Decimal
    status: str
    created_at: datetime
    reverses_id: int | None
    trained_on: date


@dataclass(frozen=True)
class TeacherReview:
    record: records.TeacherRecord
    review: rules.Review
    honoured: bool
    policy: Policy
    years: list[int]
    totals: dict[int, dict[str, Decimal]]  # year → category → certified hours ("total" for the year)
    entries: list[HoursLine]  # the certified entries behind the totals
    other_entries: int  # entries of those years in other statuses, not counted


def hours_years(as_of: date) -> list[int]:
    return list(range(as_of.year - HOURS_YEARS + 1, as_of.year + 1))


def teacher_review(session: Session, actor: User, user_id: int, as_of: date) -> TeacherReview:
    record = records.record_of(session, actor, user_id)
    policy = load_policy(session)
    periods = [_period(p, record.school_names.get(p.school_id or 0)) for p in record.periods]
    evaluations = [rules.Evaluation(e.year, e.result) for e in record.evaluations]
    deferral = declined.standing(session, [user_id], as_of.year).get(user_id)
    review = rules.review(record.profile.teaching_start, periods, evaluations, as_of, policy, deferral)
    years = hours_years(as_of)
    listed = hours.entries(session, user_id, years=years)
    entries = [
        HoursLine(
            e.id, e.year, e.category, e.level, e.source, e.hours, e.status, e.created_at, e.reverses_id, e.trained_on
        )
        for e in sorted(listed, key=lambda e: (e.trained_on, e.created_at, e.id))
        if e.status in hours.COUNTED
    ]
    other = len(listed) - len(entries)
    totals: dict[int, dict[str, Decimal]] = {y: {c: Decimal("0") for c in hours.CATEGORIES} for y in years}
    for year in years:
        totals[year]["total"] = Decimal("0")
    found = hours.totals(session, by=("year", "category"), user=user_id, years=(years[0], years[-1]))
    for (year, category), counted in found.items():
        totals[year][category] = totals[year].get(category, Decimal("0")) + counted.certified
        totals[year]["total"] += counted.certified
    return TeacherReview(record, review, rules.honoured(review, policy), policy, years, totals, entries, other)


# ---------------------------------------------------------------------------------------------------------------
# The export


def _grouped(rows: Iterable[Any]) -> Iterator[tuple[int, list[Any]]]:
    for user_id, group in groupby(rows, key=lambda r: r[0]):
        yield user_id, list(group)


class _Follower:
    """A stream of rows ordered by teacher id, advanced alongside the teacher stream (a merge join)."""

    def __init__(self, rows: Iterable[Any]) -> None:
        self._groups = _grouped(rows)
        self._next: tuple[int, list[Any]] | None = next(self._groups, None)

    def take(self, user_id: int) -> list[Any]:
        while self._next is not None and self._next[0] < user_id:
            self._next = next(self._groups, None)
        if self._next is not None and self._next[0] == user_id:
            rows = self._next[1]
            self._next = next(self._groups, None)
            return rows
        return []


def _fmt(value: date | None) -> str:
    return value.isoformat() if value else ""


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def _period_text(period: rules.Period) -> str:
    end = period.end.isoformat() if period.end else "至今"
    school = period.school_name or "区外学校"
    return f"#{period.id} {KIND_NAMES.get(period.kind, period.kind)} {school} {period.start}—{end}"


def export_header(years: list[int]) -> list[str]:
    header = [
        "工号",
        "姓名",
        "学校",
        "从教日期",
        "从教年限（年）",
        "条件1 从教≥30年",
        "班主任年限（整年，不进位）",
        "班主任天数",
        "计入的任职记录",
        "条件2 班主任≥20年",
        "当前任职",
        "条件3 现任班主任",
        "考核窗口",
        "窗口内优秀年份",
        "条件4 近5年≥1次优秀",
        "免论文",
        "荣誉证书（在岗≥20年）",
        "早于从教日期未计入的班主任天数",
        "暂缓（无正当理由拒绝担任班主任）",
    ]
    return header + sums_header(years)


def sums_header(years: list[int]) -> list[str]:
    """The hours columns: per year the four categories and the year's total, then the five years' total."""
    header = []
    for year in years:
        header += [f"{year} {translate('zh_CN', c.name)}" for c in CREDIT_CATEGORIES] + [f"{year} 合计"]
    return header + ["五年合计（已认定）"]


def export_workbook(session: Session, actor: User, *, as_of: date, school_id: int | None = None) -> Path:
    """Writes the district's (or school's) title-review workbook to a temporary file and returns its path."""
    policy = load_policy(session)
    rule = policy.title_review
    years = hours_years(as_of)
    header = export_header(years)
    # The header names the policy's numbers, not the defaults, when a district admin changed them.
    header[5] = f"条件1 从教≥{rule.title_teaching_years}年"
    header[9] = f"条件2 班主任≥{rule.title_homeroom_years}年"
    header[14] = f"条件4 近{rule.title_excellent_within_years}年≥1次优秀"
    header[16] = f"荣誉证书（在岗≥{rule.honour_homeroom_years}年）"
    conditions = records.teacher_filter(actor, school_id=school_id)
    scoped = select(User.id).outerjoin(TeacherProfile, TeacherProfile.user_id == User.id).where(*conditions)
    honours: list[list[Any]] = []

    def stream(statement: Any) -> Iterator[Any]:
        return iter(session.execute(statement.execution_options(yield_per=STREAM_BATCH)))

    def rows() -> Iterator[list[Any]]:
        teachers = stream(_teachers(conditions).order_by(User.id))
        names = _school_names(session)
        periods = _Follower(
            stream(
                select(*PERIOD_COLUMNS)
                .where(ServicePeriod.user_id.in_(scoped))
                .order_by(ServicePeriod.user_id, ServicePeriod.start)
            )
        )
        # Only what condition 4 needs: the excellent results inside the window.
        first, last = rules.evaluation_window(as_of, policy)
        evaluations = _Follower(
            stream(
                select(AnnualEvaluation.user_id, AnnualEvaluation.year, AnnualEvaluation.result)
                .where(
                    AnnualEvaluation.user_id.in_(scoped),
                    AnnualEvaluation.result == "excellent",
                    AnnualEvaluation.year.between(first, last),
                )
                .order_by(AnnualEvaluation.user_id)
            )
        )

        # The hours pivot (`backend.credits.hours.certified_pivot`) is summed in SQL and read as text ("12.5"):
        # 390,000 Decimals fewer to parse at district size, written as numeric cells all the same.
        hours_rows = _Follower(stream(hours.certified_pivot(scoped, years)))
        # Declined appointments of the review's year: a few rows at most, read whole.
        deferred = dict(
            session.execute(
                select(DeclinedAppointment.user_id, DeclinedAppointment.reason)
                .where(
                    DeclinedAppointment.user_id.in_(scoped),
                    DeclinedAppointment.year == as_of.year,
                    DeclinedAppointment.withdrawn_at.is_(None),
                )
                .order_by(DeclinedAppointment.id)
            ).all()
        )
        no_hours = ["0"] * hours.pivot_width(years)
        for user_id, name, staff_no, school_name, start in teachers:
            teacher_periods = [
                rules.Period(pid, kind, sid, start, end, names.get(sid or 0))
                for _uid, pid, kind, sid, start, end in periods.take(user_id)
            ]
            teacher_evals = [rules.Evaluation(y, r) for _uid, y, r in evaluations.take(user_id)]
            review = rules.review(start, teacher_periods, teacher_evals, as_of, policy, deferred.get(user_id))
            honoured = rules.honoured(review, policy)
            met = {c.code: c.met for c in review.conditions}
            current = review.current_period
            line: list[Any] = [
                staff_no or "",
                name,
                school_name or "",
                _fmt(start),
                review.teaching_years,
                _yes(met["teaching"]),
                review.homeroom_years,
                review.homeroom_days,
                "；".join(_period_text(p) for p in review.counted_periods),
                _yes(met["homeroom"]),
                _period_text(current) if current else "",
                _yes(met["current"]),
                f"{review.window[0]}—{review.window[1]}",
                "、".join(str(y) for y in review.excellent_years),
                _yes(met["excellent"]),
                _yes(review.waiver),
                _yes(honoured),
                review.days_before_teaching,
                f"{as_of.year}年暂缓：{review.deferral}" if review.deferral else "",
            ]
            found = hours_rows.take(user_id)
            line += found[0][1:] if found else no_hours
            if honoured:
                honours.append(
                    [
                        staff_no or "",
                        name,
                        school_name or "",
                        review.homeroom_years,
                        review.homeroom_days,
                        _period_text(current) if current else "",
                    ]
                )
            yield line

    def honour_rows() -> Iterator[list[Any]]:
        yield from honours

    notes = [
        ["评审基准日", as_of.isoformat()],
        ["生成时间", clock.now().astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")],
        ["条件1", f"从教满 {rule.title_teaching_years} 年：自从教日期起按周年计算（基准日当天满周年即计入）"],
        [
            "条件2",
            f"担任班主任满 {rule.title_homeroom_years} 年：按任职记录的日期并集计天数，间断期不计、"
            f"重叠期（如调动时两校交叉）只计一次；满 N 年 = 天数达到自首个任职日起至其第 N 个周年日的天数"
            f"（2月29日起算的，平年按3月1日）；年限只取整年、不进位（19年364天记为19年）",
        ],
        [
            "早于从教日期",
            "班主任年限只计从教日期之后的任职天数；任职记录早于从教日期的天数不计入，"
            "并列于“早于从教日期未计入的班主任天数”列（通常是录入错误，请核对任职记录或从教日期）",
        ],
        ["计入的任职类型", "、".join(KIND_NAMES.get(k, k) for k in sorted(rules.counting_kinds(policy)))],
        ["条件3", "基准日当天有一条计入类型的任职记录在任"],
        ["条件4", f"评审年份前 {rule.title_excellent_within_years} 个完整年度及评审当年的年度考核中至少一次优秀"],
        ["免论文", "四项条件全部满足，且评审当年无“无正当理由拒绝担任班主任”记录"],
        [
            "暂缓",
            "学校记录的“无正当理由拒绝担任班主任”（撤销的除外）：暂缓记录所属年度的评优评先、职称及职务晋升，"
            "该年度不免论文、不列入荣誉名单；次年不受影响",
        ],
        ["荣誉证书", f"基准日在岗且担任班主任满 {rule.honour_homeroom_years} 年"],
        ["学时", "仅统计状态为“已认定”（区级认定）的学时记录；冲正记录为负数并已计入；按记录所属年度与类别汇总"],
        ["追溯", "“计入的任职记录”列出每条记录的编号；学时明细见平台“学时核查”页面，按教师查看每条记录及其依据"],
    ]
    sheets = [
        Sheet(
            "职称评审",
            header,
            rows(),
            widths=[10, 10, 18, 12, 8, 8, 8, 8, 48, 8, 36, 8, 12, 16, 8, 8, 10, 10, 30],
            numbers_from=len(header) - len(sums_header(years)),
        ),
        Sheet(
            "荣誉名单",
            ["工号", "姓名", "学校", "班主任年限（整年，不进位）", "班主任天数", "当前任职"],
            honour_rows(),
            widths=[10, 10, 18, 10, 10, 40],
        ),
        Sheet("说明", ["项目", "口径"], iter(notes), widths=[16, 100]),
    ]
    return temporary_workbook(sheets)


def reviews_of(
    session: Session, user_ids: list[int], as_of: date, policy: Policy, chunk: int = STREAM_BATCH
) -> Iterator[tuple[int, rules.Review, bool]]:
    """The title-review rules and the honour rule for many teachers (the dashboards' waiver and honour counts):
    (teacher, review, honoured) for the teachers who may pass either (the SQL prefilters: necessary conditions), their
    records read `chunk` teachers at a time. Teachers left out pass neither."""
    for start in range(0, len(user_ids), chunk):
        ids = user_ids[start : start + chunk]
        candidates = sorted(
            {
                uid
                for only in FILTERS
                for uid in session.scalars(
                    select(User.id)
                    .outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
                    .where(User.id.in_(ids), *_prefilter(only, as_of, policy))
                )
            }
        )
        periods = _periods_by_teacher(session, candidates)
        evaluations = _evaluations_by_teacher(session, candidates)
        starts = {
            uid: start
            for uid, start in session.execute(
                select(TeacherProfile.user_id, TeacherProfile.teaching_start).where(
                    TeacherProfile.user_id.in_(candidates)
                )
            )
        }
        for user_id in candidates:
            review = rules.review(starts.get(user_id), periods[user_id], evaluations[user_id], as_of, policy)
            yield user_id, review, rules.honoured(review, policy)
