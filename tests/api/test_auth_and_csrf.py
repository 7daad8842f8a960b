"""Logging in and the protections around it."""

from __future__ import annotations

from backend.accounts.models import Role
from tests.api.helpers import csrf_from, login
from tests.factories import PASSWORD, make_course, make_user


def test_teacher_logs_in_with_the_form_and_gets_a_safe_session_cookie(client, session) -> None:
    user = make_user(session)
    token = csrf_from(client)
    r = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("portal_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/api/v1/me").json()["username"] == user.username


def test_wrong_password_and_unknown_user_get_the_same_message(client, session) -> None:
    user = make_user(session)
    token = csrf_from(client)
    wrong = client.post("/login", data={"username": user.username, "password": "nope-nope", "csrf_token": token})
    unknown = client.post("/login", data={"username": "ghost", "password": "nope-nope", "csrf_token": token})
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.text

    def message(html: str) -> str:
        return html.split('class="alert error"', 1)[1].split("</p>", 1)[0]

    assert message(wrong.text) == message(unknown.text)


def test_empty_login_form_shows_field_errors(client) -> None:
    token = csrf_from(client)
    r = client.post("/login", data={"username": "", "password": "", "csrf_token": token})
    assert r.status_code == 422
    assert 'id="username-error"' in r.text and 'id="password-error"' in r.text


def test_a_form_without_the_csrf_token_is_refused(client, session) -> None:
    user = make_user(session)
    csrf_from(client)  # the browser has the cookie, but the attacker's form cannot know the token
    r = client.post("/login", data={"username": user.username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": "0" * 64})
    assert r.status_code == 403


def test_htmx_and_api_requests_need_the_csrf_header(client, session) -> None:
    user = make_user(session)
    course = make_course(session)
    token = login(client, user.username)
    r = client.post(f"/api/v1/courses/{course.id}/enrollment")
    assert r.status_code == 403 and r.json()["error"] == "forbidden" and r.json()["detail"]
    r = client.post(f"/api/v1/courses/{course.id}/enrollment", headers={"X-CSRF-Token": token})
    assert r.status_code == 201


def test_bearer_token_works_without_csrf_and_a_bad_token_is_refused(client, session) -> None:
    user = make_user(session)
    course = make_course(session)
    r = client.post("/api/v1/auth/token", json={"username": user.username, "password": PASSWORD})
    assert r.status_code == 200
    bearer = {"Authorization": f"Bearer {r.json()['token']}"}
    fresh = client.__class__(client.app)  # no cookies at all
    assert fresh.post(f"/api/v1/courses/{course.id}/enrollment", headers=bearer).status_code == 201
    assert fresh.get("/api/v1/me", headers={"Authorization": "Bearer sjp_forged"}).status_code == 401


def test_logout_ends_the_session_on_the_server(client, session) -> None:
    user = make_user(session)
    token = login(client, user.username)
    stolen = client.cookies.get("portal_session")
    client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    again = client.__class__(client.app)
    again.cookies.set("portal_session", stolen)
    assert again.get("/api/v1/me").status_code == 401


def test_pages_send_anonymous_users_to_login(client) -> None:
    r = client.get("/courses", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Fcourses")


def test_login_redirect_stays_on_this_site(client, session) -> None:
    user = make_user(session)
    token = csrf_from(client)
    r = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token,
                                    "next": "//evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_teachers_never_see_drafts(client, session) -> None:
    teacher = make_user(session)
    draft = make_course(session, status="draft")
    login(client, teacher.username)
    assert client.get(f"/api/v1/courses/{draft.id}").status_code == 404
    assert client.get(f"/courses/{draft.id}").status_code == 404
    assert draft.id not in [c["id"] for c in client.get("/api/v1/courses").json()]
    trainer = make_user(session, role=Role.trainer)
    other = client.__class__(client.app)
    login(other, trainer.username)
    assert other.get(f"/api/v1/courses/{draft.id}").status_code == 200
