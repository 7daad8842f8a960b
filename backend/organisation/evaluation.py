"""Workshop evaluation (the plan's 二(二)2: 研制评估指标，做好区、校工作室评估工作).

Indicator sets are versioned. A district admin writes a set as a draft (indicators: a name, a maximum score and,
optionally, a figure the portal fills in itself), then publishes it. A published version never changes again: a
change is a new version, a draft copy with the next version number (`new_version`); evaluations keep pointing at the
version they were scored against.

A workshop's evaluation is per calendar year (the year `backend.credits.hours` counts hours by) against a published
set: the host (主持人) submits the self-assessment once; district admins (the reviewers) score each indicator, each
reviewer once per indicator (a second score replaces their first). Neither is asked for a figure the portal already
knows; they are read, shown beside the indicator, and kept with each score as they stood when it was given:
- activities: the workshop's activities held that year (not cancelled, on or before today);
- attendance: attendances recorded at those activities (`backend.training.service.attendee_count`);
- certified_hours: the certified hours of the year of the teachers who were members at some time in the year, read
  through `backend.credits.hours` (the one reading of the ledger);
- outputs_accepted: the workshop's outputs accepted by the host, submitted that year.

Who: district admins define sets and score; the host self-assesses; the host, district admins and the admins who see
the workshop (`workshops.get_workshop`) read the evaluation. Every change is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.audit import service as audit
from backend.credits import hours
from backend.kit import clock
from backend.kit.clock import SHANGHAI
from backend.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.organisation import scope, workshops
from backend.organisation.models import (
    EvaluationScore,
    Indicator,
    IndicatorSet,
    Workshop,
    WorkshopActivity,
    WorkshopEvaluation,
    WorkshopMember,
    WorkshopOutput,
)
from backend.training import service as training
from backend.training.models import TrainingSession

FIGURES = ("activities", "attendance", "certified_hours", "outputs_accepted")
FIGURE_LABELS = {
    "activities": _("Activities held"),
    "attendance": _("Attendances at activities"),
    "certified_hours": _("Members' certified hours"),
    "outputs_accepted": _("Outputs accepted"),
}
MAX_SCORE = Decimal("1000")
FIRST_YEAR = 2000


def require_district(actor: User) -> None:
    if actor.role != Role.district_admin:
        raise Forbidden(_("Only district administrators define indicators and score workshops."))


def _audit(session: Session, action: str, actor: User, subject_type: str, subject_id: int, **kw: Any) -> None:
    audit.record(session, action, actor_id=actor.id, subject_type=subject_type, subject_id=subject_id, **kw)


# ---------------------------------------------------------------------------------------------------------------
# Indicator sets


def _score_value(raw: object, field: str, errors: dict[str, str], upper: Decimal = MAX_SCORE) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
        if not value.is_finite() or value < 0 or value > upper or value != value.quantize(Decimal("0.1")):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors[field] = _("Enter a score from 0 up to the indicator's maximum, with at most one decimal.")
        return Decimal("0")
    return value.quantize(Decimal("0.1"))


def get_set(session: Session, set_id: int) -> IndicatorSet:
    found = session.get(IndicatorSet, set_id)
    if found is None:
        raise NotFound(_("This indicator set does not exist."))
    return found


def indicators_of(session: Session, set_id: int) -> list[Indicator]:
    return list(
        session.scalars(select(Indicator).where(Indicator.set_id == set_id).order_by(Indicator.position, Indicator.id))
    )


def list_sets(session: Session) -> list[IndicatorSet]:
    return list(session.scalars(select(IndicatorSet).order_by(IndicatorSet.name, IndicatorSet.version.desc())))


def latest_published(session: Session) -> IndicatorSet | None:
    return session.scalar(
        select(IndicatorSet)
        .where(IndicatorSet.status == "published")
        .order_by(IndicatorSet.published_at.desc(), IndicatorSet.id.desc())
        .limit(1)
    )


def create_set(session: Session, actor: User, name: str) -> IndicatorSet:
    """A new set, version 1, as a draft (a new version of an existing set: `new_version`)."""
    require_district(actor)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput(
            _("Please correct the marked fields."), fields={"name": _("Enter a name of 1 to 100 characters.")}
        )
    if session.scalar(select(IndicatorSet.id).where(IndicatorSet.name == name).limit(1)) is not None:
        raise Conflict(_("An indicator set of this name exists: make a new version of it instead."))
    made = IndicatorSet(name=name, version=1, status="draft", created_by=actor.id, created_at=clock.now())
    session.add(made)
    session.flush()
    _audit(session, "organisation.indicator_set_create", actor, "indicator_set", made.id,
           after={"name": name, "version": 1})  # fmt: skip
    return made


def _draft(session: Session, actor: User, set_id: int) -> IndicatorSet:
    require_district(actor)
    found = get_set(session, set_id)
    if found.status != "draft":
        raise Conflict(_("A published indicator set is not edited: make a new version of it."))
    return found


def add_indicator(
    session: Session, actor: User, set_id: int, name: str, max_score: object, figure: str = ""
) -> Indicator:
    found = _draft(session, actor, set_id)
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name or len(name) > 200:
        errors["name"] = _("Enter a name of 1 to 200 characters.")
    top = _score_value(max_score, "max_score", errors)
    if "max_score" in errors or top <= 0:
        errors["max_score"] = _("Enter a maximum score above 0, up to 1000, with at most one decimal.")
    figure = (figure or "").strip()
    if figure and figure not in FIGURES:
        errors["figure"] = _("Choose a figure from the list, or none.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    position = (session.scalar(select(func.max(Indicator.position)).where(Indicator.set_id == found.id)) or 0) + 1
    made = Indicator(set_id=found.id, position=position, name=name, max_score=top, figure=figure)
    session.add(made)
    session.flush()
    _audit(session, "organisation.indicator_add", actor, "indicator_set", found.id,
           after={"indicator_id": made.id, "name": name, "max_score": str(top), "figure": figure})  # fmt: skip
    return made


def remove_indicator(session: Session, actor: User, indicator_id: int) -> None:
    indicator = session.get(Indicator, indicator_id)
    if indicator is None:
        require_district(actor)
        raise NotFound(_("This indicator does not exist."))
    found = _draft(session, actor, indicator.set_id)
    before = {"indicator_id": indicator.id, "name": indicator.name, "max_score": str(indicator.max_score)}
    session.delete(indicator)
    session.flush()
    _audit(session, "organisation.indicator_remove", actor, "indicator_set", found.id, before=before)


def publish(session: Session, actor: User, set_id: int) -> IndicatorSet:
    found = _draft(session, actor, set_id)
    if not indicators_of(session, found.id):
        raise InvalidInput(_("Add at least one indicator before publishing."))
    found.status, found.published_by, found.published_at = "published", actor.id, clock.now()
    session.flush()
    _audit(session, "organisation.indicator_set_publish", actor, "indicator_set", found.id,
           before={"status": "draft"}, after={"status": "published", "version": found.version})  # fmt: skip
    return found


def new_version(session: Session, actor: User, set_id: int) -> IndicatorSet:
    """A draft copy of a published set with the next version number of its name."""
    require_district(actor)
    source = get_set(session, set_id)
    if source.status != "published":
        raise Conflict(_("Edit the draft itself; a new version is made from a published one."))
    if session.scalar(
        select(IndicatorSet.id).where(IndicatorSet.name == source.name, IndicatorSet.status == "draft").limit(1)
    ):
        raise Conflict(_("A draft version of this set exists already: edit it."))
    top = session.scalar(select(func.max(IndicatorSet.version)).where(IndicatorSet.name == source.name)) or 0
    made = IndicatorSet(name=source.name, version=top + 1, status="draft", created_by=actor.id, created_at=clock.now())
    session.add(made)
    session.flush()
    for item in indicators_of(session, source.id):
        session.add(
            Indicator(set_id=made.id, position=item.position, name=item.name, max_score=item.max_score,
                      figure=item.figure)  # fmt: skip
        )
    session.flush()
    _audit(session, "organisation.indicator_set_version", actor, "indicator_set", made.id,
           after={"name": made.name, "version": made.version, "from_set_id": source.id})  # fmt: skip
    return made


# ---------------------------------------------------------------------------------------------------------------
# Figures the portal knows


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def member_ids(session: Session, workshop_id: int, year: int) -> list[int]:
    """Teachers with a term in the workshop at some time in the year."""
    first, last = _year_bounds(year)
    return sorted(
        set(
            session.scalars(
                select(WorkshopMember.user_id).where(
                    WorkshopMember.workshop_id == workshop_id,
                    WorkshopMember.start <= last,
                    or_(WorkshopMember.end.is_(None), WorkshopMember.end >= first),
                )
            )
        )
    )


def figures(session: Session, workshop_id: int, year: int) -> dict[str, Decimal]:
    """The four figures of a workshop's year, read from where they live (training, the ledger, the outputs)."""
    first, last = _year_bounds(year)
    held = list(
        session.scalars(
            select(TrainingSession)
            .join(WorkshopActivity, WorkshopActivity.session_id == TrainingSession.id)
            .where(
                WorkshopActivity.workshop_id == workshop_id,
                TrainingSession.cancelled_at.is_(None),
                TrainingSession.day.between(first, min(last, scope.today())),
            )
        )
    )
    attendance = sum(training.attendee_count(session, ts) for ts in held)
    members = member_ids(session, workshop_id, year)
    certified = hours.totals(session, user=members, year=year).get((), hours.NONE).certified if members else Decimal(0)
    start = datetime.combine(first, time.min, tzinfo=SHANGHAI)
    end = datetime.combine(date(year + 1, 1, 1), time.min, tzinfo=SHANGHAI)
    accepted = session.scalar(
        select(func.count(WorkshopOutput.id)).where(
            WorkshopOutput.workshop_id == workshop_id,
            WorkshopOutput.status == "accepted",
            WorkshopOutput.created_at >= start,
            WorkshopOutput.created_at < end,
        )
    )
    return {
        "activities": Decimal(len(held)),
        "attendance": Decimal(attendance),
        "certified_hours": Decimal(certified),
        "outputs_accepted": Decimal(accepted or 0),
    }


