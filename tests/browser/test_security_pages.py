"""Under the strict Content-Security-Policy, Chromium loads every admin page without a single violation, and a
district admin turns on two-factor sign-in from the account page (QR code, recovery codes)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from backend.audit.describe import ACTIONS
from tests.browser.conftest import PORTAL, Account, LiveServer, _run
from tests.browser.test_teacher_story import zh

ADMIN = Account("secadmin", "周主任", "e2e-SecAdmin-pass")
PAGES = ("/dashboard", "/learning", "/courses", "/studio", "/grading", "/admin/hours", "/admin/users", "/admin/audit",
         "/account")  # fmt: skip


def test_admin_pages_raise_no_csp_violation_and_two_factor_is_turned_on(
    page: Page, live_server: LiveServer, screenshots: Path
) -> None:
    _run([str(PORTAL), "users", "create", ADMIN.username, "--role", "district_admin", "--name", ADMIN.name,
          "--password", ADMIN.password], live_server.env, live_server.tmp)  # fmt: skip
    violations: list[Any] = []
    page.on(
        "console",
        lambda m: violations.append((page.url, m.text, m.location)) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server.url}/login")
    page.fill("#username", ADMIN.username)
    page.fill("#password", ADMIN.password)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$|/learning$|/courses$|/dashboard$"))
    for path in PAGES:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
    assert not violations, violations

    page.goto(f"{live_server.url}/account/2fa")
    expect(page.locator("figure.qr svg")).to_be_visible()
    code = page.locator(".alert.info").inner_text()  # demo mode prints the code of the moment
    page.fill("#code", re.search(r"\d{6}", code).group(0))
    page.fill("#enrol-password", ADMIN.password)  # turning it on needs the password, as turning it off does
    page.screenshot(path=str(screenshots / "security-01-enrol.png"), full_page=True)
    page.locator("form[action='/account/2fa'] button[type=submit]").click()
    expect(page.locator("ol.codes li")).to_have_count(10)
    page.screenshot(path=str(screenshots / "security-02-recovery-codes.png"), full_page=True)
    page.goto(f"{live_server.url}/admin/audit")
    expect(page.locator("table")).to_contain_text(zh(ACTIONS["auth.2fa_enrolled"]))  # 开启两步验证, in words
    page.screenshot(path=str(screenshots / "security-03-audit-log.png"), full_page=True)
    assert not violations, violations
