"""A policy setting in words: on the policy page and in the audit log (a change is named by its setting and shown
with its unit, issue 18)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from backend.audit import describe as audit_describe
from backend.policies import service
from backend.policies.catalog import SETTINGS


def _size(n: int) -> str:
    """Bytes as a person reads them (2 GB), beside the exact number the setting holds."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{Decimal(n) / size:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{n} B"


def shown(name: str, value: object, _: Callable[..., str]) -> str:
    """A value in words: a switch as 开启/关闭, codes as their names, bytes with a readable size."""
    meta = SETTINGS[name]
    text = service.as_text(value)
    if meta.choices:
        labels = dict(meta.choices)
        return "、".join(_(labels.get(code, code)) for code in text.split(",") if code) or "—"
    if name == "upload_max_bytes":
        return f"{text}（{_size(int(str(value)))}）"
    return text if text != "" else "—"


def describe(name: str, value: object, _: Callable[..., str]) -> str:
    """A setting's value as the audit log shows it (in words, with its unit)."""
    meta = SETTINGS.get(name)
    if meta is None:
        return service.as_text(value)
    text = shown(name, value, _)
    return f"{text} {_(meta.unit)}" if meta.unit and not meta.choices and name != "upload_max_bytes" else text


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
