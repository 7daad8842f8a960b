"""Security numbers on the policy page may be tightened, never turned off (issue 14): the page refuses a value
outside safe bounds and says why; the service refuses it too, whoever calls it."""

from __future__ import annotations

import pytest

from backend.accounts.models import Role
from backend.kit.errors import InvalidInput
from backend.policies.service import load_policy, set_policy
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
    assert refused.status_code == 422 and reason in refused.text
    assert getattr(load_policy(session), name) == getattr(load_policy(session).__class__(), name)
    with pytest.raises(InvalidInput):
        set_policy(session, name, value, None)


def test_security_numbers_may_be_tightened(client, session) -> None:
    token = login(client, make_user(session, Role.district_admin, None).username)
    r = client.post("/admin/policy", data={"csrf_token": token, "password_min_length": "16",
                                           "session_idle_minutes": "15"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert (load_policy(session).password_min_length, load_policy(session).session_idle_minutes) == (16, 15)
