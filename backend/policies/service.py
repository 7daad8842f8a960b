"""Policy: every number from the district plan and related rules (DOMAIN.md), with its default and source.

District admins may override any value (rows in `policy_settings`, keyed by the setting's name); code reads the
merged `Policy` object, one section per owning domain (`policy.viewing`, `policy.security`, …), loaded by
`load_policy` alone. A domain reads its own section.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Session

from backend.audit import service as audit
from backend.kit import clock
from backend.kit.errors import InvalidInput
from backend.kit.i18n import _
from backend.policies.catalog import SETTINGS
from backend.policies.models import PolicySetting


@dataclass(frozen=True)
class InductionPolicy:
    """Induction (credits.programs): the hours, the trainee year and the assessment before appointment."""

    # DOMAIN.md, Induction: at least 32 credit hours of pre-service training, covering all eight topics.
    induction_hours: Decimal = Decimal("32")
    # DOMAIN.md, Induction: ≥ 1 year as trainee homeroom teacher: the days served in trainee periods (their union)
    # reach the days from the first trainee day to its anniversary (backend/people/rules.py, one definition of a year).
    induction_trainee_years: int = 1
    # DOMAIN.md, Induction: the assessment after training; the code of the course whose quiz is that assessment
    # (empty: not set up yet, so nobody is shown as eligible for appointment).
    induction_assessment_course: str = ""


@dataclass(frozen=True)
class ViewingPolicy:
    """Verified viewing (learning: the judge, playbacks, the player): coverage, speed, heartbeats, attention checks."""

    # Issue 2: a video lesson counts as watched when this share of its unique seconds has been played.
    coverage_threshold: float = 0.9
    # DOMAIN.md, anti-idle practice: coverage may not grow faster than playback at this rate (1.0: no speed-up).
    max_playback_rate: float = 1.0
    # The player reports every N seconds (issue 3: every viewer sends one every 15 s).
    heartbeat_seconds: int = 15
    # Beats queued while offline are accepted late; wall-clock time is carried forward at most this long.
    late_beat_window_seconds: int = 300
    # DOMAIN.md, anti-idle practice: no fast-forward past the furthest point watched (block in player and server).
    allow_seek_ahead: bool = False
    # DOMAIN.md: random attention prompts (every 10–20 minutes) answered within 60 s.
    prompt_min_minutes: float = 10.0
    prompt_max_minutes: float = 20.0
    prompt_answer_seconds: int = 60
    # DOMAIN.md: a daily cap on counted hours (6 h) and the same video not counted twice a day.
    daily_cap_hours: Decimal = Decimal("6")
    # One credited playback per teacher: a holder silent this long has let go of the lease.
    lease_seconds: int = 45
    # Tolerance for timer jitter between the browser's clock and the server's, per heartbeat.
    position_slack_ms: int = 1500


@dataclass(frozen=True)
class CreditPolicy:
    """Annual hours and the five-year credit cycle (credits.programs): totals, categories, levels, hours per credit."""

    # DOMAIN.md, national rule: ≥ 360 hours per 5-year cycle, so 72 a year on average [M/L].
    annual_hours_target: Decimal = Decimal("72")
    # DOMAIN.md, Shanghai 14th five-year credits [H]: ≥ 36 credits per 5-year cycle (2021–2025, 2026–2030, …)...
    cycle_first_year: int = 2021
    cycle_years: int = 5
    cycle_credits: Decimal = Decimal("36")
    # ...by category: 师德素养 ≥ 8, 知识技能 ≥ 10, 实践体验 ≥ 14, 自主研修 4 (required, and at most 4 count)...
    cycle_min_ethics: Decimal = Decimal("8")
    cycle_min_knowledge_skills: Decimal = Decimal("10")
    cycle_min_practice: Decimal = Decimal("14")
    cycle_min_self_study: Decimal = Decimal("4")
    cycle_max_self_study: Decimal = Decimal("4")
    # ...and by level: 市级 ≥ 7, 区级 ≥ 10, 校本 ≥ 15. Workshop (工作室) hours count toward this level.
    cycle_min_city: Decimal = Decimal("7")
    cycle_min_district: Decimal = Decimal("10")
    cycle_min_school: Decimal = Decimal("15")
    workshop_counts_as_level: str = "district"
    # DOMAIN.md, national ≥ 360 hours per cycle vs Shanghai's 36 credits: 1 credit = 10 hours [L].
    hours_per_credit: Decimal = Decimal("10")


@dataclass(frozen=True)
class ContentPolicy:
    """Courses and their media (catalogue, media, quizzes): credit hours a course may claim, reading speeds,
    upload limits, quiz defaults."""

    default_pass_mark: int = 60
    # Issue 4: a course may claim one credit hour per this many minutes of content (checked at submit).
    minutes_per_credit_hour: int = 45
    # Issue 4: minutes of content counted per page of a PDF document lesson.
    minutes_per_document_page: int = 3
    # Issue 4: reading speed for text lessons (Markdown characters per minute).
    text_chars_per_minute: int = 300
    default_max_attempts: int = 3
    # Issue 4, media pipeline: the largest file a trainer may upload (default 2 GB), in bytes.
    upload_max_bytes: int = 2 * 1024**3
    # Issue 4, media pipeline: longer lesson videos are rejected ("over-long"), in minutes.
    upload_max_video_minutes: int = 240


@dataclass(frozen=True)
class SecurityPolicy:
    """Sign-in and account security (accounts): session timeouts, login throttling, passwords, second factor."""

    # Issue 6, sessions (OWASP ASVS 3.3.2): idle and absolute session timeouts.
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    # Issue 6 and 14, login throttling (ASVS 2.2.1, backend/accounts/throttle.py): failures of a name from one
    # address, and of one address, within the window lock that name there, or that address, for lockout_minutes;
    # failures of a name from every address lock it everywhere, but only for account_lockout_minutes (the owner
    # is never locked out for long).
    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 20
    login_max_failures_per_account_any_address: int = 30
    login_window_minutes: int = 15
    login_lockout_minutes: int = 15
    login_account_lockout_minutes: int = 1
    # Issue 6, password policy (ASVS 2.1.1: at least 12 characters).
    password_min_length: int = 12
    # Issue 6: school and district admins must sign in with a second factor (TOTP) unless through SSO.
    admin_totp_required: bool = True


@dataclass(frozen=True)
class TrainingPolicy:
    """Offline study (training): hours of a training day, the check-in code and its window, monthly sessions."""

    # DOMAIN.md, related rules: an offline training day counts 6 hours, a half day 3 (one city's rule) [M].
    offline_full_day_hours: Decimal = Decimal("6")
    offline_half_day_hours: Decimal = Decimal("3")
    # Issue 5, offline study: the check-in QR code shown at a session rotates this often (seconds)...
    checkin_code_seconds: int = 30
    # ...and is accepted from the session's start (issue 13: no attendance before it) until this long after its end.
    checkin_grace_minutes: int = 30
    # A teacher who scanned a valid code has this long to log in and confirm the check-in (minutes).
    checkin_confirm_minutes: int = 10
    # DOMAIN.md, study organisation: each school holds at least 1 tiered, themed school-based session a month.
    monthly_school_sessions: int = 1


@dataclass(frozen=True)
class TitleReviewPolicy:
    """Title review and honours (people): the waiver, the honour certificate, what counts as homeroom service."""

    # DOMAIN.md, title review: the paper requirement is waived when all hold: ≥ 30 years of teaching, of them
    # ≥ 20 years as homeroom teacher, currently homeroom teacher, ≥ 1 "excellent" evaluation in the last 5 years.
    title_teaching_years: int = 30
    title_homeroom_years: int = 20
    title_excellent_within_years: int = 5
    # DOMAIN.md, honours: a certificate for homeroom teachers in post with ≥ 20 years of service.
    honour_homeroom_years: int = 20
    # Which service-period kinds count as years "as homeroom teacher" (comma-separated; backend/people/rules.py
    # explains the default: the class's own homeroom teacher, appointed or on rotation; not deputy, not trainee).
    homeroom_service_kinds: str = "homeroom,rotating"


@dataclass(frozen=True)
class OrganisationPolicy:
    """The homeroom organisation (organisation, issue 16): school year, workshops, tiers, mentoring, reserve pool."""

    # Issue 16, the homeroom organisation. A school year (学年) starts on the 1st of this month (9: September).
    school_year_start_month: int = 9
    # The plan, 二(二)2: a school with ≥ 15 classes must have a school workshop (校级工作室) of ≥ 8 members; a school
    # with fewer classes may meet it through a joint workshop (联合工作室) with neighbouring schools.
    workshop_min_classes: int = 15
    workshop_min_members: int = 8
    # The plan, 二(二)1: 地平线 is for new and qualifying-stage homeroom teachers; the tier suggested for trainees.
    tier_suggested_for_trainees: str = "horizon"
    # The plan, 二(一)2 and 二(三)1 (在岗跟岗指导、带教): a signed-off mentoring pair credits both people with the
    # hours of its meeting log, at most this many, in this credit category and level.
    mentoring_max_hours: Decimal = Decimal("12")
    mentoring_category: str = "practice"
    mentoring_level: str = "school"
    # The plan, 二(一)1 (建立班主任储备池，将愿担责且考评合格的教师纳入，强化滚动培训并定期更新):
    # the district's criteria for the reserve pool. A school nominates a teacher whose latest annual
    # evaluation is at least this result (考评合格; empty: no condition), with the teacher's willingness
    # confirmed (愿担责); the district reviews each member at least every this many months (定期更新;
    # a member not reviewed for longer is shown as due).
    reserve_min_evaluation: str = "qualified"
    reserve_requires_willingness: bool = True
    reserve_review_months: int = 12


@dataclass(frozen=True)
class Policy:
    """The merged policy, one section per owning domain (`policy.viewing.coverage_threshold`).

    A setting keeps one flat name, its field's name, everywhere outside this object: the `policy_settings` key, the
    `catalog.SETTINGS` key, the policy page's input and the audit log (so sections needed no migration). Which
    section holds a setting is said once, by the section classes above (`SECTION_OF` reads it from them).
    """

    induction: InductionPolicy = field(default_factory=InductionPolicy)
    viewing: ViewingPolicy = field(default_factory=ViewingPolicy)
    credits: CreditPolicy = field(default_factory=CreditPolicy)
    content: ContentPolicy = field(default_factory=ContentPolicy)
    security: SecurityPolicy = field(default_factory=SecurityPolicy)
    training: TrainingPolicy = field(default_factory=TrainingPolicy)
    title_review: TitleReviewPolicy = field(default_factory=TitleReviewPolicy)
    organisation: OrganisationPolicy = field(default_factory=OrganisationPolicy)

    def value(self, name: str) -> object:
        """A setting by its name (`policy.value("coverage_threshold")`), for code that goes through every setting."""
        return getattr(getattr(self, SECTION_OF[name]), name)

    def with_values(self, **values: Any) -> Policy:
        """This policy with some settings changed, by name, each in its own section: how `load_policy` applies the
        district's overrides and how tests and scripts make a policy (`DEFAULT_POLICY.with_values(lease_seconds=5)`).
        An unknown name is a TypeError, like an unknown keyword."""
        unknown = sorted(set(values) - SECTION_OF.keys())
        if unknown:
            raise TypeError(f"unknown policy settings: {', '.join(unknown)}")
        by_section: dict[str, dict[str, Any]] = {}
        for name, value in values.items():
            by_section.setdefault(SECTION_OF[name], {})[name] = value
        return replace(self, **{key: replace(getattr(self, key), **changes) for key, changes in by_section.items()})


DEFAULT_POLICY = Policy()

# Each setting's section, read from the section classes (the one place that says it); in the order of the classes.
SECTION_OF: dict[str, str] = {
    name.name: section.name for section in fields(Policy) for name in fields(getattr(DEFAULT_POLICY, section.name))
}


def out_of_bounds(name: str, value: object) -> str | None:
    """Why `value` may not be set for `name` whoever sets it (a message id), or None: the safe bounds of the
    security numbers (issue 14), declared once with their reasons in `catalog.SETTINGS` (`Setting.guarded`)."""
    meta = SETTINGS.get(name)
    if meta is None or not meta.guarded or meta.within(value):
        return None
    return meta.reason


_CACHE_SECONDS = 10.0
_cache: tuple[float, Policy] | None = None


def _coerce(name: str, raw: object) -> object:
    kind = type(DEFAULT_POLICY.value(name))
    try:
        if kind is bool:
            if isinstance(raw, str):
                return raw.strip().lower() in ("1", "true", "yes", "on")
            return bool(raw)
        return kind(str(raw)) if kind is Decimal else kind(raw)  # type: ignore[call-arg]
    except (ValueError, ArithmeticError, TypeError) as exc:
        raise InvalidInput("Invalid value for policy %(name)s", name=name) from exc


_ROWS = select(PolicySetting.key, PolicySetting.value)


def _fresh() -> Policy | None:
    return _cache[1] if _cache and time.monotonic() - _cache[0] < _CACHE_SECONDS else None


def _remember(policy: Policy) -> Policy:
    global _cache
    _cache = (time.monotonic(), policy)
    return policy


def load_policy(session: Session) -> Policy:
    """The merged policy. Cached for a few seconds per process (one cache, shared with `load_policy_async`): it
    changes rarely and is read on every heartbeat."""
    cached = _fresh()
    if cached is not None:
        return cached
    return _remember(policy_from_rows((key, value) for key, value in session.execute(_ROWS)))


async def load_policy_async(conn: AsyncConnection) -> Policy:
    """`load_policy` on an async connection (the heartbeat writer's), through the same cache."""
    cached = _fresh()
    if cached is not None:
        return cached
    return _remember(policy_from_rows((key, value) for key, value in await conn.execute(_ROWS)))


def policy_from_rows(rows: Iterable[tuple[str, object]]) -> Policy:
    # Any: each value was coerced to its field's own type by _coerce.
    changes: dict[str, Any] = {k: _coerce(k, v) for k, v in rows if k in SECTION_OF}
    return DEFAULT_POLICY.with_values(**changes)


def parse_setting(name: str, raw: str) -> object:
    """A value typed on the policy page, as the setting's type, within its declared range (`catalog.SETTINGS`).

    Raises InvalidInput with a message that says what is accepted. `set_policy` itself takes any value of the right
    type (tests and scripts shorten time limits); people change settings through this check.
    """
    meta = SETTINGS[name]
    raw = raw.strip()
    if meta.choices:
        codes = [code for code, _label in meta.choices]
        picked = [part.strip() for part in raw.split(",") if part.strip()] if meta.multiple else [raw]
        if not picked or any(code not in codes for code in picked):
            raise InvalidInput("Choose from the list.")
        raw = ",".join(code for code in codes if code in picked)  # stored in the list's order, no duplicates
    kind = type(DEFAULT_POLICY.value(name))
    try:
        value = _coerce(name, raw)
    except InvalidInput:
        if kind is int:
            raise InvalidInput("Enter a whole number.") from None
        raise InvalidInput("Enter a number.") from None
    if meta.within(value):
        return value
    if meta.reason:  # a safe bound: say why
        raise InvalidInput(meta.reason)
    number = Decimal(str(value))
    if not number.is_finite():
        raise InvalidInput("Not a valid value.")
    low = meta.minimum if meta.minimum is not None else number
    high = meta.maximum if meta.maximum is not None else number
    raise InvalidInput("Enter a number from %(low)s to %(high)s.", low=low, high=high)


def set_policy(session: Session, key: str, value: object, actor_id: int | None) -> Policy:
    """Changes one policy value, audited ("policy.set", with the value before and after), whoever calls it."""
    if key not in SECTION_OF:
        raise InvalidInput("Unknown policy %(name)s", name=key)
    coerced = _coerce(key, value)
    before = load_policy(session).value(key)
    problem = out_of_bounds(key, coerced)
    if problem:
        raise InvalidInput(_("Please correct the marked fields."), fields={key: problem})
    row = session.get(PolicySetting, key)
    stored = str(coerced) if isinstance(coerced, Decimal) else coerced
    if row is None:
        session.add(PolicySetting(key=key, value=stored, updated_at=clock.now(), updated_by=actor_id))
    else:
        row.value, row.updated_at, row.updated_by = stored, clock.now(), actor_id
    session.flush()
    audit.record(
        session, "policy.set", actor_id=actor_id, subject_type="policy", subject_id=key,
        before={key: as_text(before)}, after={key: as_text(coerced)},
    )
    forget_cached_policy()
    return load_policy(session)


def as_text(value: object) -> str:
    """A policy value as the policy page shows it and the audit log records it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def forget_cached_policy() -> None:
    global _cache
    _cache = None


def policy_as_dict(policy: Policy) -> dict[str, object]:
    """Every setting by its name (flat, as stored), Decimals as text."""
    values = {name: policy.value(name) for name in SECTION_OF}
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()}
