"""Demo lesson clips: small, browser-playable, and visibly moving while they play."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from backend.media.demo_video import find_cjk_font, generate_title_clip

ONE_MEGABYTE = 1_000_000


def test_twenty_second_chinese_title_clip_is_small_and_lasts_twenty_seconds(tmp_path: Path) -> None:
    path = tmp_path / "lesson.mp4"

    duration = generate_title_clip(
        path, "第一课：班主任的一天", "松江区班主任网络研修 · 示例视频", seconds=20
    )

    assert duration == pytest.approx(20.0, abs=0.5)
    assert path.stat().st_size < ONE_MEGABYTE


def test_clip_is_in_a_format_chromium_plays_and_can_start_before_fully_downloaded(tmp_path: Path) -> None:
    path = tmp_path / "lesson.mp4"
    generate_title_clip(path, "第二课", "家校沟通", seconds=2)

    with av.open(str(path)) as container:
        video = container.streams.video[0].codec_context
        assert (video.name, video.pix_fmt) == ("h264", "yuv420p")
        assert video.profile in ("Baseline", "Constrained Baseline", "Main")
    content = path.read_bytes()
    # +faststart: the index comes before the media data, so the browser needs no second request to the end.
    assert 0 <= content.find(b"moov") < content.find(b"mdat")


def test_viewer_can_see_the_clip_playing(tmp_path: Path) -> None:
    path = tmp_path / "lesson.mp4"
    generate_title_clip(path, "第二课", "家校沟通", seconds=4, fps=5)

    with av.open(str(path)) as container:
        frames = [frame.to_image().convert("L") for frame in container.decode(video=0)]

    # A point three quarters along the progress bar: dark track at the start, bright bar by the end.
    point = (int(frames[0].width * 0.75), int(frames[0].height * 0.9))
    assert len(frames) == 20
    assert frames[-1].getpixel(point) - frames[0].getpixel(point) > 80


def test_a_chinese_font_is_available_for_titles() -> None:
    found = find_cjk_font()
    if found is None:
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk); titles would render as boxes")

    font_file, _index = found
    assert font_file.is_file()


def test_a_demo_lesson_of_real_length_is_a_still_slide_that_generates_quickly(tmp_path: Path) -> None:
    """Issue 13: a demo course's videos are as long as the credit hours it claims (45 minutes each), so a long clip
    is a still slide at one frame a second: 45 minutes of it stay small and generate in seconds."""
    import time

    from backend.media import library

    path = tmp_path / "lesson.mp4"
    started = time.perf_counter()
    duration = library.generate_demo_clip(path, title="第一讲：班主任的岗位定位", subtitle="示例课程", seconds=45 * 60)
    took = time.perf_counter() - started
    assert duration == pytest.approx(45 * 60, abs=1.0)
    assert path.stat().st_size < 5 * ONE_MEGABYTE
    with av.open(str(path)) as container:
        assert container.streams.video[0].average_rate == 1
    assert took < 30, f"{took:.1f} s for a 45-minute still slide"
