"""A trainer uploads in real Chromium (upload.js on the try-out page) against the real server (`portal serve`):
progress and poster, a dropped connection, a reload in the middle, cancelling, and a file that is not a video.
The network failures are made by the browser's own request routing; nothing on the server side is faked."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DESKTOP, SCREENSHOTS
from tests.media.conftest import free_port
from tests.media.upload_helpers import mp4_bytes

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / ".venv" / "bin" / "portal"
TRAINER, PASSWORD = "trainer-upload", "e2e-Trainer-upload-pass"
VIDEO = '.uploader[data-kind="video"]'
MIB = 1024 * 1024


def _run(args: list[str], env: dict[str, str], cwd: Path) -> None:
    subprocess.run(args, env=env, cwd=cwd, check=True, capture_output=True, timeout=300)  # noqa: S603


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("upload-e2e")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'portal.db'}", "MEDIA_ROOT": str(tmp / "media"),
           "STORAGE_BACKEND": "local", "DEMO_MODE": "true"}
    env.pop("SECRET_KEY", None)
    _run([str(PORTAL), "db", "upgrade"], env, tmp)
    _run([str(PORTAL), "users", "create", TRAINER, "--role", "trainer", "--name", "陈老师", "--password", PASSWORD],
         env, tmp)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: S603
        [str(PORTAL), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("portal serve did not start")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/login")
    page.fill("#username", TRAINER)
    page.fill("#password", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/studio$"))  # a trainer lands on the studio
    page.goto(f"{server}/studio/uploads/new")
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("files")
    path = folder / "第一讲.mp4"
    path.write_bytes(mp4_bytes(folder, seconds=3, pad_to=12 * MIB))  # two chunks
    return path


def upload_id(page: Any) -> str:
    return page.locator(f'{VIDEO} input[name="video_upload_id"]').input_value()


def expect_ready(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator(f"{VIDEO} .uploader-status.ok")).to_be_visible(timeout=60_000)
    assert re.fullmatch(r"[0-9a-f-]{36}", upload_id(page))
    expect(page.locator(f"{VIDEO} progress")).to_have_attribute("value", "100")
    expect(page.locator(f"{VIDEO} .uploader-percent")).to_have_text("100%")
    expect(page.locator(f"{VIDEO} .uploader-facts")).to_contain_text("0:03")


def test_trainer_uploads_a_video_and_sees_progress_duration_and_poster(page: Any, video: Path) -> None:
    page.set_input_files(f"{VIDEO} input[type=file]", str(video))
    expect_ready(page)
    poster = page.locator(f"{VIDEO} .uploader-poster")
    assert poster.is_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=poster.element_handle())
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('portal-upload:')).length") == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "trainer-upload-ready.png"), full_page=True)


def test_a_dropped_chunk_is_sent_again(page: Any, video: Path) -> None:
    dropped: list[str] = []

    def drop_once(route: Any) -> None:
        if not dropped:
            dropped.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/chunks/1", drop_once)
    page.set_input_files(f"{VIDEO} input[type=file]", str(video))
    expect_ready(page)
    assert len(dropped) == 1


def test_after_a_reload_choosing_the_same_file_continues_where_it_stopped(page: Any, video: Path) -> None:
    from playwright.sync_api import expect

    page.route("**/chunks/1", lambda route: route.abort("internetdisconnected"))
    page.set_input_files(f"{VIDEO} input[type=file]", str(video))
    expect(page.locator(f"{VIDEO} .uploader-status.warn")).to_be_visible()

    page.reload()
    expect(page.locator(f"{VIDEO} .uploader-status.warn")).to_contain_text("第一讲.mp4")
    expect(page.locator(f"{VIDEO} .uploader-status.warn")).to_contain_text("66%")
    page.unroute("**/chunks/1")  # back online
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if "/chunks/" in request.url else None)
    page.set_input_files(f"{VIDEO} input[type=file]", str(video))
    expect_ready(page)
    assert [url.rsplit("/", 1)[1] for url in sent] == ["1"]  # chunk 0 was not sent again


def test_cancelling_removes_the_upload_from_the_server(page: Any, video: Path, server: str) -> None:
    from playwright.sync_api import expect

    page.route("**/chunks/1", lambda route: route.abort("internetdisconnected"))
    page.set_input_files(f"{VIDEO} input[type=file]", str(video))
    expect(page.locator(f"{VIDEO} .uploader-status.warn")).to_be_visible()
    saved = page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('portal-upload:')).map(k => JSON.parse(localStorage[k]))"
    )
    assert len(saved) == 1
    page.locator(f"{VIDEO} .uploader-cancel").click()
    expect(page.locator(f"{VIDEO} .uploader-status")).not_to_have_class(re.compile("warn"))
    expect(page.locator(f"{VIDEO} .uploader-progress")).to_be_hidden()
    page.wait_for_function("() => !Object.keys(localStorage).some(k => k.startsWith('portal-upload:'))")
    deadline = time.monotonic() + 10
    while page.request.get(f"{server}/api/v1/uploads/{saved[0]['upload_id']}").status != 404:
        assert time.monotonic() < deadline, "the cancelled upload is still on the server"
        time.sleep(0.2)
    assert upload_id(page) == ""


def test_a_text_file_named_mp4_is_refused_with_a_message(page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    fake = tmp_path / "lesson.mp4"
    fake.write_text("这不是视频。\n" * 1000, encoding="utf-8")
    page.set_input_files(f"{VIDEO} input[type=file]", str(fake))
    status = page.locator(f"{VIDEO} .uploader-status.error")
    expect(status).to_be_visible()
    expect(status).to_contain_text("MP4")
    assert upload_id(page) == ""
