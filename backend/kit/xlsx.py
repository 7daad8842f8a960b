"""Spreadsheets: reading what admins upload (.xlsx or .csv, `sheet_rows`), the checks every uploaded or
openpyxl-written workbook goes through (decompression bombs, text that would become a formula), and a streaming .xlsx
writer for large exports, where rows go straight from an iterator into the zip on disk.

Reading: the first worksheet of an .xlsx, or a CSV as UTF-8 (with or without the BOM Excel writes) or, failing that,
GB18030, which is what Chinese Excel's "CSV" saves. `named_rows` reads a sheet by its column names (a `Layout`: the
columns with their aliases, which are required, the limits and their messages); used by the roster import, the class
import and the lists of teachers learning is assigned to.

Why not openpyxl's write_only mode: on this 2-core machine it took 6.5–13 s to write 15,000 rows of 40 cells, before
a single query ran, against the issue's 10 s for the whole title-review export; this writer does the same rows in
about 0.6 s. It writes only what a report needs: text (inline strings), numbers, a bold frozen header row and column
widths. Memory stays bounded whatever the row count: each row is encoded and compressed as it comes. Files written
here are read back with openpyxl in the tests, and open in Excel and WPS.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape  # nosec B406 - escapes text we write; no XML is parsed here

from openpyxl import load_workbook  # type: ignore[import-untyped]
from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

from backend.kit.errors import InvalidInput
from backend.kit.i18n import _

Cell = str | int | float | Decimal | None
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Control characters XML 1.0 cannot carry, dropped (str.translate: this runs for every text cell).
_ILLEGAL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32)])
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def cell_text(value: object) -> str:
    """A cell as text: stripped, and a number Excel stored for a code (a staff number) without its ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _decode_csv(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(_("The CSV file is neither UTF-8 nor GB18030 text. Save it from Excel as CSV and try again."))


def sheet_rows(content: bytes, filename: str, *, unsupported: str) -> Iterator[tuple[int, list[object]]]:
    """The rows of an uploaded .xlsx (first worksheet) or .csv, numbered as the spreadsheet numbers them (from 1).
    Any other file type is refused with `unsupported` (a message naming what the import expects)."""
    name = filename.lower()
    if name.endswith(".csv"):
        text = _decode_csv(content)
        dialect: type[csv.Dialect] | csv.Dialect = csv.excel
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
        except csv.Error:
            pass
        for number, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
            yield number, list(row)
        return
    if name.endswith(".xlsx"):
        try:
            stream = io.BytesIO(content)
            check_expansion(stream)  # before parsing: a decompression bomb is refused in constant memory
            book = load_workbook(stream, read_only=True, data_only=True)
        except WorkbookTooLarge as exc:
            message = _("This workbook expands to more than the portal reads. Split it or save it again.")
            raise InvalidInput(message) from exc
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise InvalidInput(_("This is not a readable Excel (.xlsx) file.")) from exc
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
        book.close()
        return
    raise InvalidInput(unsupported)


# --- reading a sheet by its column names -----------------------------------------------------------------------

# The msgid a missing required header is reported with (`%(columns)s`: the missing names, joined by 、).
MISSING_COLUMNS = _(
    "The first row must name the columns; missing: %(columns)s. Download the template to see the layout."
)


@dataclass(frozen=True)
class Column:
    """A column an import reads, found by its header: `name` (part of the file format, so Chinese in every
    locale) or one of `aliases`. Spaces in a header are ignored."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False


def columns(
    names: Sequence[str], aliases: dict[str, str] | None = None, required: Sequence[str] = ()
) -> tuple[Column, ...]:
    """Columns from their names, a table {alias: name} and the names that are required."""
    aliases = aliases or {}
    return tuple(
        Column(name, tuple(a for a, target in aliases.items() if target == name), required=name in required)
        for name in names
    )


@dataclass(frozen=True)
class Layout:
    """What an import reads and the messages it refuses a file with (each a msgid naming that import's limits)."""

    columns: tuple[Column, ...]
    unsupported: str  # another file type than .xlsx or .csv
    max_bytes: int
    too_large: str
    max_rows: int
    too_many: str
    missing: str = MISSING_COLUMNS


@dataclass(frozen=True)
class NamedRow:
    """A data row: its number as the spreadsheet numbers it, its cells as read and as text, and where each wanted
    column is (a column the file lacks reads as empty)."""

    number: int
    cells: list[object]
    values: list[str]
    positions: dict[str, int]

    def text(self, column: str) -> str:
        index = self.positions.get(column)
        return self.values[index] if index is not None and index < len(self.values) else ""

    def raw(self, column: str) -> object:
        """The cell as the file holds it (an Excel date stays a datetime), None when the row has no such cell."""
        index = self.positions.get(column)
        return self.cells[index] if index is not None and index < len(self.cells) else None

    def has(self, column: str) -> bool:
        """Whether the row reaches this column (the file names it and the row is long enough)."""
        index = self.positions.get(column)
        return index is not None and index < len(self.cells)


def _positions(titles: list[str], columns: tuple[Column, ...]) -> dict[str, int]:
    """Each wanted column's index, by its name or an alias; the first header that names a column wins."""
    wanted = {title.replace(" ", ""): c.name for c in columns for title in (c.name, *c.aliases)}
    positions: dict[str, int] = {}
    for index, title in enumerate(titles):
        name = wanted.get(title.replace(" ", ""))
        if name is not None and name not in positions:
            positions[name] = index
    return positions


def named_rows(content: bytes, filename: str, layout: Layout) -> Iterator[NamedRow]:
    """The data rows of an uploaded sheet, by column name. Blank rows are skipped; the first row that is not blank
    names the columns. Refused (InvalidInput, with the layout's messages): an empty or too large file, another file
    type, an unreadable workbook, a header without a required column, more than `max_rows` data rows."""
    if not content:
        raise InvalidInput(_("The file is empty."))
    if len(content) > layout.max_bytes:
        raise InvalidInput(layout.too_large)
    positions: dict[str, int] | None = None
    count = 0
    for number, cells in sheet_rows(content, filename, unsupported=layout.unsupported):
        values = [cell_text(c) for c in cells]
        if not any(values):
            continue
        if positions is None:
            positions = _positions(values, layout.columns)
            missing = [c.name for c in layout.columns if c.required and c.name not in positions]
            if missing:
                raise InvalidInput(layout.missing, columns="、".join(missing))
            continue
        if count >= layout.max_rows:
            raise InvalidInput(layout.too_many)
        count += 1
        yield NamedRow(number, cells, values, positions)
    if positions is None:
        raise InvalidInput(_("The file is empty."))


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


# --- reading uploaded workbooks safely ------------------------------------------------------------------------------

# An .xlsx is a zip of XML: a few hundred kilobytes can expand to gigabytes (issue 14: a 205 KB roster whose shared
# string expands to 200 MB took the server from 325 MB to 1 GB). Every upload is decompressed once, in chunks,
# counting the real bytes (the sizes a zip declares can lie), before openpyxl parses it: the whole workbook may hold
# at most MAX_UNCOMPRESSED bytes, its shared strings (which openpyxl keeps in memory whole) MAX_SHARED_STRINGS.
MAX_UNCOMPRESSED = 60 * 1024 * 1024
MAX_SHARED_STRINGS = 8 * 1024 * 1024
MAX_ENTRIES = 1000
_CHUNK = 64 * 1024


class WorkbookTooLarge(ValueError):
    """The workbook expands beyond the limits above (a decompression bomb, or simply too large)."""


def check_expansion(stream: IO[bytes]) -> None:
    """Refuses (WorkbookTooLarge) a workbook that expands beyond the limits, in constant memory; zipfile's own
    errors (not a zip) pass through. The stream is rewound for the parser."""
    start = stream.tell()
    with zipfile.ZipFile(stream) as archive:
        entries = archive.infolist()
        if len(entries) > MAX_ENTRIES:
            raise WorkbookTooLarge(f"{len(entries)} entries")
        total = 0
        for entry in entries:
            limit = MAX_SHARED_STRINGS if entry.filename.lower().endswith("sharedstrings.xml") else MAX_UNCOMPRESSED
            size = 0
            with archive.open(entry) as member:
                while chunk := member.read(_CHUNK):
                    size += len(chunk)
                    total += len(chunk)
                    if size > limit or total > MAX_UNCOMPRESSED:
                        raise WorkbookTooLarge(entry.filename)
    stream.seek(start)


def text_not_formulas(workbook: Any) -> None:
    """An openpyxl workbook about to be written: every cell openpyxl took for a formula (text starting with `=`)
    is written as the text it is. User text (a course title, a question) never runs in the reader's Excel."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
