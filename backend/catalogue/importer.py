"""Imports courses from the `courses/` folder format: one folder per course with `course.toml` and Markdown.

A course may claim no more credit hours than its content supports: the importer applies the studio's rule
(`authoring.check_credit_hours`, `minutes_per_credit_hour` of policy) through the same function, with the same
message, once the lessons' lengths are known.

Idempotent: a folder whose content hash is unchanged is skipped. A changed course is updated in place while it
is a draft or nobody has enrolled; once teachers have started it, a new version is made and the old one kept
for them, so nobody's course changes underneath them.
"""

from __future__ import annotations

import hashlib
import tempfile
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from backend.catalogue import authoring
from backend.catalogue.models import Course, CourseTopic, Lesson
from backend.kit import clock
from backend.kit.errors import InvalidInput
from backend.learning import service as learning
from backend.media import library
from backend.media.probe import InvalidMedia
from backend.media.storage import Storage
from backend.policies.service import Policy, load_policy
from backend.policies.taxonomy import CATEGORY_CODES, TIER_CODES, TOPIC_CODES
from backend.quizzes import banks
from backend.quizzes import service as quizzes
from backend.quizzes.models import QuestionBank


class QuestionSpec(BaseModel):
    kind: Literal["single", "multiple", "truefalse", "fill", "essay"]
    prompt: str = Field(min_length=1)
    options: list[str] = Field(default_factory=list)
    answer: list[int] | bool = Field(default_factory=list)
    # fill: the accepted answers; essay: a reference answer for graders (optional).
    accepted: list[str] = Field(default_factory=list)
    points: int = Field(1, ge=1, le=100)
    explanation: str = ""

    @model_validator(mode="after")
    def _answer_fits(self) -> QuestionSpec:
        if self.kind == "truefalse":
            if not isinstance(self.answer, bool):
                raise ValueError("a truefalse answer is true or false")
            return self
        if self.kind == "fill":
            if not [a for a in self.accepted if a.strip()]:
                raise ValueError("a fill-in question lists its accepted answers")
            return self
        if self.kind == "essay":
            return self
        if isinstance(self.answer, bool) or not self.answer:
            raise ValueError("answer must list the correct option indices")
        if len(self.options) < 2 or any(not 0 <= i < len(self.options) for i in self.answer):
            raise ValueError("answer indices must point into options (2 or more)")
        if self.kind == "single" and len(self.answer) != 1:
            raise ValueError("a single-choice question has exactly one answer")
        return self


class DrawSpec(BaseModel):
    """Each attempt draws `count` random questions from the question bank named `bank` on `topic`."""

    bank: str = Field(min_length=1)
    topic: str
    count: int = Field(ge=1, le=200)


