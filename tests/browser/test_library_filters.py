"""Issue 18: the course library's address follows its search and filters (a link can be shared, the back button
works), a topic chosen from the dropdown lights up its chip, and on a phone every tier tab is in view.
Screenshots: test-artifacts/screenshots/library-*.png."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE, TEACHER_TWO_TABS, LiveServer, new_context
from tests.browser.test_teacher_story import log_in


def _chip(page: Page, name: str) -> Any:
    return page.locator("#topic-chips a", has_text=name)


def test_library_address_follows_search_and_filters_and_the_dropdown_lights_its_chip(
    browser: Any, live_server: LiveServer, screenshots: Path
) -> None:
    context = new_context(browser, DESKTOP)
    page = context.new_page()
    try:
        log_in(page, live_server.url, TEACHER_TWO_TABS)
        page.goto(f"{live_server.url}/courses")
        page.select_option("#topic", "family")
        expect(page).to_have_url(re.compile(r"/courses\?.*topic=family"))
        expect(_chip(page, "家庭教育指导")).to_have_class(re.compile(r"\bon\b"))
        expect(_chip(page, "家庭教育指导")).to_have_attribute("aria-current", "true")
        page.fill("#q", "家校")
        page.press("#q", "Enter")
        expect(page).to_have_url(re.compile(r"q=%E5%AE%B6%E6%A0%A1|q=家校"))
        # The tabs carry the search and the topic: switching tier keeps both.
        expect(page.locator("#tier-tabs a", has_text="地平线")).to_have_attribute(
            "href", re.compile(r"tier=horizon.*topic=family.*q=")
        )
        page.screenshot(path=str(screenshots / "library-desktop-filtered.png"), full_page=True)
        shared = page.url
        # Back, step by step, to the unfiltered library (the search and the topic each left a step).
        page.go_back()
        expect(page).to_have_url(re.compile(r"topic=family"))
        for _step in range(3):
            if re.search(r"/courses$", page.url):
                break
            page.go_back()
            page.wait_for_load_state()
        expect(page).to_have_url(re.compile(r"/courses$"))
        expect(page.locator("#topic-chips a.on")).to_have_count(0)
        # A shared address opens the same view, chip lit and search filled.
        page.goto(shared)
        expect(_chip(page, "家庭教育指导")).to_have_class(re.compile(r"\bon\b"))
        expect(page.locator("#q")).to_have_value("家校")
        expect(page.locator(".course-card")).to_have_count(1)
    finally:
        context.close()


def test_every_tier_tab_is_in_view_on_a_phone(browser: Any, live_server: LiveServer, screenshots: Path) -> None:
    context = new_context(browser, PHONE)
    page = context.new_page()
    try:
        log_in(page, live_server.url, TEACHER_TWO_TABS)
        page.goto(f"{live_server.url}/courses")
        for name in ("全部层级", "地平线", "指南针", "攀登者", "满天星"):
            box = page.locator("#tier-tabs a", has_text=name).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (name, box)
        page.screenshot(path=str(screenshots / "library-phone-tabs.png"))
    finally:
        context.close()
