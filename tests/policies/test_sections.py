"""The policy in sections (issue 15): each setting lives in exactly one section, the one of the domain that reads it,
while its name stays the flat name of the catalog, the `policy_settings` key, the policy page and the audit log."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from backend.policies.catalog import SETTINGS
from backend.policies.service import (
    DEFAULT_POLICY,
    SECTION_OF,
    Policy,
    forget_cached_policy,
    load_policy,
    set_policy,
)


def _section_fields() -> list[tuple[str, str]]:
    """(section, setting) for every field of every section, read from the dataclasses themselves."""
    return [
        (section.name, setting.name)
        for section in dataclasses.fields(Policy)
        for setting in dataclasses.fields(getattr(DEFAULT_POLICY, section.name))
    ]


def test_every_catalog_setting_is_exactly_one_section_field_and_every_section_field_is_in_the_catalog() -> None:
    pairs = _section_fields()
    names = [name for _section, name in pairs]
    twice = sorted({name for name in names if names.count(name) > 1})
    assert twice == [], f"in two sections: {twice}"
    assert set(names) == set(SETTINGS), (
        f"not in the catalog: {sorted(set(names) - set(SETTINGS))}; in no section: {sorted(set(SETTINGS) - set(names))}"
    )
    assert SECTION_OF == dict((name, section) for section, name in pairs)


def test_sections_are_frozen_and_a_policy_is_nothing_but_its_sections() -> None:
    for section in dataclasses.fields(Policy):
        part = getattr(DEFAULT_POLICY, section.name)
        assert dataclasses.is_dataclass(part), section.name
        assert type(part).__dataclass_params__.frozen, section.name  # type: ignore[attr-defined]
        first = dataclasses.fields(part)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(part, first, getattr(part, first))


def test_with_values_changes_each_setting_in_its_own_section_and_nothing_else() -> None:
    changed = DEFAULT_POLICY.with_values(coverage_threshold=0.5, password_min_length=20, reserve_review_months=6)
    assert changed.viewing.coverage_threshold == 0.5
    assert changed.security.password_min_length == 20
    assert changed.organisation.reserve_review_months == 6
    assert changed.value("coverage_threshold") == 0.5
    for name in SECTION_OF.keys() - {"coverage_threshold", "password_min_length", "reserve_review_months"}:
        assert changed.value(name) == DEFAULT_POLICY.value(name), name
    assert DEFAULT_POLICY.viewing.coverage_threshold == 0.9  # the default is untouched
    assert changed.training is DEFAULT_POLICY.training  # a section without changes is shared, not copied
    with pytest.raises(TypeError, match="no_such_setting"):
        DEFAULT_POLICY.with_values(no_such_setting=1)


def _another(name: str) -> object | None:
    """A value of `name` other than its default that the catalog accepts, or None when there is none (a switch that
    may only be on)."""
    meta, default = SETTINGS[name], DEFAULT_POLICY.value(name)
    if isinstance(default, bool):
        return not default if meta.within(not default) else None
    if meta.choices:
        codes = [code for code, _label in meta.choices]
        if meta.multiple:
            return codes[0] if default != codes[0] else ",".join(codes)
        return next(code for code in codes if code != default)
    if isinstance(default, str):
        return default + "-X"
    for bound in (meta.minimum, meta.maximum):
        if bound is not None and type(default)(str(bound)) != default:
            return type(default)(str(bound))
    return None


def test_set_policy_and_load_policy_round_trip_every_setting_into_its_section(session: Session) -> None:
    """On both databases: each setting, stored under its flat name, comes back in its own section; the others keep
    their defaults."""
    expected = DEFAULT_POLICY
    skipped = []
    for name, section in SECTION_OF.items():
        value = _another(name)
        if value is None:
            skipped.append(name)
            continue
        returned = set_policy(session, name, value, None)
        assert getattr(getattr(returned, section), name) == value, name
        expected = expected.with_values(**{name: value})
    assert skipped == ["admin_totp_required"]  # on only (a safe bound): it has no other value to store
    forget_cached_policy()
    loaded = load_policy(session)  # from the rows, not the cache
    assert loaded == expected
    assert loaded.viewing.coverage_threshold == 0.5 and loaded.content.upload_max_bytes == 1
    assert loaded.credits.hours_per_credit == Decimal("1") and loaded.title_review.homeroom_service_kinds == "homeroom"
