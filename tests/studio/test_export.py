"""A course exported to the courses/ folder format imports back unchanged."""

from __future__ import annotations

import io
import tomllib
import zipfile

import pytest
from PIL import Image

from backend.catalogue import authoring, export, importer
from backend.catalogue import service as catalogue
from backend.catalogue.models import Course
from backend.kit.errors import InvalidInput
from backend.quizzes import banks
from backend.quizzes import service as quizzes
from tests.factories import _Q, _Quiz
from tests.studio.conftest import attach_clip, course_fields, make_pdf, reading


@pytest.fixture
def full_course(session, storage, tmp_path, trainer, clip_file) -> Course:  # type: ignore[no-untyped-def]
    """A draft with every kind of lesson, Markdown that needs escaping in TOML, and a quiz of every kind."""
    course = authoring.create_course(
        session,
        trainer,
        course_fields(
            title='班级危机干预："第一时间"怎么做',
            summary="报告、安抚、记录\\复盘",
            tier="compass",
            topics=["crisis", "mental_health"],
            credit_hours="0.5",
            credit_category="practice",
            description_md="## 学习目标\n\n1. 识别危机信号\n2. 按流程报告\n\n> 引用\t制表符",
        ),
    )
    video = authoring.add_lesson(
        session, trainer, course, "video", "第一讲：危机的信号", "看完视频后思考：\n\n- 信号有哪些？"
    )
    attach_clip(session, storage, video, clip_file)
    document = authoring.add_lesson(session, trainer, course, "document", "第二讲：处置流程图", "请下载流程图。")
    pdf = make_pdf(tmp_path / "flow.pdf", pages=3)
    storage.put_file("documents/flow-test.pdf", pdf, "application/pdf")
    document.media_key, document.media_type, document.pages = "documents/flow-test.pdf", "application/pdf", 3
    authoring.add_lesson(
        session, trainer, course, "text", "第三讲：案例阅读", reading(4500) + "\n\n**要点**：先保护学生。"
    )
    Image.new("RGB", (64, 36), (159, 42, 34)).save(tmp_path / "cover.png")
    storage.put_file("images/cover-test.png", tmp_path / "cover.png", "image/png")
    course.cover_key = "images/cover-test.png"
    quizzes.create_quiz(
        session,
        course.id,
        _Quiz(
            [
                _Q(
                    "single",
                    "发现学生有自伤迹象，第一步应当：",
                    ["立即上报并陪伴学生", "等放学后再说", "在班上公开讨论"],
                    [0],
                ),
                _Q("multiple", "危机事件后的复盘包括：", ["事实经过", "处置是否及时", "追究学生责任"], [0, 1]),
                _Q("truefalse", "危机干预只是心理老师的事。", [], False),
            ],
            pass_mark=70,
            max_attempts=2,
        ),
    )
    quiz = quizzes.quiz_for_course(session, course.id)
    assert quiz is not None
    banks.add_question(
        session,
        banks.QuestionInput("fill", "危机上报的第一对象是____。", [], [], ["校长", "分管校长"], "先报校长。", points=3),
        quiz=quiz,
    )
    banks.add_question(
        session,
        banks.QuestionInput("essay", "简述一次危机处置的复盘。", [], [], ["事实、处置、改进"], points=5),
        quiz=quiz,
    )
    banks.update_settings(
        session,
        quiz,
        banks.QuizSettings(
            title="危机干预测验",
            pass_mark=70,
            max_attempts=2,
            time_limit_minutes=20,
            counting="last",
            show_explanations="after_passing",
            shuffle_options=True,
        ),
    )
    bank = banks.create_bank(session, title="危机干预题库", topic="crisis", course_code=None, actor_id=trainer.id)
    for n in range(3):
        banks.add_question(session, banks.QuestionInput("single", f"题库题 {n}", ["甲", "乙"], [0], []), bank=bank)
    banks.add_draw_rule(session, quiz, bank, 2)
    session.flush()
    return catalogue.get_course(session, course.id)


def _read(storage, key: str) -> bytes:  # type: ignore[no-untyped-def]
    size = storage.stat(key).size
    return b"".join(storage.read_range(key, 0, size - 1))


