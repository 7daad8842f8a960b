"""Uploads are checked by what FFmpeg finds inside them, not by their names."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.media.demo_video import generate_title_clip
from backend.media.probe import InvalidMedia, probe_media


@pytest.fixture(scope="module")
def three_second_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("probe") / "clip.mp4"
    generate_title_clip(path, "第三课", "班级活动设计", seconds=3)
    return path


def test_probing_a_lesson_clip_reports_h264_mp4_and_its_length(three_second_clip: Path) -> None:
    info = probe_media(three_second_clip)

    assert info.video_codec == "h264"
    assert "mp4" in info.container
    assert info.duration_seconds == pytest.approx(3.0, abs=0.5)
    assert (info.width, info.height) == (640, 360)


def test_text_file_renamed_to_mp4_is_not_media(tmp_path: Path) -> None:
    fake = tmp_path / "lesson.mp4"
    fake.write_text("这不是视频。This is a lesson plan, not a video.\n" * 50, encoding="utf-8")

    with pytest.raises(InvalidMedia):
        probe_media(fake)


def test_text_that_ffmpeg_would_play_as_ansi_art_is_not_media(tmp_path: Path) -> None:
    # FFmpeg's `tty` demuxer plays *.ans/*.nfo text as a "video"; uploading one is still not a lesson.
    ansi = tmp_path / "readme.ans"
    ansi.write_text("hello teachers\n" * 100)

    with pytest.raises(InvalidMedia, match="text"):
        probe_media(ansi)


def test_upload_cut_off_in_its_header_is_corrupt(three_second_clip: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(three_second_clip.read_bytes()[:1500])  # ends inside the `moov` index

    with pytest.raises(InvalidMedia):
        probe_media(truncated)


def test_empty_upload_is_not_media(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")

    with pytest.raises(InvalidMedia):
        probe_media(empty)
