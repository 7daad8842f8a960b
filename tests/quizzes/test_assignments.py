"""Assignments: a teacher submits a class-meeting plan, the trainer grades it with a rubric and feedback or asks for
a resubmission, the teacher sees it and resubmits; a required assignment holds course completion until passed.
Files are checked by content and kept in the real storage."""

from __future__ import annotations

from sqlalchemy import select

from backend.learning import service as learning
from backend.quizzes import assignments
from backend.quizzes.models import GradeChange, Submission
from tests.quizzes.helpers import (
    as_draft,
    docx_bytes,
    enrolled_teacher,
    owned_course,
    pdf_bytes,
    quiz_with,
    single,
    zip_without_word,
)

RUBRIC = "主题明确 | 30\n过程设计 | 40\n学生参与 | 30"


def _make_assignment(trainer_web, course, *, required: bool = True, resubmission: bool = False) -> int:  # type: ignore[no-untyped-def]
    data = {"title": "班会设计方案", "instructions_md": "请提交一份**主题班会**设计方案。", "rubric": RUBRIC,
            "pass_score": "60"}
    if required:
        data["required"] = "1"
    if resubmission:
        data["allow_resubmission"] = "1"
    with as_draft(course):
        r = trainer_web.post(f"/studio/courses/{course.id}/assignments", data=data, follow_redirects=False)
        assert r.status_code == 303, r.text
        page = trainer_web.get(f"/studio/courses/{course.id}/assignments").text
    return int(page.split('href="/studio/assignments/', 1)[1].split('"', 1)[0])


def test_submit_grade_with_rubric_feedback_resubmit_and_complete(client_for, session, storage) -> None:
    course, trainer = owned_course(session)
    quiz = quiz_with(session, course, [single()])
    teacher = enrolled_teacher(session, course)
    web, grader = client_for(teacher), client_for(trainer)
    assignment_id = _make_assignment(grader, course)
    assert assignments.assignment_passed(session, teacher.id, course.id) is False

    # the quiz passes, but the required assignment still holds completion
    web.post(f"/api/v1/courses/{course.id}/quiz/attempts", json={"answers": {str(quiz.questions[0].id): [0]}})
    assert learning.enrollment_for(session, teacher.id, course.id).completed_at is None

    page = web.get(f"/assignments/{assignment_id}").text
    assert "<strong>主题班会</strong>" in page and "过程设计" in page
    r = web.post(f"/assignments/{assignment_id}/submissions", data={"text": "初稿：认识自我"},
                 files={"file": ("班会设计方案.docx", docx_bytes(), "application/octet-stream")},
                 follow_redirects=False)
    assert r.status_code == 303, r.text
    first = session.scalars(select(Submission).where(Submission.user_id == teacher.id)).one()
    assert first.file_type and first.file_type.endswith("wordprocessingml.document")
    assert storage.exists(first.file_key) and first.file_name == "班会设计方案.docx"
    # waiting for the grade: no second submission
    again = web.post(f"/assignments/{assignment_id}/submissions", data={"text": "又一版"})
    assert again.status_code == 409

    # the trainer asks for a resubmission (feedback required), inline
    queue = grader.get("/grading").text
    assert f'id="item-submission-{first.id}"' in queue and "认识自我" in queue
    asked = grader.post(f"/grading/submissions/{first.id}", data={"action": "resubmit", "feedback": "请补充活动环节"},
                        headers={"HX-Request": "true"})
    assert asked.status_code == 200 and 'class="grading-form graded"' in asked.text
    page = web.get(f"/assignments/{assignment_id}").text
    assert "请补充活动环节" in page and 'action="/assignments/' in page

    # the teacher resubmits a PDF; the trainer grades it with the rubric
    r = web.post(f"/assignments/{assignment_id}/submissions", data={"text": ""},
                 files={"file": ("方案.pdf", pdf_bytes(), "application/pdf")}, follow_redirects=False)
    assert r.status_code == 303
    second = session.scalars(select(Submission).where(Submission.user_id == teacher.id, Submission.number == 2)).one()
    items = {i.title: i.id for i in assignments.get_assignment(session, assignment_id).rubric}
    graded = grader.post(f"/grading/submissions/{second.id}", data={
        "action": "grade", f"r{items['主题明确']}": "25", f"r{items['过程设计']}": "30", f"r{items['学生参与']}": "20",
        "feedback": "设计完整，学生参与可以更充分。"}, follow_redirects=False)
    assert graded.status_code == 303

    session.expire_all()
    page = web.get(f"/assignments/{assignment_id}").text
    assert "75" in page and "设计完整，学生参与可以更充分。" in page and "过程设计: 30 / 40" in page
    assert 'action="/assignments/' not in page  # graded, no resubmission allowed unless asked
    assert assignments.assignment_passed(session, teacher.id, course.id) is True
    assert learning.enrollment_for(session, teacher.id, course.id).completed_at is not None  # completion followed

    history = list(session.scalars(select(GradeChange).where(GradeChange.item_type == "submission")
                                   .order_by(GradeChange.id)))
    assert [(h.item_id, h.old_value, h.new_value) for h in history] == [(first.id, None, "resubmit"),
                                                                       (second.id, None, "75")]
    download = web.get(f"/assignments/submissions/{second.id}/file")
    assert download.status_code == 200 and download.content == pdf_bytes()
    assert "attachment" in download.headers["content-disposition"]


