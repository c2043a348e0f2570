"""Report downloads as CSV and XLSX, with Korean headers and formula-injection neutralisation.

Any report is a list of ``ColumnSpec`` (Korean header, English header, row key) and an iterable of
rows (mappings, or objects with those attributes). Both writers stream: CSV as byte chunks, XLSX
through openpyxl's write-only mode into a spooled temporary file.

Formula injection (OWASP "CSV Injection"): a text cell that starts with ``= + - @``, TAB or CR is
run as a formula by spreadsheet programs, so such strings get a leading apostrophe. The full-width
forms (＝ ＋ － ＠) are treated the same, because Korean IMEs produce them and some spreadsheet
programs normalise them. Numbers are never touched: a real −5 stays the number −5; a *string*
"-5" is escaped, so pass numbers as numbers.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from itertools import chain, islice
from typing import BinaryIO
from urllib.parse import quote
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

SEOUL = ZoneInfo("Asia/Seoul")
UTF8_BOM = "\ufeff"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
XLSX_MAX_CELL_CHARS = 32_767  # Excel's limit for one cell
XLSX_MAX_COLUMN_WIDTH = 60
_WIDTH_SAMPLE_ROWS = 200  # rows buffered to size columns; the rest streams


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"

    @property
    def media_type(self) -> str:
        if self is ExportFormat.CSV:
            return "text/csv; charset=utf-8"
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    @property
    def extension(self) -> str:
        return f".{self.value}"


class HeaderStyle(StrEnum):
    KO_EN = "ko_en"  # "과정 수 (Courses)": Korean first, English for the non-Korean reader
    KO = "ko"
    EN = "en"


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    key: str
    header_ko: str
    header_en: str
    number_format: str | None = None  # XLSX only, e.g. "#,##0" or "0.0"
    width: float | None = None  # XLSX width in characters; None = sized from header and first rows

    def header(self, style: HeaderStyle = HeaderStyle.KO_EN) -> str:
        if style is HeaderStyle.KO:
            return self.header_ko
        if style is HeaderStyle.EN:
            return self.header_en
        return f"{self.header_ko} ({self.header_en})" if self.header_en else self.header_ko


Row = Mapping[str, object] | object


def neutralise(value: object) -> object:
    """Prefix an apostrophe to a string a spreadsheet would run as a formula; leave the rest alone."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _get(row: Row, key: str) -> object:
    if isinstance(row, Mapping):
        return row.get(key)
    return getattr(row, key, None)


def _plain(value: object) -> object:
    """Enums to their value; aware datetimes to Seoul wall time (spreadsheets have no time zones)."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(SEOUL).replace(tzinfo=None)
    return value


def _csv_text(value: object) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)):  # bool included: a number to spreadsheets
        return str(value)
    return str(neutralise(str(value)))


def iter_csv(
    columns: Sequence[ColumnSpec],
    rows: Iterable[Row],
    *,
    header_style: HeaderStyle = HeaderStyle.KO_EN,
    chunk_size: int = 64 * 1024,
) -> Iterator[bytes]:
    """CSV as UTF-8 byte chunks; the first chunk starts with the BOM so Korean Excel reads UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(UTF8_BOM)
    writer.writerow([str(neutralise(c.header(header_style))) for c in columns])
    for row in rows:
        writer.writerow([_csv_text(_get(row, c.key)) for c in columns])
        if buffer.tell() >= chunk_size:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def csv_bytes(columns: Sequence[ColumnSpec], rows: Iterable[Row], **options: object) -> bytes:
    return b"".join(iter_csv(columns, rows, **options))  # type: ignore[arg-type]


def _xlsx_value(value: object) -> object:
    value = _plain(value)
    if value is None or isinstance(value, (bool, int, float, Decimal, date, datetime)):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))[:XLSX_MAX_CELL_CHARS]
    return neutralise(text)


def display_width(text: str) -> int:
    """Width in Latin character cells: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _column_widths(columns: Sequence[ColumnSpec], headers: list[str], sample: list[Row]) -> list[float]:
    widths = []
    for column, header in zip(columns, headers):
        if column.width is not None:
            widths.append(column.width)
            continue
        longest = max(
            [display_width(header)] + [display_width(_csv_text(_get(row, column.key))) for row in sample]
        )
        widths.append(min(longest + 2, XLSX_MAX_COLUMN_WIDTH))
    return widths


def safe_sheet_title(title: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\ ."""
    cleaned = re.sub(r"[\[\]:*?/\\]", "_", title).strip("'") or "Sheet1"
    return cleaned[:31]


