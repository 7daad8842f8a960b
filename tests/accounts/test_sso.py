"""Single sign-on against a real OpenID Connect provider on localhost (tests/accounts/oidc_provider.py).

The portal runs in-process (TestClient); the provider is a real HTTP server, so discovery, the token exchange and
the keys travel over HTTP, and the browser's trip through the provider's login form is made with httpx. Every
refusal ends on the login page with a reason in the reader's language, and logs nobody in.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.accounts import oidc
from backend.accounts.models import AuthSession, Role, User
from backend.accounts.sso_models import SsoLoginAttempt, UserIdentity
from backend.app import create_app
from backend.audit.models import AuditEvent
from backend.config import Settings
from backend.kit.i18n import translate
from backend.kit.state import state_of
from backend.media.local import LocalStorage
from backend.people.models import TeacherProfile
from tests.accounts.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider
from tests.api.helpers import csrf_from, login
from tests.factories import make_user

SSO_BUTTON = "Sign in with unified identity"


def sso_settings(database_url: str, tmp_path: Path, provider: Provider, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "media_root": tmp_path / "media",
        "demo_mode": True,
        "sso_enabled": True,
        "oidc_issuer": provider.url,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
    }
    return Settings(**(values | overrides))  # type: ignore[arg-type]


@contextmanager
def portal(settings: Settings, session_maker: sessionmaker[Session], tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings)
    state_of(app).sessionmaker = session_maker
    state_of(app).storage = LocalStorage(tmp_path / "media")
    with TestClient(app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def settings(database_url: str, tmp_path: Path, oidc_provider: Provider) -> Settings:
    """Overrides tests/conftest.py: the `client` of this module signs in through the provider."""
    return sso_settings(database_url, tmp_path, oidc_provider)


@pytest.fixture
def provider_settings(oidc_provider: Provider) -> Settings:
    """For checks of ID tokens alone, which touch no database (so they run once, not per database)."""
    return Settings(
        demo_mode=True,
        sso_enabled=True,
        oidc_issuer=oidc_provider.url,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
    )


def teacher_with_staff_no(session: Session, provider: Provider, **claims: object) -> tuple[User, str, str]:
    """A portal teacher with a staff number, and the provider's account for the same person (a fresh subject)."""
    staff_no = f"SJ{uuid.uuid4().hex[:8]}"
    user = make_user(session, Role.teacher, display_name="陈老师")
    session.add(TeacherProfile(user_id=user.id, staff_no=staff_no))
    session.flush()
    sub = f"idp-{uuid.uuid4().hex[:10]}"
    provider.set_user(sub, staff_no=staff_no, name="陈老师", **claims)
    return user, sub, staff_no


def start(client: TestClient, next_url: str = "/learning") -> str:
    """Presses 统一身份认证登录 on the login page; returns the provider's authorization URL."""
    response = client.post(
        "/sso/login", data={"csrf_token": csrf_from(client), "next": next_url}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return response.headers["location"]


def back_at_portal(location: str) -> str:
    """The provider's redirect to the portal's callback, as a path the TestClient can follow."""
    parts = urlsplit(location)
    assert parts.netloc == "testserver" and parts.path == "/sso/callback", location
    return f"{parts.path}?{parts.query}"


def sign_in(client: TestClient, provider: Provider, sub: str, next_url: str = "/learning") -> httpx.Response:
    return client.get(back_at_portal(provider.log_in(start(client, next_url), sub)), follow_redirects=False)


def refusal(response: httpx.Response, msgid: str, status: int = 403, **params: object) -> None:
    assert response.status_code == status, response.text
    assert translate("zh_CN", msgid, **params) in response.text
    assert 'action="/sso/login"' in response.text  # back on the login page, free to try again


def log_out(client: TestClient) -> None:
    client.post("/logout", data={"csrf_token": csrf_from(client, "/learning")})


def logged_in_as(client: TestClient) -> str | None:
    me = client.get("/api/v1/me")
    return me.json()["username"] if me.status_code == 200 else None


# --- signing in ----------------------------------------------------------------------------------------------------


def test_teacher_signs_in_through_the_district_provider_and_lands_on_my_learning(
    client: TestClient,
    session: Session,
    oidc_provider: Provider,
) -> None:
    teacher, sub, _staff_no = teacher_with_staff_no(session, oidc_provider)
    page = client.get("/login")
    assert translate("zh_CN", SSO_BUTTON) in page.text and 'action="/login"' in page.text

    response = sign_in(client, oidc_provider, sub)

    assert response.status_code == 303 and response.headers["location"] == "/learning"
    assert logged_in_as(client) == teacher.username
    assert client.get("/learning").status_code == 200
    # First login linked the provider's subject to the teacher with that staff number.
    identity = session.scalar(select(UserIdentity).where(UserIdentity.user_id == teacher.id))
    assert identity is not None and identity.subject == sub and identity.issuer == oidc_provider.url
    # The app's normal database session, marked as an SSO sign-in.
    methods = session.scalars(select(AuthSession.auth_method).where(AuthSession.user_id == teacher.id)).all()
    assert methods == ["sso"]
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == teacher.id)).all()
    assert "auth.sso_linked" in actions and "auth.login" in actions
    # The attempt is used up and the browser-binding cookie cleared.
    assert session.scalar(select(SsoLoginAttempt.id)) is None