def test_files_are_checked_by_content_not_by_name(client_for, session, storage) -> None:
    course, trainer = owned_course(session)
    web = client_for(enrolled_teacher(session, course))
    assignment_id = _make_assignment(client_for(trainer), course, required=False)
    for name, content in (("plan.pdf", b"not really a pdf"), ("plan.docx", zip_without_word()),
                          ("plan.docx", b"PK\x03\x04broken zip")):
        r = web.post(f"/assignments/{assignment_id}/submissions", data={"text": "说明"},
                     files={"file": (name, content, "application/pdf")})
        assert r.status_code == 422 and 'class="field-error"' in r.text
    assert session.scalar(select(Submission.id)) is None
    assert not storage.root.exists() or not list(storage.root.rglob("assignments/*"))  # nothing stored


def test_a_file_over_20_mb_is_refused(client_for, session) -> None:
    course, trainer = owned_course(session)
    web = client_for(enrolled_teacher(session, course))
    assignment_id = _make_assignment(client_for(trainer), course, required=False)
    big = pdf_bytes(assignments.MAX_FILE_BYTES + 1)
    r = web.post(f"/assignments/{assignment_id}/submissions", files={"file": ("big.pdf", big, "application/pdf")})
    assert r.status_code == 422
    assert session.scalar(select(Submission.id)) is None


def test_nothing_to_submit_is_refused(client_for, session) -> None:
    course, trainer = owned_course(session)
    web = client_for(enrolled_teacher(session, course))
    assignment_id = _make_assignment(client_for(trainer), course, required=False)
    r = web.post(f"/assignments/{assignment_id}/submissions", data={"text": "  "})
    assert r.status_code == 422


def test_resubmission_after_grading_when_the_assignment_allows_it(client_for, session) -> None:
    course, trainer = owned_course(session)
    teacher = enrolled_teacher(session, course)
    web, grader = client_for(teacher), client_for(trainer)
    assignment_id = _make_assignment(grader, course, required=False, resubmission=True)
    web.post(f"/assignments/{assignment_id}/submissions", data={"text": "第一版"})
    sub = session.scalars(select(Submission)).one()
    items = [i.id for i in assignments.get_assignment(session, assignment_id).rubric]
    grader.post(f"/grading/submissions/{sub.id}", data={"action": "grade", **{f"r{i}": "10" for i in items}})
    r = web.post(f"/assignments/{assignment_id}/submissions", data={"text": "第二版"}, follow_redirects=False)
    assert r.status_code == 303
