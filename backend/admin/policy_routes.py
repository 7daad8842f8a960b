"""The policy page: district admins read and change every number of the plan (DOMAIN.md) without a code change.

Saving is all-or-nothing: every changed value is checked first; one invalid value and nothing is saved. Each change
is an audit event with the value before and after.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from backend.accounts.deps import DistrictAdmin
from backend.db import SessionDep
from backend.kit.errors import InvalidInput
from backend.kit.forms import FormDep
from backend.kit.i18n import _, translate, translator
from backend.kit.web import redirect, render
from backend.policies import service, wording
from backend.policies.catalog import SECTIONS, SETTINGS
from backend.policies.service import DEFAULT_POLICY, SECTION_OF, Policy

pages = APIRouter(include_in_schema=False)


def _page(request: Request, policy: Policy, status: int = 200, **extra: object) -> Response:
    _ = translator(request.state.locale)
    rows: dict[str, dict[str, Any]] = {
        name: {
            "name": name,
            "meta": SETTINGS[name],
            "value": service.as_text(policy.value(name)),
            "default": wording.shown(name, DEFAULT_POLICY.value(name), _),
            "step": _step(DEFAULT_POLICY.value(name)),
        }
        for name in SECTION_OF
    }
    sections = [
        (key, heading, [r for r in rows.values() if SETTINGS[r["name"]].section == key]) for key, heading in SECTIONS
    ]
    return render(
        request,
        "policies/edit.html",
        {"sections": sections, "errors": {}, "values": {}} | extra,
        status=status,
    )


def _step(default: object) -> str:
    return "1" if isinstance(default, int) else "any"


@pages.get("/admin/policy")
def policy_page(request: Request, session: SessionDep, user: DistrictAdmin) -> Response:
    return _page(request, service.load_policy(session), saved=request.query_params.get("saved"))


@pages.post("/admin/policy")
def policy_save(request: Request, form: FormDep, session: SessionDep, user: DistrictAdmin) -> Response:
    current = service.load_policy(session)
    changes: dict[str, object] = {}
    errors: dict[str, str] = {}
    # Several values for a setting of several choices (checkboxes), one for every other.
    submitted = {
        name: ",".join(str(v).strip() for v in form.getlist(name) if str(v).strip())
        for name in SECTION_OF
        if form.get(name) is not None
    }
    for name, raw in submitted.items():
        try:
            value = service.parse_setting(name, raw)  # the declared range, checked here and not only in the browser
        except InvalidInput as exc:
            errors[name] = translate(request.state.locale, exc.message, **exc.params)
            continue
        if value != current.value(name):
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