def write_xlsx(
    columns: Sequence[ColumnSpec],
    rows: Iterable[Row],
    target: BinaryIO,
    *,
    sheet_title: str = "보고서",
    header_style: HeaderStyle = HeaderStyle.KO_EN,
) -> None:
    """Write one sheet: bold frozen header row, sized columns, number formats from the specs."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(safe_sheet_title(sheet_title))
    headers = [c.header(header_style) for c in columns]

    row_iter = iter(rows)
    sample = list(islice(row_iter, _WIDTH_SAMPLE_ROWS))
    for index, width in enumerate(_column_widths(columns, headers, sample), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"

    bold, centred = Font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=_xlsx_value(header))
        cell.font, cell.alignment = bold, centred
        header_cells.append(cell)
    sheet.append(header_cells)

    formatted = [c.number_format for c in columns]
    if any(formatted):
        for row in chain(sample, row_iter):
            values = []
            for column, fmt in zip(columns, formatted):
                value = _xlsx_value(_get(row, column.key))
                if fmt and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.number_format = fmt
                    value = cell
                values.append(value)
            sheet.append(values)
    else:
        for row in chain(sample, row_iter):
            sheet.append([_xlsx_value(_get(row, c.key)) for c in columns])
    workbook.save(target)


def xlsx_bytes(columns: Sequence[ColumnSpec], rows: Iterable[Row], **options: object) -> bytes:
    out = io.BytesIO()
    write_xlsx(columns, rows, out, **options)  # type: ignore[arg-type]
    return out.getvalue()


def iter_xlsx(
    columns: Sequence[ColumnSpec], rows: Iterable[Row], *, chunk_size: int = 256 * 1024, **options: object
) -> Iterator[bytes]:
    """XLSX as byte chunks; spooled to disk past 16 MiB so a large report does not sit in memory."""
    with tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024) as spool:
        write_xlsx(columns, rows, spool, **options)  # type: ignore[arg-type]
        spool.seek(0)
        while chunk := spool.read(chunk_size):
            yield chunk


def iter_export(
    fmt: ExportFormat | str,
    columns: Sequence[ColumnSpec],
    rows: Iterable[Row],
    *,
    sheet_title: str = "보고서",
    header_style: HeaderStyle = HeaderStyle.KO_EN,
) -> Iterator[bytes]:
    """One entry point for a download response body, e.g. ``Response(iter_export(...), mimetype=fmt.media_type)``."""
    fmt = ExportFormat(fmt)
    if fmt is ExportFormat.CSV:
        return iter_csv(columns, rows, header_style=header_style)
    return iter_xlsx(columns, rows, sheet_title=sheet_title, header_style=header_style)


# --- download file names --------------------------------------------------------------------------

_UNSAFE_IN_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f;]+|\s+')


def report_filename(report_name: str, fmt: ExportFormat | str, *, on: date | None = None) -> str:
    """``{report name}_{YYYY-MM-DD}.{ext}``, e.g. ``교육훈련총괄표_2019_2019-03-15.xlsx`` (date in Seoul)."""
    day = on or datetime.now(SEOUL).date()
    stem = _UNSAFE_IN_FILENAME.sub("_", report_name).strip("._") or "report"
    return f"{stem}_{day.isoformat()}{ExportFormat(fmt).extension}"


def _ascii_fallback(filename: str) -> str:
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename)
    stem, dot, ext = ascii_name.rpartition(".")
    if not dot:
        stem, ext = ascii_name, ""
    stem = stem.strip("_")
    if not re.search(r"[A-Za-z]", stem):
        stem = f"report_{stem}" if stem else "report"
    return f"{stem}.{ext}" if ext else stem


def content_disposition(filename: str, *, ascii_fallback: str | None = None) -> str:
    """``attachment`` header with an ASCII ``filename`` for old clients and RFC 5987 ``filename*``."""
    filename = _UNSAFE_IN_FILENAME.sub("_", filename)  # no CR/LF/quotes: header injection
    fallback = _ascii_fallback(ascii_fallback or filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
