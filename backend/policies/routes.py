"""The policy page: district admins read and change every number of the plan (DOMAIN.md) without a code change.

Saving is all-or-nothing: every changed value is checked first; one invalid value and nothing is saved. Each change
is an audit event with the value before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from backend.accounts.deps import DistrictAdmin
from backend.audit import describe as audit_describe
from backend.db import SessionDep
from backend.kit.errors import InvalidInput
from backend.kit.forms import FormDep
from backend.kit.i18n import _, translate, translator
from backend.kit.web import redirect, render
from backend.policies import service
from backend.policies.catalog import SECTIONS, SETTINGS
from backend.policies.service import DEFAULT_POLICY, SECTION_OF, Policy

pages = APIRouter(include_in_schema=False)



def _size(n: int) -> str:
    """Bytes as a person reads them (2 GB), beside the exact number the setting holds."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{Decimal(n) / size:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{n} B"


def _shown(name: str, value: object, _: Callable[..., str]) -> str:
    """A value in words: a switch as 开启/关闭, codes as their names, bytes with a readable size."""
    meta = SETTINGS[name]
    text = service.as_text(value)
    if meta.choices:
        labels = dict(meta.choices)
        return "、".join(_(labels.get(code, code)) for code in text.split(",") if code) or "—"
    if name == "upload_max_bytes":
        return f"{text}（{_size(int(str(value)))}）"
    return text if text != "" else "—"


def _page(request: Request, policy: Policy, status: int = 200, **extra: object) -> Response:
    _ = translator(request.state.locale)
    rows: dict[str, dict[str, Any]] = {
        name: {
            "name": name,
            "meta": SETTINGS[name],
            "value": service.as_text(policy.value(name)),
            "default": _shown(name, DEFAULT_POLICY.value(name), _),
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


def describe(name: str, value: object, _: Callable[..., str]) -> str:
    """A setting's value as the audit log shows it (in words, with its unit)."""
    meta = SETTINGS.get(name)
    if meta is None:
        return service.as_text(value)
    text = _shown(name, value, _)
    return f"{text} {_(meta.unit)}" if meta.unit and not meta.choices and name != "upload_max_bytes" else text


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


def _audit_details(key: str, value: object, t: Callable[..., str]) -> tuple[str, str] | None:
    """A policy change in the audit log: the setting's name and its value in words, with the unit (issue 18)."""
    if key not in SETTINGS:
        return None
    return t(SETTINGS[key].label), describe(key, value, t)


def _audit_names(session: object, ids: list[str]) -> dict[str, audit_describe.Subject]:
    """A setting by its name on the policy page, linked to its field."""
    return {
        i: audit_describe.Subject(SETTINGS[i].label, f"/admin/policy#p-{i}", msgid=True) for i in ids if i in SETTINGS
    }


audit_describe.register_details("policy", _audit_details)
audit_describe.register_subject("policy", _audit_names)
