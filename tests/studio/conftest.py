"""Studio tests: several people in their own browsers (test clients) on one app, and courses built through the
studio's own service, with real video clips and PDFs in real (local) storage."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfWriter
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.catalogue import authoring
from backend.catalogue import service as catalogue
from backend.catalogue.models import Course, Lesson
from backend.media import library
from backend.media.storage import Storage
from backend.policies.service import load_policy
from tests.api.helpers import login
from tests.factories import make_user


@dataclass
class Browser:
    """One person's browser: the test client with their session cookie and CSRF token."""

    user: User
    client: TestClient
    token: str

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict[str, Any] | None = None, *, htmx: bool = False,
             **kw: Any) -> httpx.Response:
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.post(path, data={**(data or {}), "csrf_token": self.token}, headers=headers,
                                follow_redirects=False, **kw)

    def api(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return self.client.request(method, f"/api/v1{path}", json=body, headers={"X-CSRF-Token": self.token})


@pytest.fixture
def browser(app, client) -> Iterator[Callable[[User], Browser]]:  # type: ignore[no-untyped-def]
    """`browser(user)` logs `user` in from a fresh browser on the test app (which `client` has started)."""
    opened: list[TestClient] = []

    def open_for(user: User) -> Browser:
        tc = TestClient(app, base_url="http://testserver")
        opened.append(tc)
        return Browser(user, tc, login(tc, user.username))

    yield open_for
    for tc in opened:
        tc.close()


@pytest.fixture
def trainer(session: Session) -> User:
    return make_user(session, role=Role.trainer, school_code=None)


@pytest.fixture
def admin(session: Session) -> User:
    return make_user(session, role=Role.district_admin, school_code=None)


@pytest.fixture
def teacher(session: Session) -> User:
    return make_user(session)


@pytest.fixture(scope="session")
def clip_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 4-second H.264 clip, made once per run."""
    path = tmp_path_factory.mktemp("clips") / "clip.mp4"
    library.generate_demo_clip(path, title="测试视频", subtitle="工作室", seconds=4)
    return path


@pytest.fixture(scope="session")
def other_clip_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "other.mp4"
    library.generate_demo_clip(path, title="另一段视频", subtitle="工作室", seconds=3)
    return path


def make_pdf(path: Path, pages: int) -> Path:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def attach_clip(session: Session, storage: Storage, lesson: Lesson, clip: Path) -> library.StoredVideo:
    """What the upload pipeline hands the studio, done directly: the probed clip stored, its key on the lesson."""
    stored = library.store_video_file(storage, clip)
    lesson.media_key, lesson.media_type, lesson.duration_ms = stored.key, stored.content_type, stored.duration_ms
    session.flush()
    return stored


def course_fields(**overrides: Any) -> authoring.CourseFields:
    values = {
        "title": "班会课设计入门",
        "summary": "从目标到流程，设计一节主题班会。",
        "description_md": "## 学习目标\n\n会设计班会。",
        "tier": "horizon",
        "topics": ["activities", "moral"],
        "credit_hours": "0.1",
        "credit_category": "knowledge_skills",
    } | overrides
    return authoring.parse_fields(values)


def reading(chars: int) -> str:
    """Markdown of `chars` characters: 300 of them are a minute of reading by the default policy."""
    return ("班主任要关注每一名学生的成长。" * (chars // 15 + 1))[:chars]


def draft_course(session: Session, storage: Storage, owner: User, clip: Path, **overrides: Any) -> Course:
    """A draft with a video lesson (a real clip) and a text lesson long enough for 0.1 credit hours."""
    course = authoring.create_course(session, owner, course_fields(**overrides))
    video = authoring.add_lesson(session, owner, course, "video", "第一讲：班会的目标", "看视频。")
    attach_clip(session, storage, video, clip)
    authoring.add_lesson(session, owner, course, "text", "第二讲：阅读材料", reading(1500))
    return catalogue.get_course(session, course.id)


def published_course(session: Session, storage: Storage, owner: User, reviewer: User, clip: Path,
                     **overrides: Any) -> Course:
    course = draft_course(session, storage, owner, clip, **overrides)
    authoring.submit(session, owner, course, load_policy(session))
    authoring.publish(session, reviewer, course, load_policy(session))
    return course
