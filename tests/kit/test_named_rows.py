"""The one reader of uploaded sheets by column name (backend/kit/xlsx.py `named_rows`), used by the roster import,
the class import and the assigned-learning lists."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime

import pytest
from openpyxl import Workbook

from backend.kit.errors import InvalidInput
from backend.kit.xlsx import MISSING_COLUMNS, Column, Layout, columns, named_rows

LAYOUT = Layout(
    columns=(Column("工号", ("教工号", "Staff No"), required=True), Column("姓名", required=True), Column("从教日期")),
    unsupported="Upload a sheet.",
    max_bytes=1000,
    too_large="Too large.",
    max_rows=3,
    too_many="Too many rows.",
)


def _csv(text: str) -> bytes:
    return text.encode("utf-8-sig")


def _refusal(content: bytes, filename: str = "list.csv", layout: Layout = LAYOUT) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        list(named_rows(content, filename, layout))
    return caught.value


def test_columns_are_found_by_name_or_alias_in_any_order_and_blank_rows_are_skipped() -> None:
    content = _csv(",,\n备注, 教工号 ,姓名\n,,\nx,T001,李明\n,,\n,T002,王芳\n")
    rows = list(named_rows(content, "list.csv", LAYOUT))
    assert [(r.number, r.text("工号"), r.text("姓名")) for r in rows] == [(4, "T001", "李明"), (6, "T002", "王芳")]
    # A column the file lacks reads as empty; so does a cell beyond a short row.
    assert rows[0].text("从教日期") == "" and rows[0].raw("从教日期") is None and not rows[0].has("从教日期")


def test_an_english_alias_and_the_first_of_two_headers_naming_a_column() -> None:
    rows = list(named_rows(_csv("StaffNo,工号,姓名\nA1,B2,李明\n"), "list.csv", LAYOUT))
    assert rows[0].text("工号") == "A1"


def test_a_missing_required_column_is_named_in_the_message() -> None:
    refused = _refusal(_csv("工号,备注\nT001,x\n"))
    assert refused.message == MISSING_COLUMNS and refused.params == {"columns": "姓名"}
    refused = _refusal(_csv("备注\nx\n"))
    assert refused.params == {"columns": "工号、姓名"}
    custom = replace(LAYOUT, missing="Name the columns: %(columns)s.")
    assert _refusal(_csv("备注\nx\n"), layout=custom).message == "Name the columns: %(columns)s."


def test_empty_too_large_unsupported_unreadable_and_too_long_files_are_refused_with_the_layouts_messages() -> None:
    assert _refusal(b"").message == "The file is empty."
    assert _refusal(_csv(",,\n,,\n")).message == "The file is empty."  # blank rows only: no header
    assert _refusal(b"x" * 1001).message == "Too large."
    assert _refusal(_csv("工号,姓名\n"), "list.txt").message == "Upload a sheet."
    assert _refusal(b"not a zip", "list.xlsx").message == "This is not a readable Excel (.xlsx) file."
    assert _refusal(_csv("工号,姓名\n1,a\n2,b\n3,c\n4,d\n")).message == "Too many rows."
    assert len(list(named_rows(_csv("工号,姓名\n1,a\n2,b\n3,c\n"), "list.csv", LAYOUT))) == 3


def test_an_excel_sheet_keeps_its_cells_as_read_beside_their_text() -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "工号", "从教日期"])
    sheet.append(["李明", 1001.0, datetime(2020, 9, 1)])
    out = io.BytesIO()
    book.save(out)
    layout = replace(LAYOUT, max_bytes=1 << 20)
    (row,) = named_rows(out.getvalue(), "list.xlsx", layout)
    assert row.number == 2 and row.text("工号") == "1001"  # a staff number Excel stored as a number
    assert row.raw("从教日期") == datetime(2020, 9, 1) and row.has("从教日期")


def test_columns_from_names_an_alias_table_and_the_required_ones() -> None:
    assert columns(("工号", "姓名", "备注"), {"教工号": "工号", "职工号": "工号", "教师姓名": "姓名"}, ("工号",)) == (
        Column("工号", ("教工号", "职工号"), required=True),
        Column("姓名", ("教师姓名",)),
        Column("备注"),
    )
