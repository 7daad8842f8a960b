"""Writes a course version in the `courses/` folder format that `backend.catalogue.importer` reads back unchanged:

    <folder>/course.toml      code, title, tier, topics, hours, lessons (with their files) and the quiz: its settings,
                              questions (answers, accepted fill-ins, points) and draws from banks (by bank title)
    <folder>/description.md
    <folder>/lesson-NN.md     each lesson's Markdown body
    <folder>/lesson-NN.mp4    video files copied out of storage (or .webm); documents as lesson-NN.pdf
    <folder>/cover.jpg        the cover image, if any (or .png / .webp)

`export_zip` packs that folder into a zip for download. Files are streamed out of storage in chunks, so a course
with long videos never sits in memory.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from backend.catalogue.models import Course, Lesson
from backend.kit.errors import Conflict
from backend.kit.i18n import _
from backend.media.storage import ObjectMissing, Storage
from backend.quizzes import service as quizzes

_EXTENSIONS = {
    "video/mp4": "mp4",
    "video/webm": "webm",
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
}


def folder_name(course: Course, code: str | None = None) -> str:
    return f"{(code or course.code).lower()}-v{course.version}"


def export_course(session: Session, storage: Storage, course: Course, folder: Path, *, code: str | None = None) -> Path:
    """Writes `course` (lessons loaded) into `folder`, created if needed; `code` exports it under another code."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "description.md", course.description_md)
    table: dict[str, Any] = {
        "code": code or course.code,
        "title": course.title,
        "tier": course.tier,
        "topics": course.topic_codes,
        "credit_hours": str(course.credit_hours),
        "credit_category": course.credit_category,
        "summary": course.summary,
        "description": "description.md",
    }
    if course.cover_key:
        table["cover"] = _copy_out(storage, course.cover_key, folder, "cover", None)
    lessons = []
    for number, lesson in enumerate(course.lessons, start=1):
        stem = f"lesson-{number:02d}"
        _write(folder / f"{stem}.md", lesson.body_md)
        entry: dict[str, Any] = {"title": lesson.title, "kind": lesson.kind, "body": f"{stem}.md"}
        if lesson.media_key and lesson.kind in ("video", "document"):
            entry[lesson.kind] = _copy_out(storage, lesson.media_key, folder, stem, lesson)
        lessons.append(entry)
    quiz = quizzes.quiz_for_course(session, course.id)
    lines = _toml_table(table)
    for entry in lessons:
        lines += ["", "[[lessons]]", *_toml_table(entry)]
    if quiz is not None:
        lines += ["", "[quiz]", *_toml_table(_quiz_settings(quiz))]
        for question in quiz.questions:
            lines += ["", "[[quiz.questions]]", *_toml_table(_question(question))]
        for bank, count in quizzes.draw_banks(session, quiz):
            lines += ["", "[[quiz.draws]]", *_toml_table({"bank": bank.title, "topic": bank.topic, "count": count})]
    _write(folder / "course.toml", "\n".join(lines) + "\n")
    return folder


def export_zip(session: Session, storage: Storage, course: Course, target: Path) -> Path:
    """The course as a zip at `target` with one top-level folder, ready for `portal import` once unpacked."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = export_course(session, storage, course, Path(tmp) / folder_name(course))
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.iterdir()):
                # Videos are already compressed: store them as they are.
                method = zipfile.ZIP_STORED if path.suffix in (".mp4", ".webm", ".jpg", ".png", ".webp") else None
                archive.write(path, f"{folder.name}/{path.name}", compress_type=method)
    return target


def _quiz_settings(quiz: Any) -> dict[str, Any]:
    return {
        "title": quiz.title,
        "pass_mark": quiz.pass_mark,
        "max_attempts": quiz.max_attempts,
        "time_limit_minutes": quiz.time_limit_minutes,  # left out when untimed
        "counting": quiz.counting,
        "show_explanations": quiz.show_explanations,
        "shuffle_options": quiz.shuffle_options,
    }


def _question(question: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"kind": question.kind, "prompt": question.prompt}
    if question.kind == "truefalse":
        entry["answer"] = list(question.answer) == [0]  # stored as an index into [正确, 错误]
    elif question.kind in ("fill", "essay"):
        entry["accepted"] = list(question.accepted or [])  # fill: accepted answers; essay: a reference answer
    else:
        entry["options"] = list(question.options or [])
        entry["answer"] = list(question.answer or [])
    entry["points"] = question.points
    entry["explanation"] = question.explanation or ""
    return entry


def _write(path: Path, text: str) -> None:
    path.write_text(text or "", "utf-8", newline="\n")


def _copy_out(storage: Storage, key: str, folder: Path, stem: str, lesson: Lesson | None) -> str:
    try:
        info = storage.stat(key)
        extension = _EXTENSIONS.get(info.content_type) or Path(key).suffix.lstrip(".") or "bin"
        name = f"{stem}.{extension}"
        with (folder / name).open("wb") as out:
            if info.size:
                for chunk in storage.read_range(key, 0, info.size - 1):
                    out.write(chunk)
    except ObjectMissing as exc:
        if lesson is None:
            raise Conflict(_("The cover image is missing from storage.")) from exc
        raise Conflict(_("The file of lesson %(n)s is missing from storage."), n=lesson.position) from exc
    return name


# --- a TOML writer for the few shapes course.toml uses (strings, numbers, booleans, flat lists) -----------------

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _string(value: str) -> str:
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Iterable):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to course.toml")


def _toml_table(table: dict[str, Any]) -> list[str]:
    return [f"{key} = {_value(value)}" for key, value in table.items() if value is not None]


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
