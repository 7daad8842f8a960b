"""On a 390×844 phone, each demo role signs in and walks its main pages: nothing is wider than the screen, the
header's links are big enough to tap, and every page of the role is in its navigation (the admin pages behind the
管理 menu, which opens without JavaScript being needed). Screenshots: test-artifacts/screenshots/phone-*.png.

The demo accounts and their records come from the real demo loader (`backend.demo`, without the course library).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from backend.demo import DEMO_PASSWORD
from tests.browser.conftest import PHONE, PYTHON, LiveServer, _run

_DEMO = """
import backend.models_registry
from backend import demo
from backend.config import get_settings
from backend.db import session_factory
from backend.media.storage import build_storage

session = session_factory(get_settings())()
demo.load_accounts(session)
demo.load_records(session, build_storage(get_settings()))
session.commit()
"""

TEACHER_NAV = ["/learning", "/courses", "/credits/mine", "/certificates"]
SCHOOL_ADMIN_MENU = ["/admin/teachers", "/credits/queue", "/admin/hours", "/admin/certificates", "/admin/title-review",
                     "/training/compliance", "/organisation/classes", "/admin/users"]  # fmt: skip
DISTRICT_MENU = [*SCHOOL_ADMIN_MENU[:-1], "/studio/review", "/admin/users", "/admin/policy", "/admin/tokens",
                 "/admin/audit"]  # fmt: skip
# role: (the header's links, the 管理 menu's links, the pages to visit)
ROLES: dict[str, tuple[list[str], list[str], list[str]]] = {
    "teacher": (TEACHER_NAV, [], ["/learning", "/credits/mine", "/certificates", "/account"]),
    "trainer": (
        [*TEACHER_NAV, "/studio", "/grading", "/training", "/organisation/workshops"],
        [],
        ["/studio", "/studio/banks", "/training", "/organisation/workshops"],
    ),
    "school_admin": (
        ["/dashboard", *TEACHER_NAV, "/training"],
        SCHOOL_ADMIN_MENU,
        [
            "/admin/teachers",
            "/credits/queue",
            "/training",
            "/training/compliance",
            "/admin/certificates",
            "/admin/hours",
            "/admin/users",
            "/organisation/classes",
        ],
    ),  # fmt: skip
    "district_admin": (
        ["/dashboard", *TEACHER_NAV, "/studio", "/grading", "/training"],
        DISTRICT_MENU,
        [
            "/credits/queue",
            "/admin/title-review",
            "/admin/policy",
            "/admin/tokens",
            "/admin/audit",
            "/studio/review",
            "/admin/certificates",
            "/training/compliance",
        ],
    ),  # fmt: skip
}

# In mobile emulation the layout viewport (innerWidth) grows with wide content, so compare with the phone too.
OVERFLOW = f"Math.max(document.documentElement.scrollWidth, window.innerWidth) - {PHONE['width']}"
# Links and buttons in the header smaller than 44 px in either direction (WCAG 2.5.5, UX.md).
SMALL_TARGETS = """() => [...document.querySelectorAll('.topbar a, .topbar button, .topbar summary')]
  .filter(e => e.checkVisibility())
  .map(e => [e.textContent.trim(), e.getBoundingClientRect()])
  .filter(([, r]) => r.height < 44 || r.width < 44).map(([t]) => t)"""


def _hrefs(page: Page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "links => links.map(a => a.getAttribute('href'))")  # type: ignore[no-any-return]


def _sign_in(page: Page, url: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{url}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator(".mainnav")).to_be_visible()


def test_each_role_finds_its_pages_on_a_phone_without_sideways_scrolling(
    page: Page, live_server: LiveServer, screenshots: Path
) -> None:
    _run([str(PYTHON), "-c", _DEMO], live_server.env, live_server.tmp)
    overflowing: dict[str, Any] = {}
    for role, (nav, menu, pages) in ROLES.items():
        _sign_in(page, live_server.url, role)
        assert _hrefs(page, ".mainnav > a") == nav, role
        assert _hrefs(page, ".navmenu a") == menu, role
        assert page.evaluate(SMALL_TARGETS) == [], role
        if menu:
            page.locator(".navgroup summary").click()
            expect(page.locator(".navmenu")).to_be_visible()
            page.screenshot(path=str(screenshots / f"phone-{role}-menu.png"))
            page.keyboard.press("Escape")  # web/static/js/nav.js closes it
            expect(page.locator(".navmenu")).to_be_hidden()
        for path in pages:
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.status == 200, (role, path)
            name = path.strip("/").replace("/", "-")
            page.screenshot(path=str(screenshots / f"phone-{role}-{name}.png"), full_page=True)
            if (extra := page.evaluate(OVERFLOW)) > 0:
                overflowing[f"{role} {path}"] = extra
    assert overflowing == {}, f"pages wider than the phone (extra px): {overflowing}"
