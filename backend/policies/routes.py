"""The policy page: district admins read and change every number of the plan (DOMAIN.md) without a code change.

Saving is all-or-nothing: every changed value is checked first; one invalid value and nothing is saved. Each change
is an audit event with the value before and after.
"""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from backend.accounts.deps import DistrictAdmin
from backend.db import SessionDep
from backend.kit.errors import InvalidInput
from backend.kit.forms import FormDep
from backend.kit.i18n import _, translate
from backend.kit.web import redirect, render
from backend.policies import service
from backend.policies.service import DEFAULT_POLICY, Policy

pages = APIRouter(include_in_schema=False)

INVALID = _("Not a valid value.")
# The settings of the credit rules (issue 5), labelled for administrators; every other setting is listed by its key.
LABELS = {
    "induction_hours": _("Induction: credit hours required"),
    "induction_trainee_years": _("Induction: years as trainee homeroom teacher"),
    "induction_assessment_course": _("Induction: code of the assessment course"),
    "annual_hours_target": _("Annual hours of a homeroom teacher"),
    "homeroom_service_kinds": _("Service kinds that count as homeroom teacher"),
    "cycle_first_year": _("Credit cycle: first year of a cycle"),
    "cycle_years": _("Credit cycle: years per cycle"),
    "cycle_credits": _("Credit cycle: credits required"),
    "cycle_min_ethics": _("Credit cycle: minimum credits, ethics"),
    "cycle_min_knowledge_skills": _("Credit cycle: minimum credits, knowledge and skills"),
    "cycle_min_practice": _("Credit cycle: minimum credits, practice"),
    "cycle_min_self_study": _("Credit cycle: minimum credits, self-study"),
    "cycle_max_self_study": _("Credit cycle: self-study credits counted at most"),
    "cycle_min_city": _("Credit cycle: minimum credits, city level"),
    "cycle_min_district": _("Credit cycle: minimum credits, district level"),
    "cycle_min_school": _("Credit cycle: minimum credits, school-based"),
    "workshop_counts_as_level": _("Credit cycle: level that workshop hours count toward"),
    "hours_per_credit": _("Hours per credit"),
    "school_year_start_month": _("School year: month it starts in"),
    "workshop_min_classes": _("Workshop rule: classes from which a school workshop is required"),
    "workshop_min_members": _("Workshop rule: minimum members of the workshop"),
    "tier_suggested_for_trainees": _("Tier suggested for trainee homeroom teachers"),
    "mentoring_max_hours": _("Mentoring: hours credited at most per pair"),
    "mentoring_category": _("Mentoring: credit category"),
    "mentoring_level": _("Mentoring: credit level"),
    "reserve_min_evaluation": _("Reserve pool: lowest latest annual evaluation (empty: none)"),
    "reserve_requires_willingness": _("Reserve pool: the teacher's willingness must be confirmed"),
    "reserve_review_months": _("Reserve pool: review each member at least every (months)"),
}


def _page(request: Request, policy: Policy, status: int = 200, **extra: object) -> Response:
    rows = [
        (
            f.name,
            LABELS.get(f.name),
            service.as_text(getattr(policy, f.name)),
            service.as_text(getattr(DEFAULT_POLICY, f.name)),
            isinstance(getattr(DEFAULT_POLICY, f.name), bool),
        )
        for f in fields(Policy)
    ]
    labelled = [r for r in rows if r[1]]
    others = [r for r in rows if not r[1]]
    return render(
        request,
        "policies/edit.html",
        {"labelled": labelled, "others": others, "errors": {}, "values": {}} | extra,
        status=status,
    )


@pages.get("/admin/policy")
def policy_page(request: Request, session: SessionDep, user: DistrictAdmin) -> Response:
    return _page(request, service.load_policy(session), saved=request.query_params.get("saved"))


@pages.post("/admin/policy")
def policy_save(request: Request, form: FormDep, session: SessionDep, user: DistrictAdmin) -> Response:
    current = service.load_policy(session)
    changes: dict[str, object] = {}
    errors: dict[str, str] = {}
    submitted = {f.name: str(form.get(f.name)).strip() for f in fields(Policy) if form.get(f.name) is not None}
    for name, raw in submitted.items():
        try:
            value = getattr(service.policy_from_rows([(name, raw)]), name)
        except InvalidInput:
            errors[name] = translate(request.state.locale, INVALID)
            continue
        if isinstance(value, Decimal | int | float) and not isinstance(value, bool) and value < 0:
            errors[name] = translate(request.state.locale, INVALID)
        elif (problem := service.out_of_bounds(name, value)) is not None:
            errors[name] = translate(request.state.locale, problem)
        elif value != getattr(current, name):
            changes[name] = value
    if errors:
        return _page(
            request,
            current,
            422,
            errors=errors,
            values=submitted,
            form_error=translate(request.state.locale, _("Please correct the marked fields.")),
        )
    for name, value in changes.items():
        service.set_policy(session, name, value, user.id)  # audited there
    return redirect(request, f"/admin/policy?saved={len(changes)}")