# ---------------------------------------------------------------------------------------------------------------
# A workshop's evaluation


def _may_read(session: Session, actor: User, workshop_id: int) -> Workshop:
    workshop = session.get(Workshop, workshop_id)
    if workshop is None:
        raise NotFound(_("This workshop does not exist or is not open to you."))
    if workshop.host_id == actor.id:
        return workshop
    if actor.role not in scope.ADMIN_ROLES:
        raise NotFound(_("This workshop does not exist or is not open to you."))
    return workshops.get_workshop(session, actor, workshop_id)


def parse_year(raw: object) -> int:
    text = str(raw if raw is not None else "").strip()
    if not text:
        return scope.today().year
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= scope.today().year + 1:
        raise InvalidInput(_("Choose a year from the list."), fields={"year": _("Choose a year from the list.")})
    return int(text)


@dataclass(frozen=True)
class IndicatorLine:
    indicator: Indicator
    figure: Decimal | None  # the portal's figure now, for an indicator with one
    self_score: EvaluationScore | None
    district_scores: list[tuple[EvaluationScore, str]]  # with the reviewer's name


@dataclass(frozen=True)
class EvaluationView:
    workshop: Workshop
    year: int
    evaluation: WorkshopEvaluation | None
    indicator_set: IndicatorSet | None
    lines: list[IndicatorLine]
    figures: dict[str, Decimal]
    is_host: bool
    is_reviewer: bool

    @property
    def self_total(self) -> Decimal:
        return sum((line.self_score.score for line in self.lines if line.self_score), Decimal(0))

    @property
    def max_total(self) -> Decimal:
        return sum((line.indicator.max_score for line in self.lines), Decimal(0))


