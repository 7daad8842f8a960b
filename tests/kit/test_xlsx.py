"""The streaming .xlsx writer: what it writes opens in openpyxl (as in Excel) with the right types and text."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from backend.kit.xlsx import Sheet, column_letter, temporary_workbook, write_workbook


def test_cells_keep_their_types_text_is_escaped_and_control_characters_dropped(tmp_path: Path) -> None:
    rows = [
        ["<王&老师>", 3, 2.5, Decimal("12.5"), None, "", "第一行\x07响铃", "12.5"],
        ["全角\u3000空格", 0, True, Decimal("-2.0"), "x", "y", "z", "0"],
    ]
    header = [f"列{i}" for i in range(8)]
    path = write_workbook([Sheet("测试", header, iter(rows), widths=[12] * 8, numbers_from=7)], tmp_path / "t.xlsx")
    book = load_workbook(path)
    sheet = book["测试"]
    assert [c.value for c in sheet[1]] == header and sheet["A1"].font.b
    assert [c.value for c in sheet[2]] == ["<王&老师>", 3, 2.5, 12.5, None, None, "第一行响铃", 12.5]
    assert [c.value for c in sheet[3]] == ["全角\u3000空格", 0, 1, -2, "x", "y", "z", 0]
    assert sheet.freeze_panes == "A2"


def test_many_columns_and_rows_stream_through(tmp_path: Path) -> None:
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]
    rows = ([n, *range(40)] for n in range(3000))
    path = temporary_workbook([Sheet("一", ["n", *map(str, range(40))], rows), Sheet("二", ["空"], iter(()))])
    try:
        book = load_workbook(path, read_only=True)
        assert book.sheetnames == ["一", "二"]
        last = list(book["一"].iter_rows(min_row=3001, values_only=True))
        assert last == [(2999, *range(40))]
    finally:
        path.unlink()


def test_a_failed_export_leaves_no_file(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def rows():  # type: ignore[no-untyped-def]
        yield ["一"]
        raise RuntimeError("database went away")

    try:
        temporary_workbook([Sheet("x", ["h"], rows())])
    except RuntimeError:
        pass
    else:
        raise AssertionError("the error must reach the caller")
    assert list(tmp_path.iterdir()) == []