def test_a_linked_teacher_is_recognised_by_subject_even_after_the_staff_number_changes(
    client: TestClient,
    session: Session,
    oidc_provider: Provider,
) -> None:
    teacher, sub, _staff_no = teacher_with_staff_no(session, oidc_provider)
    assert sign_in(client, oidc_provider, sub).status_code == 303
    log_out(client)
    assert logged_in_as(client) is None

    oidc_provider.set_user(sub, staff_no="SJ-renumbered", name="陈老师")
    assert sign_in(client, oidc_provider, sub).status_code == 303
    assert logged_in_as(client) == teacher.username


def test_the_request_to_the_provider_carries_pkce_state_and_nonce_kept_only_in_the_database(
    client: TestClient,
    session: Session,
) -> None:
    authorize = start(client)
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}

    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["code_challenge_method"] == "S256"
    attempt = session.scalar(select(SsoLoginAttempt))
    assert attempt is not None
    # The challenge is S256 of the verifier that stays on the server (RFC 7636 §4.2).
    digest = hashlib.sha256(attempt.code_verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert attempt.code_verifier not in authorize
    assert query["nonce"] == attempt.nonce
    assert attempt.state_hash == hashlib.sha256(query["state"].encode()).hexdigest()
    assert query["state"] not in str(attempt.__dict__)  # only its hash is stored
    assert attempt.next_url == "/learning"


def test_an_unusable_next_address_falls_back_to_the_home_page(client: TestClient, session: Session) -> None:
    for raw in ("https://evil.example/", "//evil.example/", "/learning\x00", "/" + "x" * 600):
        response = client.post(
            "/sso/login", data={"csrf_token": csrf_from(client), "next": raw}, follow_redirects=False
        )
        assert response.status_code == 303, raw
    assert set(session.scalars(select(SsoLoginAttempt.next_url))) == {"/"}


def test_a_person_unknown_to_the_portal_is_refused_and_no_account_is_created(
    client: TestClient,
    session: Session,
    oidc_provider: Provider,
) -> None:
    sub = f"idp-{uuid.uuid4().hex[:10]}"
    oidc_provider.set_user(sub, staff_no="SJ-NOBODY", name="路人")
    users_before = session.scalar(select(User.id).order_by(User.id.desc()).limit(1))

    response = sign_in(client, oidc_provider, sub)

    refusal(
        response,
        "No portal account has the staff number %(staff_no)s. Please ask your school administrator to record your "
        "staff number in your teacher record, then sign in again.",
        staff_no="SJ-NOBODY",
    )
    assert logged_in_as(client) is None
    assert session.scalar(select(User.id).order_by(User.id.desc()).limit(1)) == users_before
    assert session.scalar(select(UserIdentity.id).where(UserIdentity.subject == sub)) is None
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "auth.sso_refused")) is not None


