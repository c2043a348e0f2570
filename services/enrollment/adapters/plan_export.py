"""Write a plan in the layout the importer reads (one row per session).

CSV is UTF-8 with BOM so that Korean Excel opens it without garbling; XLSX
uses real date cells.  Headers are Korean (``PLAN_FIELDS``).
"""
from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from datetime import date
from typing import Any, BinaryIO

from ..domain.model import Course
from ..domain.plan_rows import PLAN_FIELDS, plan_rows_for_export

_FIELDS = tuple(PLAN_FIELDS)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_plan_csv(courses: Iterable[Course], dest: str | os.PathLike[str] | BinaryIO) -> int:
    """Write CSV (UTF-8 with BOM, CRLF as Excel expects); returns the number of data rows."""
    if isinstance(dest, (str, os.PathLike)):
        with open(dest, "wb") as handle:
            return write_plan_csv(courses, handle)
    text = io.TextIOWrapper(dest, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(PLAN_FIELDS[f][0] for f in _FIELDS)
        count = 0
        for row in plan_rows_for_export(courses):
            writer.writerow(_csv_cell(row[f]) for f in _FIELDS)
            count += 1
        text.flush()
        return count
    finally:
        text.detach()  # leave the caller's stream open


def write_plan_xlsx(courses: Iterable[Course], dest: str | os.PathLike[str] | BinaryIO,
                    sheet_title: str = "교육계획") -> int:
    """Write an XLSX workbook (write-only mode, streaming); returns the data row count."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    bold = Font(bold=True)
    header = []
    for f in _FIELDS:
        cell = WriteOnlyCell(sheet, value=PLAN_FIELDS[f][0])
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in plan_rows_for_export(courses):
        cells = []
        for f in _FIELDS:
            value = row[f]
            cell = WriteOnlyCell(sheet, value=None if value == "" else value)
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
        count += 1
    workbook.save(dest)
    return count
