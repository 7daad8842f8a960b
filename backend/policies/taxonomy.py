"""The four tiers and the eight induction topics (DOMAIN.md). Names are gettext message ids."""

from __future__ import annotations

from dataclasses import dataclass

from backend.kit.i18n import _


@dataclass(frozen=True)
class Label:
    code: str
    name: str  # English msgid; zh_CN catalog has the Chinese name users see
    blurb: str = ""


TIERS: tuple[Label, ...] = (
    Label("horizon", _("Horizon"), _("New and qualified-stage homeroom teachers: induction and school-based study")),
    Label("compass", _("Compass"), _("Mature and backbone teachers: workshops, basic skills, class features")),
    Label("climber", _("Climber"), _("Research-oriented teachers: advanced seminars and research methods")),
    Label("starry", _("Starry Sky"), _("Expert-level teachers: practicum with experts, district leaders")),
)

# DOMAIN.md, Induction: the eight topics the 32-hour pre-service training must cover.
TOPICS: tuple[Label, ...] = (
    Label("norms", _("Homeroom work norms")),
    Label("moral", _("Moral education")),
    Label("mental_health", _("Mental-health guidance")),
    Label("family", _("Family-education guidance")),
    Label("special_needs", _("Special-needs students")),
    Label("crisis", _("Class crisis intervention")),
    Label("activities", _("Activity design and management")),
    Label("policy_law", _("Education policy and law")),
)

# DOMAIN.md, Shanghai credits: the four credit categories and the four study levels (四级联动研修). Defined here
# once, below every package that names them (courses carry a category; the ledger both); `backend.credits.hours`
# sums by them.
CREDIT_CATEGORIES: tuple[Label, ...] = (
    Label("ethics", _("Ethics")),
    Label("knowledge_skills", _("Knowledge and skills")),
    Label("practice", _("Practice")),
    Label("self_study", _("Self-study")),
)

CREDIT_LEVELS: tuple[Label, ...] = (
    Label("city", _("City level")),
    Label("district", _("District level")),
    Label("school", _("School-based")),
    Label("workshop", _("Workshop")),
)

TIER_CODES = frozenset(t.code for t in TIERS)
TOPIC_CODES = frozenset(t.code for t in TOPICS)
TIER_BY_CODE = {t.code: t for t in TIERS}
TOPIC_BY_CODE = {t.code: t for t in TOPICS}
CATEGORY_CODES = frozenset(c.code for c in CREDIT_CATEGORIES)
LEVEL_CODES = frozenset(level.code for level in CREDIT_LEVELS)
