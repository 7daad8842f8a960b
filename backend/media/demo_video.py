"""Small, real H.264 lesson clips for demos and tests: a title card with a growing progress bar and a clock.

The clips are meant to be *watched* in a browser during a demo, so the picture changes every frame (the bar
grows and the seconds count up): a viewer can tell at a glance that playback is running, paused or stuck.

Speed: the background and the centred title/subtitle are drawn once; a frame is drawn (and converted) again only
when its picture changes (the bar grows a pixel, the counter moves on), and an unchanged picture is sent to the
encoder again as it is. A 20 s clip at 10 fps encodes in well under a second. Demo lessons that stand for hours of
content (45 minutes a credit hour, policy) are still slides at one frame a second (`generate_demo_clip`) whose
bar and counter move on every `LONG_CLIP_COUNTER_SECONDS`: identical frames cost the encoder next to nothing.

Browser compatibility: H.264 Main profile, yuv420p, in MP4 with the index (`moov`) at the front
(`+faststart`), so Chromium can start playing and seeking before the whole file has arrived.
"""

from __future__ import annotations

import glob
import logging
import shutil
import subprocess  # nosec B404 - runs fc-match with fixed arguments (below)
from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFont

from backend.media.probe import probe_media

logger = logging.getLogger(__name__)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
FontFile = tuple[Path, int]  # file and face index within a .ttc collection
Colour = tuple[int, int, int]

CJK_FONT_FAMILY = "Noto Sans CJK SC"
# Debian's fonts-noto-cjk installs to /usr/share/fonts/opentype/noto/; other distributions use other folders.
CJK_FONT_GLOBS = (
    "/usr/share/fonts/**/NotoSansCJK*.tt[cf]",
    "/usr/share/fonts/**/NotoSerifCJK*.tt[cf]",
)
# A .ttc collection holds JP, KR, SC, TC and HK faces; Songjiang wants Simplified Chinese glyph shapes.
_SIMPLIFIED_CHINESE_MARKER = " SC"

BACKGROUND_TOP: Colour = (28, 61, 82)  # deep blue-teal: calm, and keeps white text readable
BACKGROUND_BOTTOM: Colour = (44, 98, 110)
TITLE_COLOUR: Colour = (255, 255, 255)
SUBTITLE_COLOUR: Colour = (205, 226, 232)
BAR_TRACK_COLOUR: Colour = (20, 42, 56)
BAR_COLOUR: Colour = (242, 178, 75)
COUNTER_COLOUR: Colour = (230, 240, 244)

# x264 constant-quality setting: flat colours and slow change compress to a few KB per second even at 28.
X264_CRF = "28"
KEYFRAME_SECONDS = 2  # a keyframe every 2 s keeps seeking in the player quick
# Clips longer than this are demo lessons of real length: still slides at 1 fps whose bar and counter move on once a
# minute, a keyframe a minute, and x264's fastest settings on one thread (an unchanged picture costs it ~0.3 ms a
# frame): 90 minutes generate in about 2 s.
LONG_CLIP_SECONDS = 120
LONG_CLIP_FPS = 1
LONG_CLIP_KEYFRAME_SECONDS = 60
LONG_CLIP_COUNTER_SECONDS = 60
LONG_CLIP_X264 = {"preset": "ultrafast", "x264-params": "rc-lookahead=0:bframes=0:sync-lookahead=0:threads=1"}


@dataclass(frozen=True)
class _FrameLayout:
    width: int
    height: int
    bar_left: int
    bar_right: int
    bar_top: int
    bar_bottom: int
    counter_font: Font


def generate_title_clip(
    path: Path,
    title: str,
    subtitle: str,
    seconds: int,
    width: int = 640,
    height: int = 360,
    fps: int = 10,
) -> float:
    """Write an MP4 title card lasting `seconds` to `path`; return the duration `probe_media` reads back."""
    if seconds < 1 or fps < 1:
        raise ValueError("a clip needs at least one second and one frame per second")
    if width % 2 or height % 2:
        raise ValueError("yuv420p needs an even width and height")

    font_file = find_cjk_font()
    if font_file is None:
        logger.warning(
            "No CJK font found (install fonts-noto-cjk); Chinese text in demo clips will show as boxes"
        )
    layout = _layout(width, height, font_file)
    background = _draw_background(layout, font_file, title, subtitle)
    total_frames = seconds * fps
    long_clip = seconds > LONG_CLIP_SECONDS
    counter_step = LONG_CLIP_COUNTER_SECONDS if long_clip else 1

    with av.open(str(path), mode="w", format="mp4", container_options={"movflags": "+faststart"}) as output:
        stream = output.add_stream(
            "libx264",
            rate=fps,
            options={
                "crf": X264_CRF, "preset": "medium", "profile": "main", "tune": "stillimage",
                **(LONG_CLIP_X264 if long_clip else {}),
            },
        )  # fmt: skip
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = fps * (LONG_CLIP_KEYFRAME_SECONDS if long_clip else KEYFRAME_SECONDS)
        shown: tuple[int, str] | None = None
        frame: av.VideoFrame | None = None
        for index in range(total_frames):
            looks = _frame_looks(layout, index, total_frames, fps, counter_step)
            if frame is None or looks != shown:
                frame = av.VideoFrame.from_image(_draw_frame(background, layout, *looks)).reformat(format="yuv420p")
                shown = looks
            frame.pts = index  # the stream's time base is 1/fps, so pts counts frames
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))  # flush the frames the encoder still holds

    return probe_media(path).duration_seconds


