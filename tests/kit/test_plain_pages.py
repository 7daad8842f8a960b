"""Issue 18, small things a person meets on many pages: the browser's icon, one's own account in the account list,
the 2FA page speaking to its reader (and naming authenticators used in China), and studio fields without jargon."""

from __future__ import annotations

from markupsafe import escape

from backend.accounts.models import Role
from backend.kit.i18n import translate
from tests.api.helpers import login
from tests.factories import make_user


def zh(msgid: str) -> str:
    return str(escape(translate("zh_CN", msgid)))


def test_favicon_is_served_on_every_page(client) -> None:
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert r.content.lstrip().startswith(b"<svg")
    assert 'rel="icon" href="/static/favicon.svg"' in client.get("/login").text


def test_district_admins_own_account_links_to_my_account(client, session) -> None:
    admin = make_user(session, Role.district_admin, school_code=None)
    login(client, admin.username)
    listing = client.get("/admin/users", params={"q": admin.username}).text
    assert f'href="/admin/users/{admin.id}"' not in listing and 'href="/account"' in listing
    r = client.get(f"/admin/users/{admin.id}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/account"  # not a 404


def test_two_factor_page_speaks_to_its_reader_and_names_authenticators_used_in_china(client, session) -> None:
    teacher = make_user(session)
    login(client, teacher.username)
    page = client.get("/account/2fa").text
    assert "腾讯身份验证器" in page
    assert zh("Administrators sign in with a second step. Scan this code with an authenticator app (for example "
              "Microsoft Authenticator or Google Authenticator), then enter the 6-digit code it shows.") not in page
    teacher_line = "A second step keeps your account safe even if someone learns your password: after your password, "
    assert zh(teacher_line + "you enter a 6-digit code from an app on your phone.") in page


def test_studio_fields_say_what_to_write_not_markdown(client, session) -> None:
    trainer = make_user(session, Role.trainer, school_code=None)
    login(client, trainer.username)
    page = client.get("/studio/courses/new").text
    assert "Markdown" not in page
    assert zh("Course description: what teachers will learn") in page