class QuizSpec(BaseModel):
    title: str = "课程测验"
    pass_mark: int = Field(60, ge=1, le=100)
    max_attempts: int = Field(3, ge=1, le=100)
    time_limit_minutes: int | None = Field(None, ge=1, le=600)
    counting: Literal["highest", "last"] = "highest"
    show_explanations: Literal["always", "after_passing", "never"] = "always"
    shuffle_options: bool = False
    questions: list[QuestionSpec] = Field(default_factory=list)
    draws: list[DrawSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_questions(self) -> QuizSpec:
        if not self.questions and not self.draws:
            raise ValueError("a quiz needs questions of its own or draws from question banks")
        return self


class LessonSpec(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    kind: Literal["video", "text", "document"]
    body: str
    video: str | None = None  # a video file in the course folder (not in git); else a demo clip may be generated
    document: str | None = None  # a PDF in the course folder, for kind = "document"
    # Long enough for the credit hours the course claims (45 content minutes each, policy): a generated clip is a
    # still slide at one frame a second, so hours of it cost little (backend/media/demo_video.py).
    demo_video_seconds: int = Field(20, ge=3, le=4 * 3600)


class CourseSpec(BaseModel):
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    title: str = Field(min_length=1, max_length=200)
    tier: str
    topics: list[str] = Field(default_factory=list)
    credit_hours: Decimal = Field(gt=0, le=200, decimal_places=1)
    credit_category: str = "knowledge_skills"
    summary: str = ""
    description: str
    lessons: list[LessonSpec] = Field(min_length=1)
    quiz: QuizSpec | None = None
    cover: str | None = None  # an image file in the course folder

    @field_validator("tier")
    @classmethod
    def _tier(cls, v: str) -> str:
        if v not in TIER_CODES:
            raise ValueError(f"tier must be one of {sorted(TIER_CODES)}")
        return v

    @field_validator("topics")
    @classmethod
    def _topics(cls, v: list[str]) -> list[str]:
        unknown = set(v) - TOPIC_CODES
        if unknown:
            raise ValueError(f"unknown topics {sorted(unknown)}; known: {sorted(TOPIC_CODES)}")
        return sorted(set(v))

    @field_validator("credit_category")
    @classmethod
    def _category(cls, v: str) -> str:
        if v not in CATEGORY_CODES:
            raise ValueError(f"credit_category must be one of {sorted(CATEGORY_CODES)}")
        return v


@dataclass(frozen=True)
class LoadedCourse:
    folder: Path
    spec: CourseSpec
    description_md: str
    bodies: list[str]
    source_hash: str


@dataclass(frozen=True)
class ImportResult:
    code: str
    course_id: int
    action: Literal["created", "updated", "new_version", "unchanged"]


def load_folder(folder: Path) -> LoadedCourse:
    meta = folder / "course.toml"
    if not meta.is_file():
        raise InvalidInput("%(folder)s has no course.toml", folder=str(folder))
    try:
        raw = tomllib.loads(meta.read_text("utf-8"))
        spec = CourseSpec.model_validate(raw)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput("%(file)s is not valid TOML: %(error)s", file=str(meta), error=str(exc)) from exc
    except ValidationError as exc:
        raise InvalidInput("%(file)s: %(error)s", file=str(meta), error=str(exc)) from exc

    def text(name: str) -> str:
        path = (folder / name).resolve()
        if folder.resolve() not in path.parents or not path.is_file():
            raise InvalidInput("%(folder)s: missing file %(name)s", folder=str(folder), name=name)
        return path.read_text("utf-8")

    description = text(spec.description)
    bodies = [text(lesson.body) for lesson in spec.lessons]
    try:  # documents and the cover are checked by their content before anything is written
        for lesson in spec.lessons:
            if lesson.kind == "document" and lesson.document:
                count_pdf_pages(_inside(folder, lesson.document))
        if spec.cover:
            _image_type(_inside(folder, spec.cover))
    except InvalidFile as exc:
        raise InvalidInput("A course file could not be read: %(error)s", error=exc.message) from exc
    digest = hashlib.sha256(meta.read_bytes())
    for part in [description, *bodies]:
        digest.update(part.encode())
    media = [name for lesson in spec.lessons for name in (lesson.video, lesson.document) if name]
    for name in [*media, *([spec.cover] if spec.cover else [])]:
        if (folder / name).is_file():
            digest.update(hashlib.sha256((folder / name).read_bytes()).digest())
    return LoadedCourse(folder, spec, description, bodies, digest.hexdigest())


def course_folders(root: Path) -> list[Path]:
    if (root / "course.toml").is_file():
        return [root]
    if not root.is_dir():
        raise InvalidInput("%(path)s is not a folder", path=str(root))
    return sorted(p for p in root.iterdir() if (p / "course.toml").is_file())


def import_path(
    session: Session, storage: Storage, root: Path, *, publish: bool = False, demo_media: bool = False
) -> list[ImportResult]:
    """Imports every course folder under `root`. Validates all folders before writing anything; if any course
    fails later (a video that is not a video), objects written to storage so far are removed again and the
    caller's transaction rolls back, so nothing is half-imported."""
    loaded = [load_folder(folder) for folder in course_folders(root)]
    codes = [c.spec.code for c in loaded]
    duplicates = {c for c in codes if codes.count(c) > 1}
    if duplicates:
        raise InvalidInput("Course codes used twice: %(codes)s", codes=", ".join(sorted(duplicates)))
    written = library.WrittenObjects(storage)
    policy = load_policy(session)
    try:
        return [
            import_course(session, written, c, publish=publish, demo_media=demo_media, policy=policy) for c in loaded
        ]
    except InvalidMedia as exc:
        written.remove_all()
        raise InvalidInput("A lesson video could not be read: %(error)s", error=exc.message) from exc
    except InvalidFile as exc:
        written.remove_all()
        raise InvalidInput("A course file could not be read: %(error)s", error=exc.message) from exc
    except BaseException:
        written.remove_all()
        raise


def import_course(
    session: Session,
    written: library.WrittenObjects,
    loaded: LoadedCourse,
    *,
    publish: bool,
    demo_media: bool,
    policy: Policy | None = None,
) -> ImportResult:
    spec = loaded.spec
    policy = policy or load_policy(session)
    latest = session.scalar(
        select(Course)
        .where(Course.code == spec.code)
        .order_by(Course.version.desc())
        .limit(1)
        .options(selectinload(Course.lessons), selectinload(Course.topics))
    )
    if latest is not None and latest.source_hash == loaded.source_hash:
        if publish and latest.status == "draft":
            _publish(session, latest)
        return ImportResult(spec.code, latest.id, "unchanged")

    if latest is not None and (latest.status == "draft" or not learning.course_has_learners(session, latest.id)):
        course, action = latest, "updated"
        quizzes.remove_quiz(session, course.id)
        course.lessons.clear()
        course.topics.clear()
        session.flush()
    else:
        version = (session.scalar(select(func.max(Course.version)).where(Course.code == spec.code)) or 0) + 1
        course = Course(code=spec.code, version=version, created_at=clock.now(), status="draft")
        course.lessons = []
        course.topics = []
        session.add(course)
        action = "created" if latest is None else "new_version"

    course.title = spec.title
    course.summary = spec.summary
    course.description_md = loaded.description_md
    course.tier = spec.tier
    course.credit_hours = spec.credit_hours
    course.credit_category = spec.credit_category
    course.source_hash = loaded.source_hash
    course.code_locked = True  # the code comes from the files
    course.cover_key = _store_cover(written, _inside(loaded.folder, spec.cover)) if spec.cover else None
    course.topics.extend(CourseTopic(topic=t) for t in spec.topics)
    for position, (lesson_spec, body) in enumerate(zip(spec.lessons, loaded.bodies, strict=True), start=1):
        lesson = Lesson(position=position, kind=lesson_spec.kind, title=lesson_spec.title, body_md=body)
        if lesson_spec.kind == "video":
            _attach_video(written, lesson, loaded.folder, lesson_spec, spec.title, demo_media)
        elif lesson_spec.kind == "document" and lesson_spec.document:
            _attach_document(written, lesson, _inside(loaded.folder, lesson_spec.document))
        course.lessons.append(lesson)
    authoring.check_credit_hours(course, policy)  # the studio's rule and message: hours the content supports
    session.flush()
    if spec.quiz is not None:
        quiz = quizzes.create_quiz(session, course.id, spec.quiz)
        for draw in spec.quiz.draws:
            banks.add_draw_rule(session, quiz, _bank_named(session, draw, spec.code), draw.count)
    if publish or (latest is not None and latest.status == "published" and action == "updated"):
        _publish(session, course)
    if action == "new_version" and latest is not None and course.status == "published":
        latest.superseded_at = clock.now()
    session.flush()
    return ImportResult(spec.code, course.id, action)


def _bank_named(session: Session, draw: DrawSpec, code: str) -> QuestionBank:
    """The bank a draw names, by title and topic: this course's own bank first, then a district-wide one."""
    found = session.scalar(
        select(QuestionBank)
        .where(QuestionBank.title == draw.bank, QuestionBank.topic == draw.topic)
        .order_by(
            case((QuestionBank.course_code == code, 0), (QuestionBank.course_code.is_(None), 1), else_=2),
            QuestionBank.id,
        )
        .limit(1)
    )
    if found is None:
        raise InvalidInput(
            "The quiz draws from the question bank %(bank)s, which does not exist here. Create it (or import its "
            "questions) first.",
            bank=draw.bank,
        )
    return found


def _publish(session: Session, course: Course) -> None:
    course.status = "published"
    course.published_at = course.published_at or clock.now()
    # Older published versions leave the catalogue; teachers enrolled in them keep them.
    for older in session.scalars(
        select(Course).where(Course.code == course.code, Course.id != course.id, Course.superseded_at.is_(None))
    ):
        if older.status == "published":
            older.superseded_at = clock.now()


def _attach_video(
    written: library.WrittenObjects, lesson: Lesson, folder: Path, spec: LessonSpec, course_title: str, demo_media: bool
) -> None:
    stored: library.StoredVideo | None = None
    if spec.video and (folder / spec.video).is_file():
        stored = written.note(library.store_video_file(written.storage, folder / spec.video))
    elif demo_media:
        with tempfile.TemporaryDirectory() as tmp:
            clip = Path(tmp) / "demo.mp4"
            library.generate_demo_clip(clip, title=spec.title, subtitle=course_title, seconds=spec.demo_video_seconds)
            stored = written.note(library.store_video_file(written.storage, clip))
    if stored is not None:
        lesson.media_key, lesson.media_type, lesson.duration_ms = stored.key, stored.content_type, stored.duration_ms


class InvalidFile(Exception):
    """A document or image in a course folder is not what its lesson says (message in English, for logs)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _inside(folder: Path, name: str) -> Path:
    path = (folder / name).resolve()
    if folder.resolve() not in path.parents or not path.is_file():
        raise InvalidFile(f"{folder.name}: missing file {name}")
    return path


def _store_once(written: library.WrittenObjects, path: Path, prefix: str, extension: str, content_type: str) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    key = f"{prefix}/{digest.hexdigest()}.{extension}"
    if not written.storage.exists(key):
        written.storage.put_file(key, path, content_type)
        written.keys.append(key)
    return key


def count_pdf_pages(path: Path) -> int:
    """Pages of a PDF, read from the file itself; raises InvalidFile for anything that is not a readable PDF."""
    from pypdf import PdfReader

    with path.open("rb") as fh:
        if fh.read(5) != b"%PDF-":
            raise InvalidFile(f"{path.name} is not a PDF")
        fh.seek(0)
        try:
            pages = len(PdfReader(fh).pages)
        except Exception as exc:  # a corrupt PDF makes pypdf raise almost anything (KeyError, struct.error…)
            raise InvalidFile(f"{path.name} is not a readable PDF: {exc}") from exc
    if pages < 1:
        raise InvalidFile(f"{path.name} has no pages")
    return pages


def _attach_document(written: library.WrittenObjects, lesson: Lesson, path: Path) -> None:
    lesson.pages = count_pdf_pages(path)
    lesson.media_key = _store_once(written, path, "documents", "pdf", "application/pdf")
    lesson.media_type = "application/pdf"


IMAGE_TYPES = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}


def _image_type(path: Path) -> tuple[str, str]:
    """(extension, content type) of a JPEG, PNG or WebP image, read from its content."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.verify()
            kind = image.format or ""
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InvalidFile(f"{path.name} is not an image: {exc}") from exc
    if kind not in IMAGE_TYPES:
        raise InvalidFile(f"{path.name}: cover images are JPEG, PNG or WebP, not {kind}")
    return IMAGE_TYPES[kind]


def _store_cover(written: library.WrittenObjects, path: Path) -> str:
    extension, content_type = _image_type(path)
    return _store_once(written, path, "images", extension, content_type)