def find_cjk_font() -> FontFile | None:
    """A font file (and face index within a .ttc) that has Chinese glyphs, or None if none is installed."""
    return _font_from_fontconfig() or _font_from_known_folders()


def _font_from_fontconfig() -> FontFile | None:
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        result = subprocess.run(  # noqa: S603  # nosec B603 - fixed arguments, no shell
            [fc_match, "-f", "%{file}\n%{index}\n%{family}", CJK_FONT_FAMILY],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = result.stdout.split("\n")
    if len(lines) < 3:
        return None
    file_name, index, family = lines[0], lines[1], lines[2]
    # fc-match always answers with *some* font (DejaVu when no CJK font exists), so check what it chose.
    if "CJK" not in family or not Path(file_name).is_file():
        return None
    return Path(file_name), int(index) if index.isdigit() else 0


def _font_from_known_folders() -> FontFile | None:
    for pattern in CJK_FONT_GLOBS:
        for file_name in sorted(glob.glob(pattern, recursive=True)):
            return Path(file_name), _simplified_chinese_face(Path(file_name))
    return None


def _simplified_chinese_face(font_file: Path) -> int:
    if font_file.suffix.lower() != ".ttc":
        return 0
    for index in range(8):
        try:
            family, _style = ImageFont.truetype(str(font_file), 12, index=index).getname()
        except OSError:
            break  # past the last face in the collection
        if family and _SIMPLIFIED_CHINESE_MARKER in family:
            return index
    return 0


def _load_font(font_file: FontFile | None, size: int) -> Font:
    if font_file is None:
        return ImageFont.load_default(size=size)
    path, index = font_file
    return ImageFont.truetype(str(path), size, index=index)


def _fitted_font(font_file: FontFile | None, text: str, size: int, max_width: int) -> Font:
    """The font at `size`, shrunk step by step until `text` fits on one line within `max_width`."""
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    font = _load_font(font_file, size)
    while size > 12 and measure.textlength(text, font=font) > max_width:
        size = int(size * 0.9)
        font = _load_font(font_file, size)
    return font


def _layout(width: int, height: int, font_file: FontFile | None) -> _FrameLayout:
    margin = width // 16
    bar_height = max(6, height // 40)
    bar_bottom = height - height // 12
    return _FrameLayout(
        width=width,
        height=height,
        bar_left=margin,
        bar_right=width - margin,
        bar_top=bar_bottom - bar_height,
        bar_bottom=bar_bottom,
        counter_font=_load_font(font_file, max(12, height // 22)),
    )


def _draw_background(
    layout: _FrameLayout, font_file: FontFile | None, title: str, subtitle: str
) -> Image.Image:
    gradient = Image.linear_gradient("L").resize((layout.width, layout.height))
    image = Image.composite(
        Image.new("RGB", (layout.width, layout.height), BACKGROUND_BOTTOM),
        Image.new("RGB", (layout.width, layout.height), BACKGROUND_TOP),
        gradient,
    )
    draw = ImageDraw.Draw(image)
    text_width = int(layout.width * 0.88)
    centre_x = layout.width // 2
    centre_y = int(layout.height * 0.42)
    title_font = _fitted_font(font_file, title, max(16, layout.height // 9), text_width)
    subtitle_font = _fitted_font(font_file, subtitle, max(12, layout.height // 18), text_width)
    # Anchor "md"/"ma": middle-bottom of the title above the centre line, middle-top of the subtitle below it.
    gap = layout.height // 30
    draw.text((centre_x, centre_y - gap), title, font=title_font, fill=TITLE_COLOUR, anchor="md")
    draw.text((centre_x, centre_y + gap), subtitle, font=subtitle_font, fill=SUBTITLE_COLOUR, anchor="ma")
    draw.rectangle(
        (layout.bar_left, layout.bar_top, layout.bar_right, layout.bar_bottom), fill=BAR_TRACK_COLOUR
    )
    return image


def _frame_looks(layout: _FrameLayout, index: int, total: int, fps: int, counter_step: int) -> tuple[int, str]:
    """What frame `index` shows: the right end of the bar and the counter, both moving on every frame or, for a
    still slide, every `counter_step` seconds (so the picture changes only then)."""
    elapsed = index // fps // counter_step * counter_step
    shown = index if counter_step == 1 else min(total - 1, (elapsed + counter_step) * fps - 1)
    filled_right = layout.bar_left + round((layout.bar_right - layout.bar_left) * (shown + 1) / total)
    return filled_right, f"{_clock(elapsed)} / {_clock(total // fps)}"


def _draw_frame(background: Image.Image, layout: _FrameLayout, filled_right: int, counter: str) -> Image.Image:
    picture = background.copy()
    draw = ImageDraw.Draw(picture)
    draw.rectangle((layout.bar_left, layout.bar_top, filled_right, layout.bar_bottom), fill=BAR_COLOUR)
    draw.text(
        (layout.bar_right, layout.bar_top - layout.height // 40),
        counter,
        font=layout.counter_font,
        fill=COUNTER_COLOUR,
        anchor="rd",
    )
    return picture


def _clock(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"
