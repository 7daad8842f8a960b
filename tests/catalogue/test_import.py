"""Trainers keep courses as files; importing them is idempotent and never changes a course under a learner."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from backend.catalogue import authoring, importer, service
from backend.catalogue.models import Course, Lesson
from backend.config import PROJECT_ROOT
from backend.kit.errors import InvalidInput
from backend.kit.i18n import translate
from backend.learning import service as learning
from backend.policies.service import DEFAULT_POLICY, set_policy
from tests.factories import make_user

# A small course that claims what it holds: 0.1 credit hours need 4.5 minutes of content (45 a credit hour, policy),
# which the reading (1,500 characters at 300 a minute: 5 minutes) gives; the 3-second clip adds little.
READING = "班会课要围绕一个主题展开，让每名学生都有参与的机会。" * 60
COURSE_TOML = """
code = "IMP-01"
title = "班级日常管理"
tier = "horizon"
topics = ["norms"]
credit_hours = "0.1"
summary = "简介"
description = "description.md"

[[lessons]]
title = "第一讲：晨会与班会"
kind = "video"
body = "lesson-01.md"
demo_video_seconds = 3

[[lessons]]
title = "第二讲：阅读材料"
kind = "text"
body = "lesson-02.md"

[quiz]
pass_mark = 60
max_attempts = 2

[[quiz.questions]]
kind = "single"
prompt = "班会课由谁组织？"
options = ["班主任", "门卫"]
answer = [0]