def _evaluation(session: Session, workshop_id: int, year: int) -> WorkshopEvaluation | None:
    return session.scalar(
        select(WorkshopEvaluation).where(WorkshopEvaluation.workshop_id == workshop_id, WorkshopEvaluation.year == year)
    )


def view(session: Session, actor: User, workshop_id: int, year: int) -> EvaluationView:
    workshop = _may_read(session, actor, workshop_id)
    evaluation = _evaluation(session, workshop.id, year)
    chosen = get_set(session, evaluation.set_id) if evaluation else latest_published(session)
    known = figures(session, workshop.id, year)
    scores = (
        list(session.scalars(select(EvaluationScore).where(EvaluationScore.evaluation_id == evaluation.id)))
        if evaluation
        else []
    )
    ids = {s.scorer_id for s in scores}
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
    lines = []
    for item in indicators_of(session, chosen.id) if chosen else []:
        mine = [s for s in scores if s.indicator_id == item.id]
        lines.append(
            IndicatorLine(
                item,
                known[item.figure] if item.figure else None,
                next((s for s in mine if s.by_role == "self"), None),
                [(s, names.get(s.scorer_id, "")) for s in mine if s.by_role == "district"],
            )
        )
    return EvaluationView(
        workshop, year, evaluation, chosen, lines, known, workshop.host_id == actor.id,
        actor.role == Role.district_admin,
    )  # fmt: skip


def _scores(
    session: Session, indicator_set: IndicatorSet, raw: Mapping[int, tuple[object, str]]
) -> list[tuple[Indicator, Decimal, str]]:
    """Every indicator of the set scored from `raw` ({indicator id: (score, note)}), checked against its maximum."""
    errors: dict[str, str] = {}
    checked = []
    for item in indicators_of(session, indicator_set.id):
        value, note = raw.get(item.id, ("", ""))
        score = _score_value(value, f"score_{item.id}", errors, item.max_score)
        note = (note or "").strip()
        if len(note) > 500:
            errors[f"note_{item.id}"] = _("At most 500 characters.")
        checked.append((item, score, note))
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    return checked


