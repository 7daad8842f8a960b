"""A real OpenID Connect provider on localhost for the SSO tests: `oidc-provider-mock` (Authlib's provider code in
a Flask app) served by werkzeug on a background thread, on a free port, for the whole test session.

It signs ID tokens with its own RSA key (published at /jwks), issues one-use authorization codes bound to the
client they were issued to, and requires a nonce. Its login page takes a subject (`sub`); the claims of each
subject are set over HTTP (`PUT /users/<sub>`), as a district's directory would hold them.

`running_provider()` starts one; tests/accounts/conftest.py offers it as the session fixture `oidc_provider`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

CLIENT_ID = "songjiang-portal"
CLIENT_SECRET = "portal-test-secret"  # the mock accepts any secret; one is sent so client authentication runs


@dataclass(frozen=True)
class Provider:
    url: str  # also the issuer

    def set_user(self, sub: str, **claims: Any) -> None:
        response = httpx.put(f"{self.url}/users/{sub}", json=claims, timeout=10)
        assert response.status_code == 204, response.text

    def log_in(self, authorize_url: str, sub: str, idp: httpx.Client | None = None) -> str:
        """Passes the provider's login form as `sub`; returns where the provider sends the browser back."""
        own = idp is None
        idp = idp or httpx.Client(timeout=10)
        try:
            form = idp.get(authorize_url)
            assert form.status_code == 200, form.text
            assert 'name="sub"' in form.text
            answer = idp.post(authorize_url, data={"sub": sub})
            assert answer.status_code == 302, answer.text
            return answer.headers["location"]
        finally:
            if own:
                idp.close()

    def code_for_client(self, client_id: str, sub: str, redirect_uri: str, nonce: str = "n-other") -> str:
        """An authorization code the provider issued to another application (`client_id`) for `sub`."""
        query = httpx.QueryParams(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid",
                "state": "other-app-state",
                "nonce": nonce,
            }
        )
        location = self.log_in(f"{self.url}/oauth2/authorize?{query}", sub)
        match = re.search(r"[?&]code=([^&]+)", location)
        assert match, location
        return match.group(1)

    def id_token_for_client(self, client_id: str, sub: str, nonce: str) -> str:
        """A genuine, provider-signed ID token issued to another application (`client_id`)."""
        redirect_uri = "http://other-app.example/callback"
        code = self.code_for_client(client_id, sub, redirect_uri, nonce)
        response = httpx.post(
            f"{self.url}/oauth2/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            auth=(client_id, "other-secret"),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["id_token"])


@contextmanager
def running_provider() -> Iterator[Provider]:
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread(port=0, require_nonce=True) as server:
        yield Provider(f"http://localhost:{server.server_port}")