[[quiz.questions]]
kind = "truefalse"
prompt = "班主任要关心每一名学生。"
answer = true
"""


def write_course(root: Path, toml: str = COURSE_TOML, lesson_text: str = "正文") -> Path:
    folder = root / "imp-01"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "course.toml").write_text(toml, "utf-8")
    (folder / "description.md").write_text("## 学习目标\n\n掌握班级日常管理。", "utf-8")
    (folder / "lesson-01.md").write_text(lesson_text, "utf-8")
    (folder / "lesson-02.md").write_text(READING, "utf-8")
    return folder


def versions(session) -> list[Course]:  # type: ignore[no-untyped-def]
    return list(session.scalars(
        select(Course).where(Course.code == "IMP-01").order_by(Course.version).options(selectinload(Course.lessons))
    ))


def test_import_creates_a_course_with_a_probed_demo_video(session, storage, tmp_path) -> None:
    write_course(tmp_path / "courses")
    [result] = importer.import_path(session, storage, tmp_path / "courses", publish=True, demo_media=True)
    assert result.action == "created"
    course = service.get_course(session, result.course_id)
    video = course.lessons[0]
    assert course.status == "published" and course.topic_codes == ["norms"]
    assert storage.exists(video.media_key) and abs(video.duration_ms - 3000) < 500
    assert course.lessons[1].kind == "text" and course.lessons[1].media_key is None


def test_reimporting_unchanged_files_changes_nothing(session, storage, tmp_path) -> None:
    write_course(tmp_path / "c")
    importer.import_path(session, storage, tmp_path / "c", publish=True)
    [again] = importer.import_path(session, storage, tmp_path / "c", publish=True)
    assert again.action == "unchanged" and len(versions(session)) == 1


def test_a_changed_course_nobody_started_is_updated_in_place(session, storage, tmp_path) -> None:
    write_course(tmp_path / "c")
    importer.import_path(session, storage, tmp_path / "c", publish=True)
    write_course(tmp_path / "c", lesson_text="修订后的正文")
    [result] = importer.import_path(session, storage, tmp_path / "c", publish=True)
    assert result.action == "updated" and len(versions(session)) == 1
    assert service.get_course(session, result.course_id).lessons[0].body_md == "修订后的正文"


def test_a_started_course_gets_a_new_version_and_learners_keep_theirs(session, storage, tmp_path) -> None:
    write_course(tmp_path / "c")
    [first] = importer.import_path(session, storage, tmp_path / "c", publish=True)
    teacher = make_user(session)
    learning.enroll(session, teacher.id, service.get_course(session, first.course_id))
    write_course(tmp_path / "c", lesson_text="第二版正文")
    [second] = importer.import_path(session, storage, tmp_path / "c", publish=True)
    assert second.action == "new_version" and second.course_id != first.course_id
    old, new = versions(session)
    assert old.lessons[0].body_md == "正文" and old.superseded_at is not None
    assert new.version == 2 and new.status == "published"
    assert [c.id for c in service.current_courses(session) if c.code == "IMP-01"] == [new.id]
    assert learning.enrollment_for(session, teacher.id, old.id) is not None


def test_reimport_of_a_new_draft_version_updates_that_draft(session, storage, tmp_path) -> None:
    write_course(tmp_path / "c")
    [first] = importer.import_path(session, storage, tmp_path / "c", publish=True)
    learning.enroll(session, make_user(session).id, service.get_course(session, first.course_id))
    write_course(tmp_path / "c", lesson_text="草稿一")
    [draft] = importer.import_path(session, storage, tmp_path / "c")
    write_course(tmp_path / "c", lesson_text="草稿二")
    [again] = importer.import_path(session, storage, tmp_path / "c")
    assert draft.action == "new_version" and again.action == "updated" and again.course_id == draft.course_id
    assert len(versions(session)) == 2


@pytest.mark.parametrize(
    ("broken", "fragment"),
    [
        ('tier = "horizon"', 'tier = "moon"'),
        ('topics = ["norms"]', 'topics = ["astrology"]'),
        ("answer = [0]", "answer = [5]"),
        ('credit_hours = "0.1"', 'credit_hours = "-1"'),
        ('code = "IMP-01"', 'code = "bad code!"'),
    ],
)
def test_a_broken_course_file_is_refused_and_nothing_is_written(session, storage, tmp_path, broken, fragment) -> None:
    write_course(tmp_path / "c", COURSE_TOML.replace(broken, fragment))
    with pytest.raises(InvalidInput):
        importer.import_path(session, storage, tmp_path / "c", demo_media=True)
    assert versions(session) == []
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*.mp4"))


# --- issue 13: one rule for content minutes, the studio's -------------------------------------------------------


def _as_studio_course(credit_hours: Decimal, lessons: list[tuple[str, int | None, str]]) -> Course:
    """The same content as a course of the studio (not stored): (kind, video length in ms, body) per lesson."""
    return Course(
        credit_hours=credit_hours,
        lessons=[Lesson(kind=kind, duration_ms=ms, body_md=body) for kind, ms, body in lessons],
    )


def test_the_importer_refuses_more_credit_hours_than_the_content_supports_with_the_studios_message(
    session, storage, tmp_path
) -> None:
    write_course(tmp_path / "c", COURSE_TOML.replace('credit_hours = "0.1"', 'credit_hours = "4.0"'))
    with pytest.raises(InvalidInput) as refused, session.begin_nested():  # the caller's transaction rolls back
        importer.import_path(session, storage, tmp_path / "c", publish=True, demo_media=True)
    assert versions(session) == []
    assert not any((tmp_path / "media").rglob("*.mp4")), "the generated clip is removed again"
    # The studio, asked about the same content (a 3-second clip and the reading), refuses with the same words.
    with pytest.raises(InvalidInput) as studio:
        authoring.check_credit_hours(
            _as_studio_course(Decimal("4.0"), [("video", 3000, "正文"), ("text", None, READING)]), DEFAULT_POLICY
        )
    assert refused.value.message == studio.value.message and refused.value.fields == studio.value.fields
    assert refused.value.params == studio.value.params == {"minutes": 5, "max_hours": Decimal("0.1"), "per": 45,
                                                           "hours": Decimal("4.0")}  # fmt: skip
    assert "45" in translate("zh_CN", refused.value.message, **refused.value.params)


def test_the_importer_reads_the_minutes_per_credit_hour_from_policy(session, storage, tmp_path) -> None:
    write_course(tmp_path / "c", COURSE_TOML.replace('credit_hours = "0.1"', 'credit_hours = "0.5"'))
    with pytest.raises(InvalidInput), session.begin_nested():  # 0.5 credit hours need 22.5 minutes
        importer.import_path(session, storage, tmp_path / "c")
    set_policy(session, "minutes_per_credit_hour", 10, None)  # the district allows 10 minutes a credit hour
    [result] = importer.import_path(session, storage, tmp_path / "c")
    assert result.action == "created"


def test_the_shipped_courses_claim_no_more_hours_than_their_demo_content_supports() -> None:
    """`portal demo load` generates each video lesson's clip at its declared length: with the readings, that is at
    least 45 minutes of content for every credit hour a course claims."""
    for folder in importer.course_folders(PROJECT_ROOT / "courses"):
        loaded = importer.load_folder(folder)
        lessons = [
            (spec.kind, spec.demo_video_seconds * 1000 if spec.kind == "video" else None, body)
            for spec, body in zip(loaded.spec.lessons, loaded.bodies, strict=True)
        ]
        estimate = authoring.check_credit_hours(_as_studio_course(loaded.spec.credit_hours, lessons), DEFAULT_POLICY)
        assert estimate.enough, loaded.spec.code


def test_the_shipped_course_library_is_valid_and_covers_the_induction() -> None:
    loaded = [importer.load_folder(f) for f in importer.course_folders(PROJECT_ROOT / "courses")]
    horizon = [c.spec for c in loaded if c.spec.tier == "horizon"]
    assert sum(c.credit_hours for c in horizon) >= 32
    assert {t for c in horizon for t in c.topics} == {
        "norms", "moral", "mental_health", "family", "special_needs", "crisis", "activities", "policy_law"}
    assert {c.spec.tier for c in loaded} == {"horizon", "compass", "climber", "starry"}
    for c in loaded:
        assert any(lesson.kind == "video" for lesson in c.spec.lessons), c.spec.code
        assert c.spec.quiz is not None and len(c.spec.quiz.questions) >= 5, c.spec.code


def test_a_fake_video_file_fails_the_import_and_leaves_no_object_behind(session, storage, tmp_path) -> None:
    toml = COURSE_TOML.replace('demo_video_seconds = 3', 'video = "real.mp4"\ndemo_video_seconds = 3')
    toml += '''
[[lessons]]
title = "第三讲：伪装成视频的文本"
kind = "video"
body = "lesson-02.md"
video = "fake.mp4"
'''
    folder = write_course(tmp_path / "c", toml)
    from backend.media import library

    library.generate_demo_clip(folder / "real.mp4", title="真视频", subtitle="测试", seconds=3)
    (folder / "fake.mp4").write_text("这不是视频", "utf-8")
    with pytest.raises(InvalidInput):
        importer.import_path(session, storage, tmp_path / "c")
    media = tmp_path / "media"
    assert media.exists(), "the real clip was stored before the fake one failed"
    assert not any(p.suffix == ".mp4" for p in media.rglob("*")), "objects from the failed import remain"