def _store(
    session: Session, evaluation: WorkshopEvaluation, actor: User, by_role: str, checked: list[Any],
    known: dict[str, Decimal],
) -> None:  # fmt: skip
    existing = {
        s.indicator_id: s
        for s in session.scalars(
            select(EvaluationScore).where(
                EvaluationScore.evaluation_id == evaluation.id,
                EvaluationScore.by_role == by_role,
                EvaluationScore.scorer_id == actor.id,
            )
        )
    }
    for item, score, note in checked:
        figure = known[item.figure] if item.figure else None
        row = existing.get(item.id)
        if row is None:
            session.add(
                EvaluationScore(
                    evaluation_id=evaluation.id, indicator_id=item.id, by_role=by_role, scorer_id=actor.id,
                    score=score, figure=figure, note=note, created_at=clock.now(),
                )  # fmt: skip
            )
        else:
            row.score, row.figure, row.note, row.created_at = score, figure, note, clock.now()
    session.flush()


def self_assess(
    session: Session, actor: User, workshop_id: int, year: int, raw: Mapping[int, tuple[object, str]]
) -> WorkshopEvaluation:
    """The host's self-assessment of a year, against the latest published set; submitted once."""
    workshop = _may_read(session, actor, workshop_id)
    if workshop.host_id != actor.id:
        raise Forbidden(_("Only the workshop's host submits its self-assessment."))
    evaluation = _evaluation(session, workshop.id, year)
    if evaluation is not None and evaluation.self_submitted_at is not None:
        raise Conflict(_("The self-assessment of %(year)s has been submitted already."), year=year)
    indicator_set = get_set(session, evaluation.set_id) if evaluation else latest_published(session)
    if indicator_set is None:
        raise Conflict(_("The district has not published evaluation indicators yet."))
    checked = _scores(session, indicator_set, raw)
    if evaluation is None:
        evaluation = WorkshopEvaluation(
            workshop_id=workshop.id, set_id=indicator_set.id, year=year, created_at=clock.now()
        )
        session.add(evaluation)
        session.flush()
    known = figures(session, workshop.id, year)
    _store(session, evaluation, actor, "self", checked, known)
    evaluation.self_submitted_at, evaluation.self_submitted_by = clock.now(), actor.id
    session.flush()
    _audit(session, "organisation.evaluation_self", actor, "workshop_evaluation", evaluation.id,
           school_id=workshop.school_id,
           after={"workshop_id": workshop.id, "year": year, "set_id": indicator_set.id,
                  "scores": {str(i.id): str(s) for i, s, _n in checked},
                  "figures": {k: str(v) for k, v in known.items()}})  # fmt: skip
    return evaluation


def district_score(
    session: Session, actor: User, workshop_id: int, year: int, raw: Mapping[int, tuple[object, str]]
) -> WorkshopEvaluation:
    """A district reviewer's scores of a year (after the host's self-assessment); a reviewer's second scoring
    replaces their first."""
    require_district(actor)
    workshop = _may_read(session, actor, workshop_id)
    evaluation = _evaluation(session, workshop.id, year)
    if evaluation is None or evaluation.self_submitted_at is None:
        raise Conflict(_("The host has not submitted the self-assessment of %(year)s yet."), year=year)
    checked = _scores(session, get_set(session, evaluation.set_id), raw)
    known = figures(session, workshop.id, year)
    _store(session, evaluation, actor, "district", checked, known)
    _audit(session, "organisation.evaluation_score", actor, "workshop_evaluation", evaluation.id,
           school_id=workshop.school_id,
           after={"workshop_id": workshop.id, "year": year, "scores": {str(i.id): str(s) for i, s, _n in checked}})
    # fmt: skip
    return evaluation


def scores_from_form(values: dict[str, str]) -> dict[int, tuple[object, str]]:
    """{indicator id: (score, note)} from a form's `score_<id>` and `note_<id>` fields."""
    found: dict[int, tuple[object, str]] = {}
    for key, value in values.items():
        if key.startswith("score_") and key[6:].isdigit():
            found[int(key[6:])] = (value, values.get(f"note_{key[6:]}", ""))
    return found


def hosted(session: Session, actor: User) -> list[Workshop]:
    return list(session.scalars(select(Workshop).where(Workshop.host_id == actor.id).order_by(Workshop.name)))


def overview(session: Session, actor: User, year: int) -> list[tuple[Workshop, WorkshopEvaluation | None]]:
    """The workshops an admin sees (or a host hosts), with their evaluation of the year, if any."""
    if actor.role in scope.ADMIN_ROLES:
        shown = [w for w, _n, _c in workshops.list_workshops(session, actor)]
    else:
        shown = hosted(session, actor)
    ids = [w.id for w in shown]
    found = (
        {
            e.workshop_id: e
            for e in session.scalars(
                select(WorkshopEvaluation).where(
                    WorkshopEvaluation.workshop_id.in_(ids), WorkshopEvaluation.year == year
                )
            )
        }
        if ids
        else {}
    )
    return [(w, found.get(w.id)) for w in shown]
