"""Streaming reader for administrator spreadsheets: CSV (UTF-8, UTF-8 with BOM,
CP949 as Korean Excel writes it, UTF-16 "유니코드 텍스트") and XLSX.

Usage::

    with open_table(path_or_binary_file, TRAINEE_COLUMNS) as table:
        table.unknown_headers            # headers not in the alias table
        for line, row in table:          # row: {canonical field: value}
            ...

* The file is never loaded whole: CSV is decoded and parsed incrementally and
  XLSX is read with openpyxl's read-only mode, so memory stays flat at 100k rows.
* ``line`` is the row number Excel would show (first row = 1), blank rows
  included in the count but not yielded, so error reports match the sheet.
* The header row is the first of the first ``HEADER_SCAN_ROWS`` non-blank rows
  that holds every required column; title rows above it ("2019년 교육계획") are skipped.
* Headers match through a documented alias table (``Column``): Korean or English,
  ignoring case, spaces, ``*`` markers and punctuation such as ``()[]_-./·:``.
* CSV cells arrive as stripped ``str``; XLSX cells keep their Excel type
  (numbers, ``datetime`` for date cells).  Empty cells are ``None``.
* Problems with the file as a whole raise ``TabularError`` subclasses that carry
  a stable code and a Korean and English message.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ..domain.errors import LocalizedError

HEADER_SCAN_ROWS = 10
_CHUNK = 1 << 20
_HEADER_NOISE = re.compile(r"[\s*()\[\]_\-./·ㆍ:]+")
_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"

# --- header alias tables -------------------------------------------------------


def header_key(text: object) -> str:
    """'임용(예정)일 *' → '임용예정일'; 'Employee No.' → 'employeeno'."""
    return _HEADER_NOISE.sub("", str(text or "").replace("\ufeff", "")).casefold()


@dataclass(frozen=True)
class Column:
    """A canonical field with the header written on export and accepted aliases."""

    field: str
    header_ko: str
    header_en: str
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class ColumnSet:
    columns: tuple[Column, ...]

    def __post_init__(self) -> None:
        table: dict[str, str] = {}
        for col in self.columns:
            for alias in (col.field, col.header_ko, col.header_en, *col.aliases):
                key = header_key(alias)
                if table.setdefault(key, col.field) != col.field:
                    raise ValueError(f"header alias {alias!r} maps to two fields")
        object.__setattr__(self, "_by_key", table)

    def field_for(self, header: object) -> str | None:
        return self._by_key.get(header_key(header))  # type: ignore[attr-defined]

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(c.field for c in self.columns)


# --- errors --------------------------------------------------------------------


class TabularError(LocalizedError):
    code = "FILE_ERROR"


class UnreadableFile(TabularError):
    code = "FILE_UNREADABLE"


class UnsupportedFormat(TabularError):
    code = "FILE_UNSUPPORTED_FORMAT"


class UnknownEncoding(TabularError):
    code = "FILE_UNKNOWN_ENCODING"


class EmptyFile(TabularError):
    code = "FILE_EMPTY"


class MissingHeaders(TabularError):
    code = "FILE_MISSING_HEADERS"

    def __init__(self, missing: Sequence[Column]) -> None:
        self.missing = tuple(c.field for c in missing)
        super().__init__(
            "필수 열이 없습니다: " + ", ".join(c.header_ko for c in missing)
            + ". 제목 행에 열 이름이 있어야 합니다.",
            "Required columns are missing: " + ", ".join(f"{c.header_en} ({c.header_ko})" for c in missing)
            + ". The header row must name them.",
        )


# --- the table -----------------------------------------------------------------


@dataclass
class Table:
    """An open spreadsheet.  Iterate once; close (or use ``with``) when done."""

    format: str                      # "csv" or "xlsx"
    encoding: str | None             # CSV only: utf-8, utf-8-sig, cp949, utf-16
    header_line: int
    field_by_index: dict[int, str]
    unknown_headers: tuple[str, ...]
    duplicate_headers: tuple[str, ...]
    _records: Iterator[tuple[int, Sequence[Any]]]
    _closers: list[Any] = field(default_factory=list)

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        pairs = tuple(self.field_by_index.items())
        for line, cells in self._records:
            row: dict[str, Any] = {}
            filled = False
            width = len(cells)
            for index, name in pairs:
                value = _clean(cells[index]) if index < width else None
                row[name] = value
                filled = filled or value is not None
            if filled:
                yield line, row

    def close(self) -> None:
        while self._closers:
            self._closers.pop().close()

    def __enter__(self) -> "Table":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def open_table(source: str | os.PathLike[str] | BinaryIO, columns: ColumnSet) -> Table:
    """Open a CSV or XLSX file (path or binary file object) for streaming.

    The format comes from the content (XLSX is a zip), so a misnamed upload
    still works.  A caller-owned stream is left open by ``Table.close``.
    """
    stream, closers = _open_binary(source)
    try:
        head = stream.read(8)
        stream.seek(0)
        if not head:
            raise EmptyFile("빈 파일입니다.", "The file is empty.")
        if head.startswith(_XLS_MAGIC):
            raise UnsupportedFormat(
                "Excel 97-2003(.xls) 형식은 지원하지 않습니다. .xlsx 또는 CSV로 저장해 주세요.",
                "Excel 97-2003 (.xls) files are not supported; save as .xlsx or CSV.")
        if head.startswith(_XLSX_MAGIC):
            return _open_xlsx(stream, columns, closers)
        return _open_csv(stream, columns, closers)
    except BaseException:
        for closer in reversed(closers):
            closer.close()
        raise


def _open_binary(source: str | os.PathLike[str] | BinaryIO) -> tuple[BinaryIO, list[Any]]:
    if isinstance(source, (str, os.PathLike)):
        try:
            handle = open(Path(source), "rb")
        except OSError as exc:
            raise UnreadableFile(f"파일을 열 수 없습니다: {exc.strerror}",
                                 f"The file cannot be opened: {exc.strerror}") from exc
        return handle, [handle]
    if getattr(source, "seekable", lambda: False)():
        return source, []
    # Uploads may be one-way streams; encoding detection needs two passes.
    spooled = tempfile.SpooledTemporaryFile(max_size=8 * _CHUNK)
    shutil.copyfileobj(source, spooled, _CHUNK)
    spooled.seek(0)
    return spooled, [spooled]  # type: ignore[return-value]


# --- CSV -----------------------------------------------------------------------


def detect_encoding(stream: BinaryIO) -> str:
    """utf-8-sig / utf-16 by BOM, else the first of utf-8, cp949 that decodes the
    whole stream (checked incrementally, chunk by chunk).  Leaves the stream at 0."""
    start = stream.read(4)
    stream.seek(0)
    if start.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    else:
        candidates = ["utf-8", "cp949"]
    first_bad: int | None = None
    for encoding in candidates:
        bad_at = _first_undecodable(stream, encoding)
        stream.seek(0)
        if bad_at is None:
            return encoding
        first_bad = bad_at if first_bad is None else first_bad
    line = _line_of_offset(stream, first_bad or 0)
    stream.seek(0)
    raise UnknownEncoding(
        f"파일의 문자 인코딩을 알 수 없습니다({line}행 부근). UTF-8 또는 엑셀의 'CSV (쉼표로 분리)'(CP949)로 "
        f"저장해 주세요.",
        f"Unknown text encoding (near line {line}). Save the file as UTF-8 or as Excel "
        f"'CSV (Comma delimited)' (CP949).")


def _first_undecodable(stream: BinaryIO, encoding: str) -> int | None:
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    while True:
        chunk = stream.read(_CHUNK)
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            return offset + max(exc.start, 0)
        if not chunk:
            return None
        offset += len(chunk)


def _line_of_offset(stream: BinaryIO, offset: int) -> int:
    stream.seek(0)
    return stream.read(offset).count(b"\n") + 1


def _open_csv(stream: BinaryIO, columns: ColumnSet, closers: list[Any]) -> Table:
    encoding = detect_encoding(stream)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    closers.append(_Detach(text))
    sample = text.read(64 * 1024)
    text.seek(0)
    reader = csv.reader(text, delimiter=_sniff_delimiter(sample))
    # Excel shows one row per record (a quoted multi-line cell is one row), so
    # the record index - not the physical line - is what the user sees.
    return _with_header(_csv_records(reader), columns, "csv", encoding, closers)


def _csv_records(reader: Any) -> Iterator[tuple[int, Sequence[Any]]]:
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, cells
    except csv.Error as exc:  # e.g. a cell over the csv field size limit (a runaway quote)
        line = number + 1
        raise UnreadableFile(f"CSV 형식 오류({line}행 부근): {exc}",
                             f"Malformed CSV near line {line}: {exc}") from exc


def _sniff_delimiter(sample: str) -> str:
    first_line = sample.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class _Detach:
    """Close a TextIOWrapper without closing the byte stream under it."""

    def __init__(self, wrapper: io.TextIOWrapper) -> None:
        self.wrapper = wrapper

    def close(self) -> None:
        try:
            self.wrapper.detach()
        except ValueError:
            pass


# --- XLSX ----------------------------------------------------------------------


def _open_xlsx(stream: BinaryIO, columns: ColumnSet, closers: list[Any]) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # zip / XML errors all mean "not a readable workbook"
        raise UnreadableFile("엑셀(.xlsx) 파일을 읽을 수 없습니다. 파일이 손상되었거나 암호가 걸려 있습니다.",
                             f"The .xlsx workbook cannot be read (damaged or encrypted): {exc}") from exc
    closers.append(workbook)
    if not workbook.worksheets:
        raise EmptyFile("시트가 없습니다.", "The workbook has no sheet.")
    sheet = workbook.worksheets[0]
    sheet.reset_dimensions()  # some writers store wrong dimensions; read what is there
    # openpyxl fills missing rows with empty tuples, so enumerate gives Excel's row numbers.
    records = enumerate(sheet.iter_rows(values_only=True), start=1)
    return _with_header(records, columns, "xlsx", None, closers)


# --- header row ----------------------------------------------------------------


def _with_header(records: Iterator[tuple[int, Sequence[Any]]], columns: ColumnSet, fmt: str,
                 encoding: str | None, closers: list[Any]) -> Table:
    required = {c.field for c in columns.required}
    best: tuple[int, Sequence[Any]] | None = None
    scanned = 0
    for line, cells in records:
        if not any(_clean(c) is not None for c in cells):
            continue
        mapped = {columns.field_for(c) for c in cells if _clean(c) is not None} - {None}
        if required <= mapped:
            return _table(line, cells, records, columns, fmt, encoding, closers)
        if best is None or len(mapped) > best[0]:
            best = (len(mapped), cells)
        scanned += 1
        if scanned >= HEADER_SCAN_ROWS:
            break
    if best is None:
        raise EmptyFile("데이터가 없는 빈 파일입니다.", "The file has no rows.")
    found = {columns.field_for(c) for c in best[1] if _clean(c) is not None}
    raise MissingHeaders([c for c in columns.required if c.field not in found])


def _table(line: int, cells: Sequence[Any], records: Iterator[tuple[int, Sequence[Any]]],
           columns: ColumnSet, fmt: str, encoding: str | None, closers: list[Any]) -> Table:
    field_by_index: dict[int, str] = {}
    unknown: list[str] = []
    duplicate: list[str] = []
    for index, cell in enumerate(cells):
        header = _clean(cell)
        if header is None:
            continue
        name = columns.field_for(header)
        if name is None:
            unknown.append(str(header))
        elif name in field_by_index.values():
            duplicate.append(str(header))  # the first such column wins; the caller is told
        else:
            field_by_index[index] = name
    return Table(fmt, encoding, line, field_by_index, tuple(unknown), tuple(duplicate), records, closers)


def iter_rows(source: str | os.PathLike[str] | BinaryIO, columns: ColumnSet) -> Iterator[tuple[int, dict[str, Any]]]:
    """Convenience generator: open, stream every row, close."""
    with open_table(source, columns) as table:
        yield from table