def test_a_second_provider_account_with_the_same_staff_number_is_refused(
    client: TestClient, session: Session, oidc_provider: Provider
) -> None:
    teacher, sub, staff_no = teacher_with_staff_no(session, oidc_provider)
    assert sign_in(client, oidc_provider, sub).status_code == 303
    log_out(client)
    impostor = f"idp-{uuid.uuid4().hex[:10]}"
    oidc_provider.set_user(impostor, staff_no=staff_no, name="冒名者")

    refusal(
        sign_in(client, oidc_provider, impostor),
        "This teacher is already linked to another unified identity account. Please contact the district.",
    )
    assert logged_in_as(client) is None
    subjects = session.scalars(select(UserIdentity.subject).where(UserIdentity.user_id == teacher.id)).all()
    assert subjects == [sub]


def test_with_auto_create_on_a_new_teacher_account_is_made_from_the_provider_claims(
    database_url: str,
    tmp_path: Path,
    session: Session,
    session_maker: sessionmaker[Session],
    oidc_provider: Provider,
) -> None:
    staff_no = f"SJ{uuid.uuid4().hex[:8]}"
    sub = f"idp-{uuid.uuid4().hex[:10]}"
    oidc_provider.set_user(sub, staff_no=staff_no, name="新老师")
    settings = sso_settings(database_url, tmp_path, oidc_provider, oidc_auto_create=True)
    with portal(settings, session_maker, tmp_path) as client:
        assert sign_in(client, oidc_provider, sub).status_code == 303
        username = logged_in_as(client)
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None and user.role == "teacher" and user.display_name == "新老师"
    assert user.password_hash is None  # signs in through the provider only
    assert session.get(TeacherProfile, user.id).staff_no == staff_no  # type: ignore[union-attr]


# --- refusals ------------------------------------------------------------------------------------------------------


def test_a_tampered_state_is_refused(client: TestClient, session: Session, oidc_provider: Provider) -> None:
    _teacher, sub, _ = teacher_with_staff_no(session, oidc_provider)
    callback = back_at_portal(oidc_provider.log_in(start(client), sub))
    tampered = re.sub(r"state=([^&]+)", lambda m: "state=" + m.group(1)[::-1], callback)

    refusal(client.get(tampered), "This sign-in link is not valid or has already been used. Please sign in again.")
    assert logged_in_as(client) is None
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.sso_refused"))
    assert event is not None and event.after["reason"].startswith("This sign-in link is not valid")


def test_a_replayed_callback_is_refused(client: TestClient, session: Session, oidc_provider: Provider) -> None:
    _teacher, sub, _ = teacher_with_staff_no(session, oidc_provider)
    authorize = start(client)
    browser_cookie = client.cookies.get(oidc.BROWSER_COOKIE)
    callback = back_at_portal(oidc_provider.log_in(authorize, sub))
    assert client.get(callback, follow_redirects=False).status_code == 303
    log_out(client)

    # The same code and state again, even with the browser cookie of the first time.
    client.cookies.set(oidc.BROWSER_COOKIE, browser_cookie or "", path="/sso")
    refusal(client.get(callback), "This sign-in link is not valid or has already been used. Please sign in again.")
    assert logged_in_as(client) is None


def test_a_used_code_under_a_fresh_state_is_refused_by_the_provider(
    client: TestClient,
    session: Session,
    oidc_provider: Provider,
) -> None:
    _teacher, sub, _ = teacher_with_staff_no(session, oidc_provider)
    first = back_at_portal(oidc_provider.log_in(start(client), sub))
    assert client.get(first, follow_redirects=False).status_code == 303
    log_out(client)
    old_code = parse_qs(urlsplit(first).query)["code"][0]

    second = back_at_portal(oidc_provider.log_in(start(client), sub))
    replayed = re.sub(r"code=[^&]+", f"code={old_code}", second)

    refusal(client.get(replayed), "The unified identity service did not accept this sign-in. Please sign in again.")
    assert logged_in_as(client) is None


def test_a_code_issued_to_another_application_is_refused(
    client: TestClient,
    session: Session,
    oidc_provider: Provider,
) -> None:
    _teacher, sub, _ = teacher_with_staff_no(session, oidc_provider)
    ours = back_at_portal(oidc_provider.log_in(start(client), sub))
    foreign = oidc_provider.code_for_client("another-app", sub, "http://testserver/sso/callback")
    swapped = re.sub(r"code=[^&]+", f"code={foreign}", ours)

    refusal(client.get(swapped), "The unified identity service did not accept this sign-in. Please sign in again.")
    assert logged_in_as(client) is None


