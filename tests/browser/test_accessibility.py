"""Issue 18: every role's key pages pass axe-core (WCAG 2.1 A/AA and best practice) with no serious or critical
violation, on a desktop and on a 390-px phone, in real Chromium; on the phone nothing scrolls sideways (not the page,
not a box inside it); no page breaks the Content-Security-Policy; and Chinese renders (screenshots:
test-artifacts/screenshots/a11y-*.png, looked at).

axe-core comes from npm (the Makefile installs it into .venv/axe); it is injected as an init script, which the page's
CSP does not apply to, so the pages are checked exactly as they are served.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import DESKTOP, PHONE, PYTHON, ROOT, LiveServer, _run, new_context
from tests.browser.test_phone_pages import _DEMO, _sign_in

AXE = ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"

# A page is a path, or (path, step, …): open the path, then for each step follow the first link that selector finds
# (a record whose id the demo decides); a step starting with "/" is added to the last link instead, and one starting
# with "click:" presses that button when the page has it (enrolling in a course), staying on the page it leads to.
Key = str | tuple[str, ...]
STUDIO_COURSE = "main a[href^='/studio/courses/']:not([href$='/new'])"
SESSION_LINK = "main a[href^='/training/sessions/']"
REVIEW_LINK = "main a[href^='/admin/title-review/']:not([href*='export'])"
KEY_PAGES: dict[str, list[Key]] = {
    "": ["/login", "/verify"],
    "teacher": [
        "/learning", "/courses", ("/courses", ".course-card h3 a"), (
            "/courses", ".course-card h3 a", "click:form[action$='/enroll'] button", "main a[href^='/lessons/']"),
        "/credits/mine", "/credits/external/new",
        "/certificates", "/account", "/account/2fa", "/notices",
    ],
    "trainer": ["/studio", "/studio/courses/new", "/studio/banks", "/grading", "/training"],
    "school_admin": [
        "/admin/teachers", ("/admin/teachers", "main a[href^='/admin/teachers/']:not([href$='import'])"),
        "/admin/teachers/import", "/credits/queue", "/admin/hours", "/training",
        ("/training", SESSION_LINK), ("/training", SESSION_LINK, "/qr"),
        "/training/new", "/training/compliance",
        "/admin/certificates", "/admin/users",
    ],
    "district_admin": [
        "/credits/queue", "/admin/title-review", ("/admin/title-review", REVIEW_LINK),
        "/admin/policy", "/admin/tokens", "/admin/audit", "/studio/review", "/admin/certificates",
        ("/studio", STUDIO_COURSE), ("/studio", STUDIO_COURSE, "/quiz"),
        ("/admin/certificates", "main a[href^='/admin/certificates/']"), "/training/compliance", "/admin/users",
    ],
}  # fmt: skip

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').split('\\n')[1])}));
}"""
# Boxes that scroll sideways (their content wider than they are), and the page itself.
SIDEWAYS = f"""() => {{
  const wide = [...document.querySelectorAll('main *')].filter(e => {{
    const s = getComputedStyle(e);
    return ['auto', 'scroll'].includes(s.overflowX) && e.scrollWidth > e.clientWidth + 1 && e.checkVisibility();
  }}).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : ''));
  const page = Math.max(document.documentElement.scrollWidth, window.innerWidth) - {PHONE["width"]};
  return page > 0 ? [...wide, 'page +' + page + 'px'] : wide;
}}"""


def _open(page: Page, url: str, key: Key) -> str | None:
    """Opens a key page; returns its path, or None when the demo has no such record (reported, not skipped)."""
    path, *steps = (key,) if isinstance(key, str) else key
    _go(page, url, path)
    for i, step in enumerate(steps):
        if step.startswith("click:"):
            button = page.locator(step.removeprefix("click:")).first
            if button.count():
                with page.expect_navigation():
                    button.click()
            continue
        if step.startswith("/"):
            path = f"{path}{step}"
        else:
            link = page.locator(step).first
            if link.count() == 0:
                return None
            path = str(link.get_attribute("href"))
        if i + 1 == len(steps) or not steps[i + 1].startswith("/"):
            _go(page, url, path)
    return path


def _go(page: Page, url: str, path: str) -> None:
    response = page.goto(f"{url}{path}")
    assert response is not None and response.status == 200, (path, response and response.status)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_roles_key_pages_pass_axe_core_without_serious_violations(
    browser: Any, live_server: LiveServer, screenshots: Path, viewport: dict[str, int]
) -> None:
    assert AXE.exists(), f"{AXE} is missing: run `make install-test` (installs axe-core from npm)"
    _run([str(PYTHON), "-c", _DEMO], live_server.env, live_server.tmp)
    context = new_context(browser, viewport)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    csp: list[str] = []
    page.on(
        "console", lambda m: csp.append(f"{page.url}: {m.text[:80]}") if "Content Security Policy" in m.text else None
    )
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    device = "phone" if viewport is PHONE else "desktop"
    found: dict[str, list[dict[str, Any]]] = {}
    sideways: dict[str, list[str]] = {}
    missing: list[str] = []
    checked = 0
    try:
        for role, keys in KEY_PAGES.items():
            if role:
                _sign_in(page, live_server.url, role)
            else:
                context.clear_cookies()
            for key in keys:
                path = _open(page, live_server.url, key)
                if path is None:
                    missing.append(f"{role} {key}")
                    continue
                checked += 1
                where = f"{role or 'anonymous'} {path}"
                name = path.strip("/").replace("/", "-").replace("?", "-") or "home"
                page.screenshot(path=str(screenshots / f"a11y-{device}-{role or 'anonymous'}-{name}.png"),
                                full_page=True)  # fmt: skip
                violations = page.evaluate(RUN_AXE)
                for v in violations:  # the lesser ones are printed, to be looked at
                    print(f"axe {device} {where}: {v['id']} ({v['impact']}) {v['nodes']}")
                bad = [v for v in violations if v["impact"] in ("serious", "critical")]
                if bad:
                    found[where] = bad
                if viewport is PHONE and (wide := page.evaluate(SIDEWAYS)):
                    sideways[where] = wide
    finally:
        context.close()
    assert missing == [], f"the demo has no record behind these links: {missing}"
    assert checked >= 35
    assert found == {}, "axe-core found serious or critical violations:\n" + "\n".join(
        f"{where}: {v['id']} ({v['impact']}): {v['help']} {v['nodes']}" for where, vs in found.items() for v in vs
    )
    assert sideways == {}, f"on a phone these scroll sideways: {sideways}"
    assert csp == [], f"Content-Security-Policy violations: {csp}"
    assert errors == [], f"JavaScript errors: {errors}"
