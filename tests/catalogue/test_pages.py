"""The catalogue and course pages a teacher browses, in Chinese by default."""

from __future__ import annotations

import re

from tests.api.helpers import login
from tests.factories import make_course, make_user


def test_catalogue_is_in_chinese_with_tier_tabs_and_topic_chips(client, session) -> None:
    make_course(session, title="家校沟通入门", topics=("family",))
    login(client, make_user(session).username)
    html = client.get("/courses").text
    assert '<html lang="zh-CN">' in html
    for word in ("课程库", "地平线", "指南针", "攀登者", "满天星", "家庭教育指导", "家校沟通入门"):
        assert word in html


def test_filters_narrow_the_list_and_htmx_gets_only_the_results(client, session) -> None:
    make_course(session, title="家校沟通入门", topics=("family",))
    make_course(session, title="危机干预实务", topics=("crisis",))
    make_course(session, title="科研方法", tier="climber", topics=())
    login(client, make_user(session).username)
    full = client.get("/courses", params={"tier": "horizon", "topic": "family"})
    assert "家校沟通入门" in full.text and "危机干预实务" not in full.text and "科研方法" not in full.text
    partial = client.get("/courses", params={"q": "科研"}, headers={"HX-Request": "true"})
    assert partial.headers["vary"] == "HX-Request"
    assert "<html" not in partial.text and 'id="results"' in partial.text
    assert "科研方法" in partial.text and "家校沟通入门" not in partial.text


def test_an_empty_result_says_what_to_do_next(client, session) -> None:
    login(client, make_user(session).username)
    html = client.get("/courses", params={"q": "不存在的课程"}).text
    assert 'class="empty"' in html and 'href="/courses"' in html


def test_unknown_filter_values_are_ignored_not_errors(client, session) -> None:
    login(client, make_user(session).username)
    assert client.get("/courses", params={"tier": "moon", "topic": "<script>"}).status_code == 200


def test_english_is_one_click_away(client, session) -> None:
    token = login(client, make_user(session).username)
    client.post("/lang", data={"lang": "en", "next": "/courses", "csrf_token": token})
    html = client.get("/courses").text
    assert '<html lang="en">' in html and "Course library" in html and "Horizon" in html


def test_quiz_page_marks_unanswered_questions_and_keeps_the_answers_given(client, session) -> None:
    course = make_course(session)
    teacher = make_user(session)
    token = login(client, teacher.username)
    client.post(f"/courses/{course.id}/enroll", data={"csrf_token": token})
    page = client.get(f"/courses/{course.id}/quiz").text
    first_name = page.split('name="q', 1)[1].split('"', 1)[0]
    r = client.post(f"/courses/{course.id}/quiz", data={"csrf_token": token, f"q{first_name}": "0"})
    assert r.status_code == 422
    assert r.text.count('class="field-error"') == 2  # two of three unanswered
    kept = re.search(rf'name="q{first_name}" value="0"\s+checked', r.text)
    assert kept, "the answer already given is lost"


def test_missing_pages_get_a_friendly_chinese_404(client, session) -> None:
    login(client, make_user(session).username)
    r = client.get("/courses/987654")
    assert r.status_code == 404
    assert "不存在" in r.text
