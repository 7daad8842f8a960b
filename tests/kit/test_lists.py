"""Issue 15, the admin-list kit: one page size, one way to page a query (`kit.pagination.paginate`), one reading of
the filters the lists share (`kit.lists`) and one pager (`partials/lists.html`) that keeps the filters in its links."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from backend.accounts.models import Role, User
from backend.kit import lists, pagination
from backend.kit.errors import InvalidInput
from backend.kit.pagination import paginate, slice_page
from tests.api.helpers import login
from tests.factories import make_user


def _named(session: Session, prefix: str, n: int) -> list[User]:
    return [make_user(session, username=f"{prefix}{i:02d}") for i in range(n)]


def test_a_query_is_paged_in_one_call_and_a_page_past_the_end_shows_the_last(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pagination, "PAGE_SIZE", 2)
    users = _named(session, "kitpage", 5)
    query = select(User).where(User.username.startswith("kitpage")).order_by(User.username)

    first = paginate(session, query, 1, scalars=True)
    assert first.items == users[:2] and (first.number, first.size, first.total, first.pages) == (1, 2, 5, 3)
    assert not first.has_previous and first.has_next and first.first_index == 1

    past_the_end = paginate(session, query, 99, scalars=True)
    assert past_the_end.number == 3 and past_the_end.items == users[4:] and not past_the_end.has_next
    assert paginate(session, query, -4, scalars=True).number == 1

    rows = paginate(session, select(User.username, User.id).where(User.username.startswith("kitpage"))
                    .order_by(User.username), 2)  # fmt: skip
    assert [r.username for r in rows.map(lambda r: r).items] == ["kitpage02", "kitpage03"]
    # A count given by the caller (capped, or cheaper) is used as it is.
    assert paginate(session, query, 9, scalars=True, total=3).number == 2

    nothing = paginate(session, select(User).where(User.username == "nobody-at-all"), 5, scalars=True)
    assert (nothing.items, nothing.number, nothing.total, nothing.pages, nothing.first_index) == ([], 1, 0, 1, 0)


def test_rows_judged_in_python_are_cut_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pagination, "PAGE_SIZE", 3)
    page = slice_page(list(range(7)), 9)
    assert (page.items, page.number, page.pages) == ([6], 3, 3)
    # Judged only so far: the page is whole, and the total is what is known yet.
    assert slice_page(list(range(7)), 2).items == [3, 4, 5]


def test_filters_that_cannot_be_read_are_ignored_and_impossible_dates_are_refused() -> None:
    assert lists.text("  王老师 ") == "王老师" and lists.text(None) == ""
    assert lists.text("  abcdef  ", max_length=4) == "abcd"
    assert lists.number(" 12 ") == 12 and lists.number("x") is None and lists.number("-3") is None
    assert lists.number("²") is None  # a digit to str.isdigit, not to int()
    with pytest.raises(InvalidInput):  # no id column holds it: refused, as the database would refuse it
        lists.number(str(2**31))
    assert lists.number(str(2**31 - 1)) == 2**31 - 1
    assert lists.page_number(None) == 1 and lists.page_number("0") == 1 and lists.page_number("7") == 7
    assert lists.page_number("9" * 5000) == 10**18  # clamped to the last page when paged; int() would refuse it
    assert lists.choice("pending", ("pending", "verified")) == "pending"
    assert lists.choice("all", ("pending",)) is None
    assert lists.year("2031", default=2026) == 2031 and lists.year("1999", default=2026) == 2026
    assert lists.year("next", default=2026) == 2026
    assert lists.day("2026-03-01", "since") == date(2026, 3, 1) and lists.day("03/01", "since") is None
    with pytest.raises(InvalidInput) as refused:
        lists.day("9999-12-31", "until")
    assert set(refused.value.fields) == {"until"}


def test_the_pager_keeps_the_filters_and_swaps_only_the_results(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pagination, "PAGE_SIZE", 2)
    _named(session, "kitpager", 5)
    login(client, make_user(session, Role.district_admin, school_code=None).username)

    first = client.get("/admin/users", params={"q": "kitpager"}).text
    assert re.findall(r"<td>(kitpager\d\d)</td>", first) == ["kitpager00", "kitpager01"]
    nxt = "/admin/users?q=kitpager&amp;page=2"
    assert f'href="{nxt}" hx-get="{nxt}" hx-target="#results" hx-select="#results" hx-swap="outerHTML" ' \
           'hx-push-url="true"' in first  # fmt: skip
    assert "第 1 / 3 页" in first

    # A stale link past the end shows the last page, and its "previous" link still carries the filter.
    last = client.get("/admin/users", params={"q": "kitpager", "page": "99"}).text
    assert re.findall(r"<td>(kitpager\d\d)</td>", last) == ["kitpager04"] and "第 3 / 3 页" in last
    assert 'href="/admin/users?q=kitpager&amp;page=2"' in last and "page=4" not in last
    assert client.get("/admin/users", params={"q": "kitpager", "page": "junk"}).status_code == 200

    # An htmx request gets the results block alone, with the same pager.
    swapped = client.get("/admin/users", params={"q": "kitpager", "page": "2"}, headers={"HX-Request": "true"}).text
    assert swapped.lstrip().startswith('<section id="results"') and "<html" not in swapped
    assert 'href="/admin/users?q=kitpager&amp;page=3"' in swapped
