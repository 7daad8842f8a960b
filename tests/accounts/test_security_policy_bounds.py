"""Security numbers on the policy page may be tightened, never turned off (issue 14): the page refuses a value
outside safe bounds and says why; the service refuses it too, whoever calls it. The bounds and their reasons are
declared once, in the policy catalogue (`backend/policies/catalog.py`)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from backend.accounts.models import Role
from backend.kit.errors import InvalidInput
from backend.kit.i18n import translate
from backend.policies.catalog import SETTINGS
from backend.policies.service import Policy, load_policy, out_of_bounds, set_policy
from tests.api.helpers import login
from tests.factories import make_user


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("admin_totp_required", "false", "ASVS 4.3.1"),
        ("password_min_length", "1", "ASVS 2.1.1"),
        ("session_idle_minutes", "1000000", "ASVS 3.3.2"),
        ("session_absolute_hours", "0", "ASVS 3.3.2"),
        ("login_max_failures_per_account", "1000", "ASVS 2.2.1"),
        ("login_account_lockout_minutes", "60", "ASVS 2.2.1"),
    ],
)
def test_the_policy_page_refuses_unsafe_security_numbers_with_the_reason(client, session, name, value, reason) -> None:
    client.cookies.set("portal_lang", "en")
    token = login(client, make_user(session, Role.district_admin, None).username)
    refused = client.post("/admin/policy", data={"csrf_token": token, name: value})
    assert refused.status_code == 422
    # The reason is the field's own error, not only the note the page always shows under the input.
    error = re.search(rf'<p class="field-error" id="e-{name}">([^<]*)</p>', refused.text)
    assert error is not None and reason in error.group(1)
    assert load_policy(session).value(name) == Policy().value(name)
    with pytest.raises(InvalidInput) as raised:
        set_policy(session, name, value, None)
    assert raised.value.fields == {name: SETTINGS[name].reason}


def test_every_security_number_has_one_declared_bound_that_the_service_enforces(session) -> None:
    security = {name: meta for name, meta in SETTINGS.items() if meta.section == "security"}
    assert security and all(meta.guarded for meta in security.values())
    for name, meta in security.items():
        if meta.control == "switch":
            assert out_of_bounds(name, False) == meta.reason and out_of_bounds(name, True) is None
            continue
        kind = type(Policy().value(name))
        assert meta.minimum is not None and meta.maximum is not None
        for outside in (meta.minimum - 1, meta.maximum + 1):
            with pytest.raises(InvalidInput) as raised:
                set_policy(session, name, kind(outside), None)
            assert raised.value.fields == {name: meta.reason}, name
        assert out_of_bounds(name, kind(meta.minimum)) is None and out_of_bounds(name, kind(meta.maximum)) is None
    assert translate("en", SETTINGS["password_min_length"].reason).startswith("Passwords need at least 12")
    # Other ranges stay the page's: a script may still shorten the heartbeat beyond what the page offers.
    assert not SETTINGS["heartbeat_seconds"].guarded
    assert out_of_bounds("heartbeat_seconds", 0) is None and Decimal(0) < SETTINGS["heartbeat_seconds"].minimum


def test_security_numbers_may_be_tightened(client, session) -> None:
    token = login(client, make_user(session, Role.district_admin, None).username)
    r = client.post("/admin/policy", data={"csrf_token": token, "password_min_length": "16",
                                           "session_idle_minutes": "15"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    security = load_policy(session).security
    assert (security.password_min_length, security.session_idle_minutes) == (16, 15)
