"""Issue 18: a district admin publishes a course from the review queue, is told so, and the audit log says — in
Chinese, with the course named and linked — who published what, with the status before and after."""

from __future__ import annotations

from markupsafe import escape

from backend.catalogue import authoring
from backend.kit.i18n import translate
from backend.policies.service import load_policy
from tests.studio.conftest import draft_course


def zh(msgid: str) -> str:
    return str(escape(translate("zh_CN", msgid)))


def test_publishing_from_the_queue_says_so_and_is_in_the_audit_log(
    session, storage, trainer, admin, clip_file, browser
) -> None:
    course = draft_course(session, storage, trainer, clip_file, title="班会课的设计")
    authoring.submit(session, trainer, course, load_policy(session))
    reviewer = browser(admin)
    r = reviewer.post(f"/studio/courses/{course.id}/publish", {"next": "review"})
    assert r.status_code == 303
    queue = reviewer.get(r.headers["location"]).text
    assert "《班会课的设计》" + zh("Published: teachers can find the course in the course library.") in queue
    assert f'href="/courses/{course.id}"' in queue

    log = reviewer.get("/admin/audit", params={"action": "course."}).text
    rows = log.split("<tbody>", 1)[1]
    assert zh("Published a course") in rows and zh("Submitted a course for review") in rows
    assert f'<a href="/studio/courses/{course.id}">班会课的设计（v1）</a>' in rows
    assert "course.publish" not in rows and "course " + str(course.id) not in rows  # codes stay out of sight
    # The status as words, before → after.
    assert f"{zh('In review')} <span aria-label=\"{zh('changed to')}\">→</span> {zh('Published')}" in rows
