"""Workshop evaluation pages and API: the district's indicator sets (versioned), the host's self-assessment and the
district reviewers' scores, with the figures the portal fills in. Thin routes over `backend.organisation.evaluation`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, Strict
from sqlalchemy.orm import Session

from backend.accounts.deps import CurrentUser, DistrictAdmin
from backend.accounts.models import User
from backend.db import SessionDep
from backend.kit.errors import InvalidInput
from backend.kit.forms import FormDep
from backend.kit.i18n import translate
from backend.kit.numbers import Int
from backend.kit.web import redirect, render
from backend.organisation import evaluation
from backend.organisation.models import Indicator, IndicatorSet
from backend.organisation.routes import _values
from backend.organisation.scope import today

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["organisation"])
LABELS = {"figures": evaluation.FIGURES, "figure_labels": evaluation.FIGURE_LABELS}
YearParam = Annotated[int | None, Query(ge=2000, le=2100, description="Calendar year (default: this year)")]


def _errors(request: Request, exc: InvalidInput) -> dict[str, Any]:
    locale = request.state.locale
    return {
        "errors": {k: translate(locale, v) for k, v in exc.fields.items()},
        "form_error": translate(locale, exc.message, **exc.params),
    }


def _years() -> list[int]:
    current = today().year
    return list(range(current, current - 6, -1))


@pages.get("/organisation/evaluation")
def evaluation_page(request: Request, session: SessionDep, user: CurrentUser, year: str | None = None) -> Response:
    chosen = evaluation.parse_year(year)
    return render(
        request, "organisation/evaluation.html",
        LABELS | {"rows": evaluation.overview(session, user, chosen), "year": chosen, "years": _years(),
                  "sets": evaluation.list_sets(session) if user.role == "district_admin" else [],
                  "errors": {}, "values": {}},
    )  # fmt: skip


@pages.post("/organisation/indicator-sets")
def create_set(request: Request, form: FormDep, session: SessionDep, user: DistrictAdmin) -> Response:
    values = _values(form)
    try:
        made = evaluation.create_set(session, user, values.get("name", ""))
    except InvalidInput as exc:
        session.rollback()
        chosen = today().year
        return render(
            request, "organisation/evaluation.html",
            LABELS | {"rows": evaluation.overview(session, user, chosen), "year": chosen, "years": _years(),
                      "sets": evaluation.list_sets(session), "values": values} | _errors(request, exc),
            status=422,
        )  # fmt: skip
    return redirect(request, f"/organisation/indicator-sets/{made.id}")


def _set_page(request: Request, session: Session, set_id: int, status: int = 200, **extra: Any) -> Response:
    found = evaluation.get_set(session, set_id)
    context: dict[str, Any] = LABELS | {
        "iset": found, "indicators": evaluation.indicators_of(session, found.id),
        "saved": request.query_params.get("saved"), "errors": {}, "values": {},
    }  # fmt: skip
    return render(request, "organisation/indicator_set.html", context | extra, status=status)


@pages.get("/organisation/indicator-sets/{set_id}")
def set_page(request: Request, set_id: int, session: SessionDep, user: DistrictAdmin) -> Response:
    return _set_page(request, session, set_id)


@pages.post("/organisation/indicator-sets/{set_id}/indicators")
def add_indicator(request: Request, set_id: int, form: FormDep, session: SessionDep, user: DistrictAdmin) -> Response:
    values = _values(form)
    try:
        evaluation.add_indicator(
            session, user, set_id, values.get("name", ""), values.get("max_score", ""), values.get("figure", "")
        )
    except InvalidInput as exc:
        session.rollback()
        return _set_page(request, session, set_id, 422, values=values, **_errors(request, exc))
    return redirect(request, f"/organisation/indicator-sets/{set_id}?saved=indicator")


@pages.post("/organisation/indicators/{indicator_id}/delete")
def remove_indicator(request: Request, indicator_id: int, session: SessionDep, user: DistrictAdmin) -> Response:
    indicator = session.get(Indicator, indicator_id)
    set_id = indicator.set_id if indicator else 0
    evaluation.remove_indicator(session, user, indicator_id)
    return redirect(request, f"/organisation/indicator-sets/{set_id}?saved=removed")


@pages.post("/organisation/indicator-sets/{set_id}/publish")
def publish_set(request: Request, set_id: int, session: SessionDep, user: DistrictAdmin) -> Response:
    try:
        evaluation.publish(session, user, set_id)
    except InvalidInput as exc:
        session.rollback()
        return _set_page(request, session, set_id, 422, **_errors(request, exc))
    return redirect(request, f"/organisation/indicator-sets/{set_id}?saved=published")


@pages.post("/organisation/indicator-sets/{set_id}/versions")
def new_version(request: Request, set_id: int, session: SessionDep, user: DistrictAdmin) -> Response:
    made = evaluation.new_version(session, user, set_id)
    return redirect(request, f"/organisation/indicator-sets/{made.id}?saved=version")


def _evaluation_page(
    request: Request, session: Session, user: User, workshop_id: int, year: int, status: int = 200, **extra: Any
) -> Response:
    context: dict[str, Any] = LABELS | {
        "view": evaluation.view(session, user, workshop_id, year), "years": _years(),
        "saved": request.query_params.get("saved"), "errors": {}, "values": {}, "form": None,
    }  # fmt: skip
    return render(request, "organisation/workshop_evaluation.html", context | extra, status=status)


@pages.get("/organisation/workshops/{workshop_id}/evaluation")
def workshop_evaluation_page(
    request: Request, workshop_id: int, session: SessionDep, user: CurrentUser, year: str | None = None
) -> Response:
    return _evaluation_page(request, session, user, workshop_id, evaluation.parse_year(year))


def _score_change(
    request: Request, session: Session, user: User, workshop_id: int, form: FormDep, which: str, apply: Any
) -> Response:
    values = _values(form)
    year = evaluation.parse_year(values.get("year"))
    try:
        apply(year, evaluation.scores_from_form(values))
    except InvalidInput as exc:
        session.rollback()
        return _evaluation_page(
            request, session, user, workshop_id, year, 422, form=which, values=values, **_errors(request, exc)
        )
    return redirect(request, f"/organisation/workshops/{workshop_id}/evaluation?year={year}&saved={which}")


@pages.post("/organisation/workshops/{workshop_id}/evaluation/self")
def self_assess(request: Request, workshop_id: int, form: FormDep, session: SessionDep, user: CurrentUser) -> Response:
    return _score_change(
        request, session, user, workshop_id, form, "self",
        lambda year, raw: evaluation.self_assess(session, user, workshop_id, year, raw),
    )  # fmt: skip


@pages.post("/organisation/workshops/{workshop_id}/evaluation/scores")
def district_score(
    request: Request, workshop_id: int, form: FormDep, session: SessionDep, user: DistrictAdmin
) -> Response:
    return _score_change(
        request, session, user, workshop_id, form, "district",
        lambda year, raw: evaluation.district_score(session, user, workshop_id, year, raw),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# JSON API


class IndicatorIn(BaseModel):
    name: str = Field(max_length=400)
    max_score: Decimal = Field(ge=0, le=1000, max_digits=6, decimal_places=1)
    figure: str = Field(
        default="", max_length=32,
        description="Filled in by the portal: activities | attendance | certified_hours | outputs_accepted; or empty",
    )  # fmt: skip


class IndicatorOut(BaseModel):
    id: int
    position: int
    name: str
    max_score: Decimal
    figure: str


class SetIn(BaseModel):
    name: str = Field(max_length=200)
    indicators: list[IndicatorIn] = Field(default_factory=list, max_length=100)


class SetOut(BaseModel):
    id: int
    name: str
    version: int
    status: str = Field(description="draft | published (a published version is never edited)")
    published_at: datetime | None
    indicators: list[IndicatorOut]


def _set_out(session: Session, found: IndicatorSet) -> SetOut:
    return SetOut(
        id=found.id, name=found.name, version=found.version, status=found.status, published_at=found.published_at,
        indicators=[IndicatorOut(id=i.id, position=i.position, name=i.name, max_score=i.max_score, figure=i.figure)
                    for i in evaluation.indicators_of(session, found.id)],
    )  # fmt: skip


@api.get("/organisation/indicator-sets", response_model=list[SetOut])
def api_sets(session: SessionDep, user: DistrictAdmin) -> list[SetOut]:
    """Every version of every indicator set."""
    return [_set_out(session, s) for s in evaluation.list_sets(session)]


@api.post("/organisation/indicator-sets", response_model=SetOut, status_code=201)
def api_create_set(body: SetIn, session: SessionDep, user: DistrictAdmin) -> SetOut:
    """A new indicator set (version 1, draft) with its indicators."""
    made = evaluation.create_set(session, user, body.name)
    for item in body.indicators:
        evaluation.add_indicator(session, user, made.id, item.name, item.max_score, item.figure)
    return _set_out(session, made)


@api.post("/organisation/indicator-sets/{set_id}/indicators", response_model=SetOut, status_code=201)
def api_add_indicator(set_id: int, body: IndicatorIn, session: SessionDep, user: DistrictAdmin) -> SetOut:
    """Adds an indicator to a draft (409 for a published version: make a new version)."""
    evaluation.add_indicator(session, user, set_id, body.name, body.max_score, body.figure)
    return _set_out(session, evaluation.get_set(session, set_id))


@api.post("/organisation/indicator-sets/{set_id}/publish", response_model=SetOut)
def api_publish_set(set_id: int, session: SessionDep, user: DistrictAdmin) -> SetOut:
    return _set_out(session, evaluation.publish(session, user, set_id))


@api.post("/organisation/indicator-sets/{set_id}/versions", response_model=SetOut, status_code=201)
def api_new_version(set_id: int, session: SessionDep, user: DistrictAdmin) -> SetOut:
    """A draft copy of a published version, numbered next."""
    return _set_out(session, evaluation.new_version(session, user, set_id))


class ScoreIn(BaseModel):
    indicator_id: Int = Field(ge=1)
    score: Decimal = Field(ge=0, le=1000, max_digits=6, decimal_places=1)
    note: str = Field(default="", max_length=1000)


class ScoresIn(BaseModel):
    year: Annotated[int, Strict()] = Field(ge=2000, le=2100)
    scores: list[ScoreIn] = Field(max_length=100)


class ScoreOut(BaseModel):
    by: str = Field(description="self | district")
    scorer: str
    score: Decimal
    figure: Decimal | None = Field(description="The portal's figure when the score was given")
    note: str


class LineOut(BaseModel):
    indicator_id: int
    name: str
    max_score: Decimal
    figure_name: str
    figure: Decimal | None = Field(description="The portal's figure now (never asked for)")
    scores: list[ScoreOut]


class EvaluationOut(BaseModel):
    workshop_id: int
    year: int
    indicator_set_id: int | None
    indicator_set_version: int | None
    self_submitted_at: datetime | None
    figures: dict[str, Decimal]
    lines: list[LineOut]


def _evaluation_out(view: evaluation.EvaluationView) -> EvaluationOut:
    lines = []
    for line in view.lines:
        scores = [ScoreOut(by="self", scorer="", score=line.self_score.score, figure=line.self_score.figure,
                           note=line.self_score.note)] if line.self_score else []  # fmt: skip
        scores += [ScoreOut(by="district", scorer=name, score=s.score, figure=s.figure, note=s.note)
                   for s, name in line.district_scores]  # fmt: skip
        i = line.indicator
        lines.append(LineOut(indicator_id=i.id, name=i.name, max_score=i.max_score, figure_name=i.figure,
                             figure=line.figure, scores=scores))  # fmt: skip
    s = view.indicator_set
    return EvaluationOut(
        workshop_id=view.workshop.id, year=view.year, indicator_set_id=s.id if s else None,
        indicator_set_version=s.version if s else None,
        self_submitted_at=view.evaluation.self_submitted_at if view.evaluation else None,
        figures=view.figures, lines=lines,
    )  # fmt: skip


@api.get("/organisation/workshops/{workshop_id}/evaluation", response_model=EvaluationOut)
def api_evaluation(workshop_id: int, session: SessionDep, user: CurrentUser, year: YearParam = None) -> EvaluationOut:
    """A workshop's evaluation of a year: indicators, the portal's figures, the host's and the reviewers' scores."""
    return _evaluation_out(evaluation.view(session, user, workshop_id, evaluation.parse_year(year)))


def _raw(body: ScoresIn) -> Mapping[int, tuple[object, str]]:
    return {s.indicator_id: (s.score, s.note) for s in body.scores}


@api.post("/organisation/workshops/{workshop_id}/evaluation/self", response_model=EvaluationOut, status_code=201)
def api_self_assess(workshop_id: int, body: ScoresIn, session: SessionDep, user: CurrentUser) -> EvaluationOut:
    """The host's self-assessment of a year (once); every indicator scored, figures filled in by the portal."""
    evaluation.self_assess(session, user, workshop_id, body.year, _raw(body))
    return _evaluation_out(evaluation.view(session, user, workshop_id, body.year))


@api.post("/organisation/workshops/{workshop_id}/evaluation/scores", response_model=EvaluationOut)
def api_district_score(workshop_id: int, body: ScoresIn, session: SessionDep, user: DistrictAdmin) -> EvaluationOut:
    """A district reviewer's scores (a second scoring replaces the reviewer's first)."""
    evaluation.district_score(session, user, workshop_id, body.year, _raw(body))
    return _evaluation_out(evaluation.view(session, user, workshop_id, body.year))
