"""What each policy setting means to the district administrator who may change it (issue 18).

One declaration per setting — its Chinese name (a gettext msgid), unit, the rule it comes from, the section of the
policy page, the allowed range and, for a code, the choices — so that a new setting or a new bound (issue 14's safe
bounds for the security settings) is one line here. The default values, and the section of `service.Policy` that
holds each setting (the domain that reads it: `policy.viewing`, `policy.security`, …), stay in `service`'s section
classes; a test checks that every field of every section is declared here, and nothing else. (The page's sections
below group settings for the reader and need not match the policy's sections.)

The range is what the policy page accepts (`service.parse_setting`, on the server); the browser shows it as the
input's min/max and in words. `reason` says why a bound is where it is; a range with a reason is a safe bound (the
security numbers, issue 14) that `service.set_policy` enforces for every caller. This is the one declaration of
those bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from backend.kit.i18n import _

# Sections of the policy page, in order: (key, heading msgid).
SECTIONS = (
    ("induction", _("Induction training")),
    ("credits", _("Annual hours and the five-year credit cycle")),
    ("viewing", _("Video viewing and attention checks")),
    ("courses", _("Courses, quizzes and uploads")),
    ("offline", _("Offline study and check-in")),
    ("title", _("Title review and honours")),
    ("security", _("Sign-in and account security")),
)

# Units (msgids), as a reader says them after a number.
HOURS, CREDITS, YEARS = _("credit hours"), _("credits"), _("years")
MINUTES, SECONDS, MS = _("minutes"), _("seconds"), _("milliseconds")
TIMES, CHARS, POINTS, BYTES = _("times"), _("characters"), _("points"), _("bytes")
SESSIONS, RATE, SHARE, YEAR = _("sessions a month"), _("× normal speed"), _("share (0.9 = 90%)"), _("(a year)")


@dataclass(frozen=True)
class Setting:
    label: str  # msgid: the setting's name on the page
    section: str  # a key of SECTIONS
    source: str  # msgid: the rule or document the value comes from
    unit: str = ""  # msgid
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    choices: tuple[tuple[str, str], ...] = ()  # (code, label msgid): a select, or checkboxes when `multiple`
    multiple: bool = False  # a comma-separated list of codes
    reason: str = ""  # msgid: why the range is what it is; a range with a reason is a safe bound (see `guarded`)

    @property
    def guarded(self) -> bool:
        """A safe bound (issue 14's security numbers): `service.set_policy` refuses a value outside the range with
        the reason, whoever calls it. Other ranges are what the policy page accepts; scripts and tests may go
        beyond them (a one-second heartbeat, say)."""
        return bool(self.reason) and (self.minimum is not None or self.maximum is not None)

    def within(self, value: object) -> bool:
        """Whether `value` lies in the declared range (no range: any value). A switch counts 1 for on, 0 for off."""
        if self.minimum is None and self.maximum is None:
            return True
        number = Decimal(int(value)) if isinstance(value, bool) else Decimal(str(value))
        if not number.is_finite():
            return False
        return (self.minimum is None or self.minimum <= number) and (self.maximum is None or number <= self.maximum)

    @property
    def control(self) -> str:
        """The input the page shows: switch (on/off), choice, choices (several), number or text."""
        if self.choices == SWITCH:
            return "switch"
        if self.choices:
            return "choices" if self.multiple else "choice"
        return "number" if self.minimum is not None or self.maximum is not None else "text"


def D(value: str | int) -> Decimal:  # noqa: N802 - reads like a literal in the table below
    return Decimal(str(value))


_DOMAIN_INDUCTION = _("DOMAIN.md, induction (pre-service training)")
_DOMAIN_CYCLE = _("Shanghai 14th five-year teacher training credits")
_DOMAIN_IDLE = _("DOMAIN.md, anti-idle practice")
_ISSUE_2 = _("Portal rule: verified viewing time")
_ISSUE_4 = _("Portal rule: course studio and media")
_ISSUE_5 = _("Portal rule: offline study check-in")
_ASVS = _("Portal security rule (OWASP ASVS)")
_TITLE = _("DOMAIN.md, title review and honours")

LEVEL_CHOICES = (("city", _("City level")), ("district", _("District level")), ("school", _("School-based")))
SWITCH = (("true", _("On")), ("false", _("Off")))
KIND_CHOICES = (
    ("homeroom", _("Homeroom teacher")),
    ("deputy", _("Deputy homeroom teacher")),
    ("trainee", _("Trainee homeroom teacher")),
    ("rotating", _("Rotating homeroom teacher")),
)

SETTINGS: dict[str, Setting] = {
    # --- induction ---------------------------------------------------------------------------------------------
    "induction_hours": Setting(
        _("Induction: credit hours required"), "induction", _DOMAIN_INDUCTION, HOURS, D(1), D(200)
    ),
    "induction_trainee_years": Setting(
        _("Induction: years as trainee homeroom teacher"), "induction", _DOMAIN_INDUCTION, YEARS, D(0), D(5)
    ),
    "induction_assessment_course": Setting(
        _("Induction: code of the assessment course"), "induction", _DOMAIN_INDUCTION
    ),
    # --- annual hours and the credit cycle -------------------------------------------------------------------------
    "annual_hours_target": Setting(
        _("Annual hours of a homeroom teacher"),
        "credits",
        _("National rule: 360 hours per five-year cycle"),
        HOURS,
        D(0),
        D(500),
    ),
    "cycle_first_year": Setting(
        _("Credit cycle: first year of a cycle"), "credits", _DOMAIN_CYCLE, YEAR, D(2000), D(2100)
    ),
    "cycle_years": Setting(_("Credit cycle: years per cycle"), "credits", _DOMAIN_CYCLE, YEARS, D(1), D(10)),
    "cycle_credits": Setting(_("Credit cycle: credits required"), "credits", _DOMAIN_CYCLE, CREDITS, D(0), D(200)),
    "cycle_min_ethics": Setting(
        _("Credit cycle: minimum credits, ethics"), "credits", _DOMAIN_CYCLE, CREDITS, D(0), D(200)
    ),
    "cycle_min_knowledge_skills": Setting(
        _("Credit cycle: minimum credits, knowledge and skills"), "credits", _DOMAIN_CYCLE, CREDITS, D(0), D(200)
    ),
    "cycle_min_practice": Setting(
        _("Credit cycle: minimum credits, practice"), "credits", _DOMAIN_CYCLE, CREDITS, D(0), D(200)
    ),
    "cycle_min_self_study": Setting(
        _("Credit cycle: minimum credits, self-study"), "credits", _DOMAIN_CYCLE, CREDITS, D(0), D(200)
    ),
    "cycle_max_self_study": Setting(
        _("Credit cycle: self-study credits counted at most"), "credits", _DOMAIN_CYCLE, CREDITS, D(0), D(200)
    ),
    "cycle_min_city": Setting(
        _("Credit cycle: minimum credits, city level"), "credits", _DOMAIN_CYCLE, CREDITS, D(0), D(200)
    ),
    "cycle_min_district": Setting(
        _("Credit cycle: minimum credits, district level"), "credits", _DOMAIN_CYCLE, CREDITS, D(0), D(200)
    ),
    "cycle_min_school": Setting(
        _("Credit cycle: minimum credits, school-based"), "credits", _DOMAIN_CYCLE, CREDITS, D(0), D(200)
    ),
    "workshop_counts_as_level": Setting(
        _("Credit cycle: level that workshop hours count toward"), "credits", _DOMAIN_CYCLE, choices=LEVEL_CHOICES
    ),
    "hours_per_credit": Setting(
        _("Hours per credit"),
        "credits",
        _("National 360 hours per cycle against Shanghai's 36 credits"),
        HOURS,
        D(1),
        D(100),
    ),
    # --- viewing -----------------------------------------------------------------------------------------------
    "coverage_threshold": Setting(
        _("Share of a video to watch before it counts"), "viewing", _ISSUE_2, SHARE, D("0.5"), D(1)
    ),
    "max_playback_rate": Setting(
        _("Fastest playback speed that still counts"), "viewing", _DOMAIN_IDLE, RATE, D("0.5"), D(2)
    ),
    "heartbeat_seconds": Setting(_("How often the player reports viewing"), "viewing", _ISSUE_2, SECONDS, D(1), D(60)),
    "late_beat_window_seconds": Setting(
        _("Reports sent late (after a network gap) accepted for"), "viewing", _ISSUE_2, SECONDS, D(0), D(3600)
    ),
    "allow_seek_ahead": Setting(
        _("Teachers may skip ahead past what they have watched"), "viewing", _DOMAIN_IDLE, choices=SWITCH
    ),
    "prompt_min_minutes": Setting(
        _("Attention check: shortest gap between checks"), "viewing", _DOMAIN_IDLE, MINUTES, D(1), D(120)
    ),
    "prompt_max_minutes": Setting(
        _("Attention check: longest gap between checks"), "viewing", _DOMAIN_IDLE, MINUTES, D(1), D(120)
    ),
    "prompt_answer_seconds": Setting(
        _("Attention check: time to answer"), "viewing", _DOMAIN_IDLE, SECONDS, D(10), D(600)
    ),
    "daily_cap_hours": Setting(_("Viewing hours counted per day at most"), "viewing", _DOMAIN_IDLE, HOURS, D(0), D(24)),
    "lease_seconds": Setting(
        _("A silent playback gives up its turn after"),
        "viewing",
        _("Portal rule: one counted playback per teacher"),
        SECONDS,
        D(10),
        D(600),
    ),
    "position_slack_ms": Setting(
        _("Clock tolerance between the player and the server"), "viewing", _ISSUE_2, MS, D(0), D(10000)
    ),
    # --- courses, quizzes, uploads -----------------------------------------------------------------------------
    "default_pass_mark": Setting(
        _("Quiz pass mark unless a course sets its own"), "courses", _("Portal rule: quizzes"), POINTS, D(0), D(100)
    ),
    "default_max_attempts": Setting(
        _("Quiz attempts allowed unless a course sets its own"),
        "courses",
        _("Portal rule: quizzes"),
        TIMES,
        D(1),
        D(20),
    ),
    "minutes_per_credit_hour": Setting(
        _("Minutes of content per credit hour a course may claim"), "courses", _ISSUE_4, MINUTES, D(10), D(120)
    ),
    "minutes_per_document_page": Setting(
        _("Minutes of content counted per document page"), "courses", _ISSUE_4, MINUTES, D(0), D(60)
    ),
    "text_chars_per_minute": Setting(
        _("Reading speed for text lessons"), "courses", _ISSUE_4, _("characters a minute"), D(50), D(2000)
    ),
    "upload_max_bytes": Setting(
        _("Largest file a trainer may upload"), "courses", _ISSUE_4, BYTES, D(1), D(20 * 1024**3)
    ),
    "upload_max_video_minutes": Setting(_("Longest lesson video accepted"), "courses", _ISSUE_4, MINUTES, D(0), D(600)),
    # --- offline study -----------------------------------------------------------------------------------------
    "offline_full_day_hours": Setting(
        _("Hours of a full offline training day"), "offline", _("DOMAIN.md, related rules"), HOURS, D(0), D(12)
    ),
    "offline_half_day_hours": Setting(
        _("Hours of a half offline training day"), "offline", _("DOMAIN.md, related rules"), HOURS, D(0), D(12)
    ),
    "checkin_code_seconds": Setting(
        _("The check-in QR code changes every"), "offline", _ISSUE_5, SECONDS, D(10), D(300)
    ),
    "checkin_grace_minutes": Setting(
        _("Check-in opens before the start and stays open after the end for"),
        "offline",
        _ISSUE_5,
        MINUTES,
        D(0),
        D(240),
    ),
    "checkin_confirm_minutes": Setting(
        _("Time to sign in and confirm after scanning"), "offline", _ISSUE_5, MINUTES, D(1), D(60)
    ),
    "monthly_school_sessions": Setting(
        _("School-based sessions each school holds a month"),
        "offline",
        _("District plan: school-based study every month"),
        SESSIONS,
        D(0),
        D(10),
    ),
    # --- title review and honours ------------------------------------------------------------------------------
    "title_teaching_years": Setting(_("Title review waiver: years of teaching"), "title", _TITLE, YEARS, D(0), D(50)),
    "title_homeroom_years": Setting(
        _("Title review waiver: years as homeroom teacher"), "title", _TITLE, YEARS, D(0), D(50)
    ),
    "title_excellent_within_years": Setting(
        _("Title review waiver: an excellent evaluation within the last"), "title", _TITLE, YEARS, D(1), D(20)
    ),
    "honour_homeroom_years": Setting(
        _("Honour certificate: years as homeroom teacher"), "title", _TITLE, YEARS, D(1), D(50)
    ),
    "homeroom_service_kinds": Setting(
        _("Service kinds that count as homeroom teacher"), "title", _TITLE, choices=KIND_CHOICES, multiple=True
    ),
    # --- security: safe bounds (issue 14). Each range has a reason, so `service.set_policy` enforces it for every
    # caller, not only the page: the security numbers may be tightened, never turned off. ----------------------------
    "session_idle_minutes": Setting(
        _("Sign out after this long without activity"), "security", _ASVS, MINUTES, D(5), D(30),
        reason=_("A session ends after at most 30 minutes idle (ASVS 3.3.2)."),
    ),
    "session_absolute_hours": Setting(
        _("Sign out after this long in any case"), "security", _ASVS, _("hours"), D(1), D(12),
        reason=_("A session ends at most 12 hours after sign-in (ASVS 3.3.2)."),
    ),
    "login_max_failures_per_account": Setting(
        _("Wrong passwords for one account before it is locked"), "security", _ASVS, TIMES, D(3), D(10),
        reason=_("Between 3 and 10 failed sign-ins of a name from one address (ASVS 2.2.1)."),
    ),
    "login_max_failures_per_address": Setting(
        _("Wrong passwords from one network address before it is locked"), "security", _ASVS, TIMES, D(5), D(100),
        reason=_("Between 5 and 100 failed sign-ins from one address (ASVS 2.2.1)."),
    ),
    "login_window_minutes": Setting(
        _("Wrong passwords are counted over"), "security", _ASVS, MINUTES, D(5), D(60),
        reason=_("Failures are counted over 5 to 60 minutes (ASVS 2.2.1)."),
    ),
    "login_lockout_minutes": Setting(
        _("A locked account or address waits"), "security", _ASVS, MINUTES, D(1), D(60),
        reason=_("A lockout lasts 1 to 60 minutes (ASVS 2.2.1)."),
    ),
    "password_min_length": Setting(
        _("Shortest password accepted"), "security", _ASVS, CHARS, D(12), D(64),
        reason=_("Passwords need at least 12 characters (ASVS 2.1.1); at most 64 may be required."),
    ),
    "admin_totp_required": Setting(
        _("Administrators must sign in with a second step"), "security", _ASVS, choices=SWITCH,
        minimum=D(1), maximum=D(1),  # on only (a switch's value counts 1 for on)
        reason=_("Administrators must sign in with a second factor (ASVS 4.3.1)."),
    ),
    "login_max_failures_per_account_any_address": Setting(
        _("Wrong passwords for one account from every address before it is locked everywhere"),
        "security", _ASVS, TIMES, D(10), D(100),
        reason=_("Between 10 and 100 failed sign-ins of a name from every address (ASVS 2.2.1)."),
    ),
    "login_account_lockout_minutes": Setting(
        _("An account locked everywhere waits"), "security", _ASVS, MINUTES, D(1), D(5),
        reason=_("A name is locked for everyone for 1 to 5 minutes only: its owner is not locked out for long (ASVS 2.2.1)."),  # noqa: E501 - one msgid
    ),
    # --- issue 16: the homeroom organisation ----------------------------------------------------------------------
    "school_year_start_month": Setting(
        _("School year: month it starts in"), "induction", _("District plan 二(一)3"), "", D(1), D(12)
    ),
    "workshop_min_classes": Setting(
        _("Workshop rule: classes from which a school workshop is required"), "credits", _("District plan 二(二)2"),
        "", D(1), D(200),
    ),
    "workshop_min_members": Setting(
        _("Workshop rule: minimum members of the workshop"), "credits", _("District plan 二(二)2"), "", D(1), D(200)
    ),
    "tier_suggested_for_trainees": Setting(
        _("Tier suggested for trainee homeroom teachers"), "induction", _("District plan 二(二)1")
    ),
    "mentoring_max_hours": Setting(
        _("Mentoring: hours credited at most per pair"), "credits", _("District plan 二(一)2"), HOURS, D(0), D(200)
    ),
    "mentoring_category": Setting(_("Mentoring: credit category"), "credits", _("District plan 二(一)2")),
    "mentoring_level": Setting(
        _("Mentoring: credit level"), "credits", _("District plan 二(一)2"), choices=LEVEL_CHOICES
    ),
    # --- issue 16: the reserve pool (储备池) -------------------------------------------------------------------------
    "reserve_min_evaluation": Setting(
        _("Reserve pool: lowest latest annual evaluation (empty: none)"), "induction", _("District plan 二(一)1"),
        choices=(("", _("No requirement")), ("excellent", _("Excellent")), ("qualified", _("Qualified")),
                 ("basic", _("Basically qualified"))),
    ),
    "reserve_requires_willingness": Setting(
        _("Reserve pool: the teacher's willingness must be confirmed"), "induction", _("District plan 二(一)1"),
        choices=SWITCH,
    ),
    "reserve_review_months": Setting(
        _("Reserve pool: review each member at least every (months)"), "induction", _("District plan 二(一)1"), "",
        D(1), D(60),
    ),
}
