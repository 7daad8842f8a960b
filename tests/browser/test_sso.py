"""Single sign-on in Chromium: a teacher presses 统一身份认证登录, passes the district provider's login form (a real
OIDC provider on localhost) and lands on 我的学习; logging out ends the session at the provider too.

The portal runs as `portal serve` with SSO switched on, on its own fresh database (the shared live server signs in
with passwords only).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from backend.kit.i18n import translate
from tests.accounts.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider
from tests.browser.conftest import ARTIFACTS, PORTAL, PYTHON, _free_port, _run, new_context

TEACHER = ("sso-teacher", "周老师", "SJ-E2E-0001")
SUBJECT = "zhou.laoshi"

# One interpreter for the account and its teacher record (each `portal` command costs a start-up).
_TEACHER = """
import backend.models_registry
from backend.accounts import service
from backend.config import get_settings
from backend.db import session_factory
from backend.people import directory

session = session_factory(get_settings())()
user = service.create_user(session, username="{username}", display_name="{name}", password="Zhou-e2e-2026-pass")
directory.start_record(session, user, "{staff_no}")
session.commit()
"""


@pytest.fixture(scope="module")
def sso_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Provider]]:
    tmp = tmp_path_factory.mktemp("sso-portal")
    with running_provider() as provider:
        env = {
            "PATH": "/usr/bin:/bin", "HOME": str(tmp), "DATABASE_URL": f"sqlite:///{tmp / 'portal.db'}",
            "MEDIA_ROOT": str(tmp / "media"), "DEMO_MODE": "true", "PYTHONUNBUFFERED": "1", "SSO_ENABLED": "true",
            "OIDC_ISSUER": provider.url, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        }  # fmt: skip
        _run([str(PORTAL), "db", "upgrade"], env, tmp)
        username, name, staff_no = TEACHER
        _run([str(PYTHON), "-c", _TEACHER.format(username=username, name=name, staff_no=staff_no)], env, tmp)
        provider.set_user(SUBJECT, staff_no=staff_no, name=name)

        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        log_path = ARTIFACTS / "browser-sso-server.log"
        with log_path.open("w", encoding="utf-8") as log:
            server = subprocess.Popen(  # noqa: S603 - the project's own command, fixed arguments
                [str(PORTAL), "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                _wait_for(url, server, log_path)
                yield url, provider
            finally:
                server.terminate()
                server.wait(timeout=10)


def _wait_for(url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"portal serve exited with {server.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"portal serve did not answer /healthz in 30 s:\n{log_path.read_text()}")


def test_teacher_signs_in_with_unified_identity_and_lands_on_my_learning(
    sso_portal: tuple[str, Provider], browser: Any, screenshots: Path
) -> None:
    url, provider = sso_portal
    context = new_context(browser)
    page = context.new_page()
    try:
        page.goto(f"{url}/learning")  # not logged in: the login page, with the SSO button
        button = page.locator("form[action='/sso/login'] button[type=submit]")
        expect(button).to_have_text(translate("zh_CN", "Sign in with unified identity"))
        page.screenshot(path=str(screenshots / "sso-01-login.png"), full_page=True)

        button.click()
        expect(page).to_have_url(re.compile(re.escape(provider.url) + r"/oauth2/authorize\?"))
        page.fill("input[name=sub]", SUBJECT)
        page.get_by_role("button", name="Authorize").click()

        expect(page).to_have_url(f"{url}/learning")
        expect(page.locator("h1")).to_have_text(translate("zh_CN", "My learning"))
        expect(page.locator(".who")).to_have_text(TEACHER[1])
        page.screenshot(path=str(screenshots / "sso-02-my-learning.png"), full_page=True)

        # Logging out ends the portal session and then the provider's, which sends the browser back to /login.
        page.locator("form[action='/logout'] button").click()
        expect(page).to_have_url(re.compile(re.escape(provider.url) + r"/oauth2/end_session\?"))
        page.get_by_role("button", name="End session").click()
        expect(page).to_have_url(re.compile(re.escape(url) + r"/login"))
        page.goto(f"{url}/learning")
        expect(page).to_have_url(re.compile(r"/login\?next="))
    finally:
        context.close()