def _snapshot(session, storage, course: Course) -> dict:  # type: ignore[no-untyped-def,type-arg]
    quiz = quizzes.quiz_for_course(session, course.id)
    return {
        "cover": _read(storage, course.cover_key) if course.cover_key else None,
        "files": [_read(storage, x.media_key) if x.media_key else None for x in course.lessons],
        "fields": (
            course.title,
            course.summary,
            course.description_md,
            course.tier,
            course.topic_codes,
            course.credit_hours,
            course.credit_category,
        ),
        "lessons": [
            (x.position, x.kind, x.title, x.body_md, x.media_type, x.duration_ms, x.pages) for x in course.lessons
        ],
        "quiz": (
            quiz.title,
            quiz.pass_mark,
            quiz.max_attempts,
            quiz.time_limit_minutes,
            quiz.counting,
            quiz.show_explanations,
            quiz.shuffle_options,
            [
                (q.kind, q.prompt, list(q.options), list(q.answer), list(q.accepted), q.points, q.explanation)
                for q in quiz.questions
            ],
            [(r.bank_id, r.count) for r in quiz.draw_rules],
        ),
    }


def test_an_exported_course_imports_back_unchanged(session, storage, tmp_path, full_course) -> None:
    folder = export.export_course(session, storage, full_course, tmp_path / "out" / "rt-01", code="RT-01")
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "course.toml",
        "cover.png",
        "description.md",
        "lesson-01.md",
        "lesson-01.mp4",
        "lesson-02.md",
        "lesson-02.pdf",
        "lesson-03.md",
    ]
    meta = tomllib.loads((folder / "course.toml").read_text("utf-8"))
    assert meta["code"] == "RT-01" and meta["lessons"][0]["video"] == "lesson-01.mp4"
    assert meta["lessons"][1]["document"] == "lesson-02.pdf" and meta["quiz"]["questions"][2]["answer"] is False
    assert meta["quiz"]["questions"][3] == {
        "kind": "fill",
        "prompt": "危机上报的第一对象是____。",
        "accepted": ["校长", "分管校长"],
        "points": 3,
        "explanation": "先报校长。",
    }
    assert meta["quiz"]["time_limit_minutes"] == 20 and meta["quiz"]["shuffle_options"] is True
    assert meta["quiz"]["draws"] == [{"bank": "危机干预题库", "topic": "crisis", "count": 2}]

    [result] = importer.import_path(session, storage, tmp_path / "out")
    assert result.action == "created"
    copy = catalogue.get_course(session, result.course_id)
    assert copy.code == "RT-01" and copy.id != full_course.id
    assert _snapshot(session, storage, copy) == _snapshot(session, storage, full_course)
    # The same video and PDF, stored once under their content hash.
    assert copy.lessons[0].media_key == full_course.lessons[0].media_key
    assert storage.exists(copy.lessons[1].media_key)

    # Importing the same export again changes nothing.
    [again] = importer.import_path(session, storage, tmp_path / "out")
    assert again.action == "unchanged"


def test_the_export_downloads_as_a_zip_that_imports(session, storage, tmp_path, browser, trainer, full_course) -> None:
    r = browser(trainer).get(f"/studio/courses/{full_course.id}/export")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert f"{full_course.code.lower()}-v1.zip" in r.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        members = archive.namelist()
        assert f"{full_course.code.lower()}-v1/course.toml" in members
        archive.extractall(tmp_path / "unzipped")
    # Into a fresh code: the export's own code is taken by the course it came from, which is still a draft.
    folder = tmp_path / "unzipped" / f"{full_course.code.lower()}-v1"
    toml = (folder / "course.toml").read_text("utf-8").replace(f'code = "{full_course.code}"', 'code = "ZIP-01"')
    (folder / "course.toml").write_text(toml, "utf-8")
    [result] = importer.import_path(session, storage, tmp_path / "unzipped")
    copy = catalogue.get_course(session, result.course_id)
    assert _snapshot(session, storage, copy) == _snapshot(session, storage, full_course)


def test_a_document_that_is_not_a_pdf_is_refused_on_import(session, storage, tmp_path, full_course) -> None:
    folder = export.export_course(session, storage, full_course, tmp_path / "out" / "bad", code="BAD-01")
    (folder / "lesson-02.pdf").write_bytes(b"this is not a pdf")
    with pytest.raises(InvalidInput):
        importer.import_path(session, storage, tmp_path / "out")
    assert session.query(Course).filter_by(code="BAD-01").count() == 0


def test_a_quiz_drawing_from_a_bank_that_is_not_here_is_refused_on_import(
    session, storage, tmp_path, full_course
) -> None:
    folder = export.export_course(session, storage, full_course, tmp_path / "out" / "nb", code="NB-01")
    toml = (folder / "course.toml").read_text("utf-8").replace('bank = "危机干预题库"', 'bank = "别处的题库"')
    (folder / "course.toml").write_text(toml, "utf-8")
    with pytest.raises(InvalidInput) as refused, session.begin_nested():  # the request's transaction rolls back
        importer.import_path(session, storage, tmp_path / "out")
    assert refused.value.params["bank"] == "别处的题库"
    assert session.query(Course).filter_by(code="NB-01").count() == 0
