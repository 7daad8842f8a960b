"""What a teacher meets of a course built in the studio: its cover on the catalogue card (or a placeholder in the
tier's colour), a PDF lesson shown on its page with links to open and download it, and the course page leading to
its quiz and assignments."""

from __future__ import annotations

from backend.catalogue import authoring
from backend.catalogue import service as catalogue
from backend.policies.service import load_policy
from backend.quizzes import assignments
from tests.factories import make_user
from tests.studio.conftest import draft_course, make_pdf, published_course


def test_a_teacher_reads_a_pdf_lesson_on_its_page_and_may_download_it(
    session, storage, browser, trainer, admin, teacher, clip_file, tmp_path
) -> None:
    course = draft_course(session, storage, trainer, clip_file, title="文档课")
    document = authoring.add_lesson(session, trainer, course, "document", "第三讲：班会设计模板")
    pdf = make_pdf(tmp_path / "模板.pdf", 2)
    stored = storage.put_file("documents/template.pdf", pdf, "application/pdf")
    document.media_key, document.media_type, document.pages = stored.key, "application/pdf", 2
    session.flush()
    authoring.submit(session, trainer, course, load_policy(session))
    authoring.publish(session, admin, course, load_policy(session))

    learner = browser(teacher)
    assert learner.get(f"/lessons/{document.id}/document").status_code == 403  # not enrolled yet
    assert learner.post(f"/courses/{course.id}/enroll").status_code == 303
    page = learner.get(f"/lessons/{document.id}")
    assert page.status_code == 200
    assert f'<object class="document-viewer" data="/lessons/{document.id}/document" type="application/pdf"' in page.text
    assert f'href="/lessons/{document.id}/document" download' in page.text
    served = learner.get(f"/lessons/{document.id}/document")
    assert served.status_code == 200 and served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith("inline") and served.content == pdf.read_bytes()

    # Another teacher, not enrolled, gets nothing; a video lesson has no document.
    stranger = browser(make_user(session, username="stranger-doc"))
    assert stranger.get(f"/lessons/{document.id}/document").status_code == 403
    video = course.lessons[0]
    assert learner.get(f"/lessons/{video.id}/document").status_code == 404


def test_catalogue_cards_show_the_uploaded_cover_or_a_placeholder_in_the_tier_colour(
    session, storage, browser, trainer, admin, teacher, clip_file
) -> None:
    plain = published_course(session, storage, trainer, admin, clip_file, title="没有封面的课程")
    covered = published_course(session, storage, trainer, admin, clip_file, title="有封面的课程", tier="compass")
    covered.cover_key = storage.put_file("covers/c.jpg", clip_file, "image/jpeg").key  # any stored object will do
    session.flush()

    page = browser(teacher).get("/courses").text
    cards = page.split('<article class="course-card')[1:]
    card_of = {title: next(card for card in cards if title in card) for title in ("没有封面的课程", "有封面的课程")}
    assert f'<img class="card-cover" src="/courses/{covered.id}/cover"' in card_of["有封面的课程"]
    assert 'class="card-cover placeholder"' in card_of["没有封面的课程"]
    assert f"/courses/{plain.id}/cover" not in page
    assert browser(teacher).get(f"/courses/{covered.id}/cover").status_code == 200
    assert (
        f'<img class="cover" src="/courses/{covered.id}/cover"' in browser(teacher).get(f"/courses/{covered.id}").text
    )
    assert 'class="cover"' not in browser(teacher).get(f"/courses/{plain.id}").text


def test_the_course_page_leads_the_teacher_to_its_quiz_and_assignments(
    session, storage, browser, trainer, admin, teacher, clip_file
) -> None:
    course = published_course(session, storage, trainer, admin, clip_file)
    task = assignments.create_assignment(
        session,
        course.id,
        assignments.AssignmentInput(
            title="班会设计方案",
            instructions_md="提交方案。",
            pass_score=60,
            allow_resubmission=False,
            required=True,
            rubric=[],
            max_score=100,
        ),
    )
    learner = browser(teacher)
    before = learner.get(f"/courses/{course.id}").text
    assert f'<a href="/assignments/{task.id}">班会设计方案</a>' in before  # listed before enrolling

    learner.post(f"/courses/{course.id}/enroll")
    page = learner.get(f"/courses/{course.id}").text
    assert 'id="assignments"' in page and f'href="/assignments/{task.id}"' in page
    todo = page[page.index('class="todo card"') : page.index('class="lessons"')]
    assert f'href="/assignments/{task.id}"' in todo  # a required assignment is part of what is left
    assert catalogue.get_course(session, course.id).status == "published"
