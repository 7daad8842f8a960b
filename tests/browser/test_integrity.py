"""What a teacher sees when the integrity rules act: the attention check, and a second tab that does not count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, update

from backend.learning.models import PlaybackSession
from tests.browser.conftest import TEACHER_PROMPT, TEACHER_TWO_TABS, LiveServer
from tests.browser.test_teacher_story import play, start_test_course, wait_for_video, zh


def _make_prompt_due_now(live_server: LiveServer) -> None:
    """Brings this teacher's attention check forward (policy: random 10–20 min) so the test need not wait."""
    engine = create_engine(live_server.env["DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(
            update(PlaybackSession)
            .where(PlaybackSession.ended_at.is_(None))
            .values(prompt_due_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    engine.dispose()


def test_the_attention_check_appears_as_a_modal_and_answering_it_keeps_counting(
    live_server: LiveServer, page: Page, screenshots: Path
) -> None:
    start_test_course(page, live_server.url, TEACHER_PROMPT)
    wait_for_video(page)
    play(page)
    page.wait_for_function("() => document.getElementById('video').currentTime >= 0.5")
    _make_prompt_due_now(live_server)
    dialog = page.locator("dialog#attention")
    expect(dialog).to_be_visible(timeout=15_000)
    expect(dialog.get_by_role("heading")).to_have_text(zh("Are you still watching?"))
    page.screenshot(path=str(screenshots / "10-attention-check.png"), full_page=True)
    dialog.get_by_role("button", name=zh("I am here, continue")).click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#player-status")).not_to_have_text(
        zh("Not counting: the attention check was not answered in time, so the time since the last check was not "
           "counted. Press play and answer the next check.")
    )


def test_a_second_tab_is_told_why_it_does_not_count(live_server: LiveServer, page: Page, screenshots: Path) -> None:
    lesson_url = start_test_course(page, live_server.url, TEACHER_TWO_TABS)
    wait_for_video(page)
    play(page)
    page.wait_for_function("() => document.getElementById('credited').textContent !== '0:00'", timeout=20_000)
    second = page.context.new_page()
    second.goto(lesson_url)
    wait_for_video(second)
    play(second)
    expect(second.locator("#player-status")).to_have_text(
        zh("Not counting: you are watching another lesson in another tab or device. Only one playback counts at "
           "a time."),
        timeout=15_000,
    )
    second.screenshot(path=str(screenshots / "11-second-tab.png"), full_page=True)
    second.close()