def test_an_id_token_for_another_audience_is_refused(
    provider_settings: Settings,
    oidc_provider: Provider,
) -> None:
    settings = provider_settings
    sub = f"idp-{uuid.uuid4().hex[:10]}"
    oidc_provider.set_user(sub, staff_no="SJ-AUD")
    genuine = oidc_provider.id_token_for_client("another-app", sub, nonce="n-1")

    with pytest.raises(oidc.SsoRefused):
        oidc.verify_id_token(settings, genuine, nonce="n-1")
    # The same token is accepted by the application it was issued to: the refusal above is the audience.
    other = settings.model_copy(update={"oidc_client_id": "another-app"})
    assert oidc.verify_id_token(other, genuine, nonce="n-1")["sub"] == sub


def test_an_id_token_with_a_forged_signature_a_wrong_nonce_or_past_expiry_is_refused(
    provider_settings: Settings,
    oidc_provider: Provider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = provider_settings
    sub = f"idp-{uuid.uuid4().hex[:10]}"
    oidc_provider.set_user(sub, staff_no="SJ-SIG")
    token = oidc_provider.id_token_for_client(CLIENT_ID, sub, nonce="n-2")
    assert oidc.verify_id_token(settings, token, nonce="n-2")["sub"] == sub

    header, payload, signature = token.split(".")
    forged_payload = (
        base64.urlsafe_b64encode(base64.urlsafe_b64decode(payload + "==").replace(sub.encode(), b"idp-admin-0000"))
        .rstrip(b"=")
        .decode()
    )
    with pytest.raises(oidc.SsoRefused):
        oidc.verify_id_token(settings, f"{header}.{forged_payload}.{signature}", nonce="n-2")
    with pytest.raises(oidc.SsoRefused):
        oidc.verify_id_token(settings, token, nonce="another-nonce")
    later = datetime.now(UTC) + timedelta(hours=2)  # the provider's tokens live one hour
    monkeypatch.setattr("backend.kit.clock.now", lambda: later)
    with pytest.raises(oidc.SsoRefused):
        oidc.verify_id_token(settings, token, nonce="n-2")


def test_a_callback_opened_in_another_browser_is_refused(
    client: TestClient,
    session: Session,
    oidc_provider: Provider,
) -> None:
    _teacher, sub, _ = teacher_with_staff_no(session, oidc_provider)
    callback = back_at_portal(oidc_provider.log_in(start(client), sub))
    client.cookies.delete(oidc.BROWSER_COOKIE, path="/sso")

    refusal(client.get(callback), "This sign-in was started in another browser. Please sign in again.")
    assert logged_in_as(client) is None


def test_cancelling_at_the_provider_logs_nobody_in(client: TestClient, oidc_provider: Provider) -> None:
    authorize = start(client)
    denied = httpx.post(authorize, data={"action": "deny"}, timeout=10)
    assert denied.status_code == 302

    back = client.get(back_at_portal(denied.headers["location"]))
    refusal(back, "The sign-in was cancelled at the unified identity service.")
    assert logged_in_as(client) is None


def test_an_unreachable_provider_is_a_clear_503_not_a_crash(
    database_url: str,
    tmp_path: Path,
    session_maker: sessionmaker[Session],
    oidc_provider: Provider,
) -> None:
    settings = sso_settings(database_url, tmp_path, oidc_provider, oidc_issuer="http://127.0.0.1:9")
    with portal(settings, session_maker, tmp_path) as client:
        response = client.post("/sso/login", data={"csrf_token": csrf_from(client), "next": "/"})
        refusal(response, "The unified identity service cannot be reached. Please try again later.", status=503)


# --- switches and logout -------------------------------------------------------------------------------------------


def test_with_sso_switched_off_there_is_no_button_and_no_sso_route(
    database_url: str,
    tmp_path: Path,
    session_maker: sessionmaker[Session],
    oidc_provider: Provider,
) -> None:
    settings = sso_settings(database_url, tmp_path, oidc_provider, sso_enabled=False)
    with portal(settings, session_maker, tmp_path) as client:
        assert 'action="/sso/login"' not in client.get("/login").text
        assert client.post("/sso/login", data={"csrf_token": csrf_from(client)}).status_code == 404
        assert client.get("/sso/callback?state=x&code=y").status_code == 404


def test_with_local_login_switched_off_passwords_are_refused(
    database_url: str,
    tmp_path: Path,
    session: Session,
    session_maker: sessionmaker[Session],
    oidc_provider: Provider,
) -> None:
    from tests.factories import PASSWORD

    teacher = make_user(session, Role.teacher)
    settings = sso_settings(database_url, tmp_path, oidc_provider, local_login_enabled=False)
    with portal(settings, session_maker, tmp_path) as client:
        page = client.get("/login").text
        assert 'action="/sso/login"' in page and 'name="password"' not in page
        form = {"username": teacher.username, "password": PASSWORD, "csrf_token": csrf_from(client)}
        assert client.post("/login", data=form, follow_redirects=False).status_code == 403
        api = client.post("/api/v1/auth/token", json={"username": teacher.username, "password": PASSWORD})
        assert api.status_code == 403
        assert logged_in_as(client) is None


def test_logging_out_of_an_sso_session_ends_it_here_and_at_the_provider(
    client: TestClient,
    session: Session,
    oidc_provider: Provider,
) -> None:
    _teacher, sub, _ = teacher_with_staff_no(session, oidc_provider)
    assert sign_in(client, oidc_provider, sub).status_code == 303

    response = client.post("/logout", data={"csrf_token": csrf_from(client, "/learning")}, follow_redirects=False)

    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert f"{target.scheme}://{target.netloc}" == oidc_provider.url and target.path == "/oauth2/end_session"
    query = parse_qs(target.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["post_logout_redirect_uri"] == ["http://testserver/login"]
    assert logged_in_as(client) is None
    # The provider's end-session page answers (the browser would confirm there and come back to /login).
    assert httpx.get(response.headers["location"], timeout=10).status_code == 200


def test_logging_out_of_a_password_session_stays_in_the_portal(client: TestClient, session: Session) -> None:
    from tests.api.helpers import login

    teacher = make_user(session, Role.teacher)
    csrf = login(client, teacher.username)
    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_settings_refuse_sso_without_a_provider_and_a_portal_nobody_can_sign_in_to() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="OIDC_ISSUER"):
        Settings(sso_enabled=True, oidc_issuer="", oidc_client_id="")
    with pytest.raises(ValidationError, match="nobody could log in"):
        Settings(sso_enabled=False, local_login_enabled=False)


def test_a_first_sso_sign_in_links_no_admin_account_by_staff_number(
    client: TestClient, session: Session, oidc_provider: Provider
) -> None:
    """Issue 14: a staff number is no proof of who holds a district admin's account, and SSO skips the second factor."""
    admin, sub, _staff_no = teacher_with_staff_no(session, oidc_provider)
    admin.role = Role.district_admin
    session.flush()
    refusal(
        sign_in(client, oidc_provider, sub),
        "This account can be linked to your unified identity only by a district administrator. "
        "Please contact the district.",
    )
    assert logged_in_as(client) is None
    assert session.scalar(select(UserIdentity.id).where(UserIdentity.user_id == admin.id)) is None


def test_a_district_admin_links_an_admin_account_and_then_it_signs_in_through_sso(
    client: TestClient, session: Session, oidc_provider: Provider
) -> None:
    admin, sub, _staff_no = teacher_with_staff_no(session, oidc_provider)
    admin.role = Role.school_admin
    session.flush()
    district = make_user(session, Role.district_admin)
    token = login(client, district.username)
    page = client.get(f"/admin/users/{admin.id}")
    assert f'action="/admin/users/{admin.id}/sso-link"' in page.text
    blank = client.post(f"/admin/users/{admin.id}/sso-link", data={"csrf_token": token, "subject": " "})
    assert blank.status_code == 422
    linked = client.post(f"/admin/users/{admin.id}/sso-link", data={"csrf_token": token, "subject": sub},
                         follow_redirects=False)  # fmt: skip
    assert linked.status_code == 303
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "auth.sso_linked_by_admin")) is not None
    log_out(client)
    assert sign_in(client, oidc_provider, sub).status_code == 303
    assert logged_in_as(client) == admin.username
