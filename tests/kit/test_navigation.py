"""Every page a role may use is in its navigation: a teacher's four daily destinations first, then what the role
runs, and the admin functions in the 管理 menu; every link opens (200) for that role, and no link leads a role to a
page it may not use. The name in the header opens My account."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.accounts.models import Role
from tests.api.helpers import login
from tests.factories import make_user

NAV = re.compile(r'<nav class="mainnav".*?</nav>', re.S)
MENU = re.compile(r'<div class="navmenu">.*?</div>', re.S)
HREF = re.compile(r'href="([^"]+)"')

TEACHER = ["/learning", "/courses", "/credits/mine", "/certificates"]
SCHOOL_MENU = ["/admin/teachers", "/credits/queue", "/admin/hours", "/admin/certificates", "/admin/title-review",
               "/training/compliance", "/organisation/classes", "/admin/users"]  # fmt: skip
DISTRICT_MENU = [*SCHOOL_MENU[:-1], "/studio/review", "/admin/users", "/admin/policy", "/admin/tokens", "/admin/audit"]
EXPECTED = {
    Role.teacher: (TEACHER, []),
    Role.trainer: ([*TEACHER, "/studio", "/grading", "/training", "/organisation/workshops"], []),
    Role.school_admin: (["/dashboard", *TEACHER, "/training"], SCHOOL_MENU),
    Role.district_admin: (["/dashboard", *TEACHER, "/studio", "/grading", "/training"], DISTRICT_MENU),
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_reaches_all_its_pages_from_the_navigation(client: TestClient, session: Session, role: Role) -> None:
    make_user(session, Role.teacher, school_code="T-01")  # the district has a school (its class list opens on one)
    user = make_user(session, role, school_code=None if role in (Role.trainer, Role.district_admin) else "T-01")
    login(client, user.username)
    page = client.get("/learning").text
    nav = NAV.search(page)
    assert nav is not None
    menu = MENU.search(nav.group(0))
    menu_links = HREF.findall(menu.group(0)) if menu else []
    top_links = HREF.findall(nav.group(0).replace(menu.group(0), "") if menu else nav.group(0))
    assert (top_links, menu_links) == EXPECTED[role]
    assert '<a class="who" href="/account"' in page
    for href in [*top_links, *menu_links, "/account"]:
        response = client.get(href)
        assert response.status_code == 200, (role, href, response.status_code)


def test_the_current_page_is_marked_in_the_menu_and_its_group(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.district_admin, school_code=None)
    login(client, admin.username)
    page = client.get("/admin/audit").text
    assert '<summary class="current">' in page
    assert re.search(r'<a href="/admin/audit" aria-current="page">', page)
    assert '<summary class="current">' not in client.get("/courses").text
