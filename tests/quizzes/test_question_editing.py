"""Issue 18: a trainer is told a question was added, and corrects a question of a draft quiz in place (by the same
rules as a new one); a published course's questions cannot be edited, and nobody else's."""

from __future__ import annotations

from markupsafe import escape

from backend.kit.i18n import translate
from backend.quizzes.models import Question
from tests.quizzes.helpers import owned_course, publish, reload_quiz


def zh(msgid: str) -> str:
    return str(escape(translate("zh_CN", msgid)))


def test_trainer_adds_a_question_is_told_so_and_corrects_it(client_for, session) -> None:
    course, trainer = owned_course(session, status="draft")
    web = client_for(trainer)
    new = {"kind": "single", "prompt": "班主任每学期至少家访几次？", "options": "一次\n两次", "answer": "A"}
    r = web.post(f"/studio/courses/{course.id}/quiz/questions", data=new, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=added#questions")
    page = web.get(r.headers["location"]).text
    assert zh("Question added: it is at the end of the list below.") in page
    question = reload_quiz(session, course.id).questions[0]
    edit_url = f"/studio/courses/{course.id}/quiz/questions/{question.id}/edit"
    assert f'href="{edit_url}"' in page

    form = web.get(edit_url).text
    assert "班主任每学期至少家访几次？" in form and "一次\n两次" in form and 'value="A"' in form
    # Refused by the same rules as a new question; nothing changes.
    bad = web.post(f"/studio/courses/{course.id}/quiz/questions/{question.id}",
                   data={"kind": "single", "prompt": "改", "options": "一次\n两次", "answer": "C"})  # fmt: skip
    assert bad.status_code == 422 and 'class="field-error"' in bad.text
    session.expire_all()
    assert session.get(Question, question.id).prompt == "班主任每学期至少家访几次？"
    ok = web.post(f"/studio/courses/{course.id}/quiz/questions/{question.id}", follow_redirects=False,
                  data={"kind": "multiple", "prompt": "家访要做到哪些？", "options": "提前预约\n准时到达\n当众批评",
                        "answer": "AB", "explanation": "尊重家长。", "points": "2"})  # fmt: skip
    assert ok.status_code == 303
    assert zh("Question saved.") in web.get(ok.headers["location"]).text
    session.expire_all()
    saved = session.get(Question, question.id)
    assert (saved.kind, saved.prompt, saved.options, saved.answer, saved.explanation, saved.points) == (
        "multiple", "家访要做到哪些？", ["提前预约", "准时到达", "当众批评"], [0, 1], "尊重家长。", 2)

    # Once published, questions change only in a new version.
    publish(session, course)
    assert web.get(edit_url).status_code in (404, 409)
    assert "/edit" not in web.get(f"/studio/courses/{course.id}/quiz").text
