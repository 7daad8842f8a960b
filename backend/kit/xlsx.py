"""A streaming .xlsx writer for large exports: rows go straight from an iterator into the zip on disk.

Why not openpyxl's write_only mode: on this 2-core machine it took 6.5–13 s to write 15,000 rows of 40 cells, before
a single query ran, against the issue's 10 s for the whole title-review export; this writer does the same rows in
about 0.6 s. It writes only what a report needs: text (inline strings), numbers, a bold frozen header row and column
widths. Memory stays bounded whatever the row count: each row is encoded and compressed as it comes. Files written
here are read back with openpyxl in the tests, and open in Excel and WPS.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape  # nosec B406 - escapes text we write; no XML is parsed here

Cell = str | int | float | Decimal | None
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Control characters XML 1.0 cannot carry, dropped (str.translate: this runs for every text cell).
_ILLEGAL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32)])
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


@dataclass
class Sheet:
    name: str  # ≤ 31 characters, no []:*?/\
    header: Sequence[str]
    rows: Iterable[Sequence[Cell]]
    widths: Sequence[float] = ()
    # Columns from this index on hold numbers already formatted as text (e.g. sums read as text from the
    # database, "12.5"): written as numeric cells without being parsed.
    numbers_from: int = 1 << 30


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _row(number: int, values: Sequence[Cell], starts: list[str], style: int = 0, numbers_from: int = 1 << 30) -> str:
    """One <row>: text as inline strings, numbers as numbers, empty cells left out. Hot (15,000 × 40 cells), so
    each column's `<c r="A` is made once (`starts`) and the types are tested by identity."""
    while len(starts) < len(values):
        starts.append(f'<c r="{column_letter(len(starts))}')
    n = f'{number}" s="{style}' if style else str(number)
    parts = [f'<row r="{number}">']
    append = parts.append
    for index, value in enumerate(values):
        if value is None or value == "":
            continue
        kind = type(value)
        if kind is int or kind is float or kind is Decimal or (index >= numbers_from and kind is str):
            append(f'{starts[index]}{n}"><v>{value}</v></c>')
        elif kind is bool:
            append(f'{starts[index]}{n}"><v>{int(value)}</v></c>')  # type: ignore[arg-type]
        else:
            text = str(value)
            if not text.isprintable():  # rare: only then look for control characters (translate is slow)
                text = text.translate(_ILLEGAL)
            text = escape(text)
            append(f'{starts[index]}{n}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
    append("</row>")
    return "".join(parts)


def _write_sheet(out: zipfile.ZipFile, index: int, sheet: Sheet) -> None:
    starts: list[str] = []
    with out.open(f"xl/worksheets/sheet{index}.xml", "w") as fh:
        fh.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS} {_REL_NS}>'.encode())
        fh.write(
            b'<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft"'
            b' state="frozen"/></sheetView></sheetViews>'
        )
        if sheet.widths:
            cols = "".join(
                f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(sheet.widths, 1)
            )
            fh.write(f"<cols>{cols}</cols>".encode())
        fh.write(b"<sheetData>")
        fh.write(_row(1, list(sheet.header), starts, style=1).encode())
        batch: list[str] = []
        for number, values in enumerate(sheet.rows, start=2):
            batch.append(_row(number, values, starts, numbers_from=sheet.numbers_from))
            if len(batch) >= 500:
                fh.write("".join(batch).encode())
                batch.clear()
        fh.write("".join(batch).encode())
        fh.write(b"</sheetData></worksheet>")


def write_workbook(sheets: Sequence[Sheet], path: Path) -> Path:
    """Writes the workbook to `path`, pulling each sheet's rows as it goes."""
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    sheet_list = "".join(
        f'<sheet name="{escape(s.name)}" sheetId="{i}" r:id="rId{i}"/>' for i, s in enumerate(sheets, 1)
    )
    sheet_rels = "".join(
        f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        f'worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    styles_id = len(sheets) + 1
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        out.writestr(
            "[Content_Types].xml",
            head + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>",
        )
        out.writestr(
            "_rels/.rels",
            head + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        out.writestr("xl/workbook.xml", f"{head}<workbook {_NS} {_REL_NS}><sheets>{sheet_list}</sheets></workbook>")
        out.writestr(
            "xl/_rels/workbook.xml.rels",
            head + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'{sheet_rels}<Relationship Id="rId{styles_id}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
            'Target="styles.xml"/></Relationships>',
        )
        out.writestr(
            "xl/styles.xml",
            f"{head}<styleSheet {_NS}>"
            '<fonts count="2"><font><sz val="11"/><name val="等线"/></font>'
            '<font><b/><sz val="11"/><name val="等线"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>",
        )
        for index, sheet in enumerate(sheets, 1):
            _write_sheet(out, index, sheet)
    return path


def temporary_workbook(sheets: Sequence[Sheet]) -> Path:
    """Writes to a new temporary file (the caller removes it once sent)."""
    handle = tempfile.NamedTemporaryFile(prefix="export-", suffix=".xlsx", delete=False)  # noqa: SIM115
    handle.close()
    path = Path(handle.name)
    try:
        return write_workbook(sheets, path)
    except BaseException:
        path.unlink(missing_ok=True)  # a failed export leaves no half-written file behind
        raise
