"""CSV/XLSX exports: BOM, Korean headers, streaming, formula-injection neutralisation, file names."""

import csv
import io
from datetime import date, datetime, timezone
from decimal import Decimal
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from services.reporting.adapters.export import (
    ColumnSpec,
    ExportFormat,
    HeaderStyle,
    content_disposition,
    csv_bytes,
    display_width,
    iter_csv,
    iter_export,
    neutralise,
    report_filename,
    xlsx_bytes,
)
from services.reporting.adapters.report_columns import (
    CHANGE_TYPE_COLUMNS,
    COUNTER_COLUMNS,
    PLAN_VS_ACTUAL_COLUMNS,
    TRAINING_SUMMARY_COLUMNS,
)
from services.reporting.domain.plan_vs_actual import plan_vs_actual_by_year
from services.reporting.domain.rollup import CounterTotals
from services.reporting.domain.training_summary import build_training_summary

COLUMNS = [ColumnSpec("name", "과정명", "Course"), ColumnSpec("seats", "인원", "Seats", "#,##0")]
HOSTILE = ["=1+1", "+82-10-1234-5678", "-SUM(A1)", "@cmd", "\tTAB", "\rCR", "＝HYPERLINK(1)"]


def _read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_starts_with_bom_and_korean_headers() -> None:
    data = csv_bytes(COLUMNS, [{"name": "서울이해", "seats": 60}])
    assert data.startswith(b"\xef\xbb\xbf")
    assert data[3:].decode("utf-8").startswith("과정명 (Course),인원 (Seats)\r\n")
    assert _read_csv(data) == [["과정명 (Course)", "인원 (Seats)"], ["서울이해", "60"]]
    assert _read_csv(csv_bytes(COLUMNS, [], header_style=HeaderStyle.KO)) == [["과정명", "인원"]]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_csv_neutralises_formulas(hostile: str) -> None:
    rows = _read_csv(csv_bytes(COLUMNS, [{"name": hostile, "seats": -5}]))
    assert rows[1] == ["'" + hostile, "-5"]  # the text is escaped, the negative number is not


def test_neutralise_leaves_numbers_and_harmless_text() -> None:
    assert neutralise(-5) == -5 and neutralise(Decimal("-1.5")) == Decimal("-1.5")
    assert neutralise("서울 = Seoul") == "서울 = Seoul"
    assert neutralise("") == "" and neutralise(None) is None
    assert neutralise("-5") == "'-5"  # a number passed as text is text


def test_csv_streams_in_chunks_and_accepts_objects() -> None:
    rows = ({"name": f"과정{i}", "seats": i} for i in range(5_000))
    chunks = list(iter_csv(COLUMNS, rows, chunk_size=4_096))
    assert len(chunks) > 10 and chunks[0].startswith(b"\xef\xbb\xbf")
    assert sum(c.count(b"\xef\xbb\xbf") for c in chunks) == 1
    assert len(_read_csv(b"".join(chunks))) == 5_001

    class Course:
        name, seats = "e-빅데이터의 이해", None

    assert _read_csv(csv_bytes(COLUMNS, [Course()]))[1] == ["e-빅데이터의 이해", ""]


def test_csv_formats_dates_enums_and_aware_datetimes_in_seoul_time() -> None:
    columns = [ColumnSpec("at", "시각", "At"), ColumnSpec("fmt", "형식", "Format")]
    at = datetime(2019, 3, 4, 0, 30, tzinfo=timezone.utc)
    assert _read_csv(csv_bytes(columns, [{"at": at, "fmt": ExportFormat.CSV}]))[1] == ["2019-03-04T09:30:00", "csv"]
    assert _read_csv(csv_bytes(columns, [{"at": date(2019, 9, 2)}]))[1] == ["2019-09-02", ""]


def test_xlsx_reads_back_with_bold_header_widths_and_neutralised_text() -> None:
    rows = [{"name": h, "seats": -5} for h in HOSTILE] + [{"name": "빅데이터 분석 실무(시각화 및 탐색중심)", "seats": 198_999}]
    rows.append({"name": "bad\x00control\x1fchars", "seats": Decimal("1.5")})
    data = xlsx_bytes(COLUMNS, rows, sheet_title="계획/실적 2019")
    sheet = load_workbook(io.BytesIO(data))["계획_실적 2019"]
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[0] == ["과정명 (Course)", "인원 (Seats)"]
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"
    # XML parsers read a stored CR back as LF; the escape is what matters here.
    assert [v[0] for v in values[1:8]] == ["'" + h.replace("\r", "\n") for h in HOSTILE]
    assert all(v[1] == -5 and isinstance(v[1], int) for v in values[1:8])
    assert all(sheet.cell(row=r, column=1).data_type == "s" for r in range(2, 9))
    assert values[8] == ["빅데이터 분석 실무(시각화 및 탐색중심)", 198_999]
    assert sheet["B9"].number_format == "#,##0"
    assert values[9] == ["badcontrolchars", 1.5]
    width_a = sheet.column_dimensions["A"].width
    assert width_a == display_width("빅데이터 분석 실무(시각화 및 탐색중심)") + 2


def test_xlsx_streaming_entry_point_and_empty_report() -> None:
    data = b"".join(iter_export("xlsx", COLUMNS, iter([])))
    sheet = load_workbook(io.BytesIO(data)).active
    assert [[c.value for c in r] for r in sheet.iter_rows()] == [["과정명 (Course)", "인원 (Seats)"]]
    assert b"".join(iter_export(ExportFormat.CSV, COLUMNS, [])).startswith(b"\xef\xbb\xbf")
    assert ExportFormat.XLSX.media_type.endswith("spreadsheetml.sheet")


def test_report_column_sets_export_the_domain_rows(plan_2019) -> None:
    summary = build_training_summary(plan_2019, 2019)
    book = load_workbook(io.BytesIO(xlsx_bytes(TRAINING_SUMMARY_COLUMNS, summary.as_rows())))
    values = [[c.value for c in r] for r in book.active.iter_rows()]
    assert values[3][1:5] == ["계", 239, 198_999, 239] and values[3][-1] == 30_649
    assert _read_csv(csv_bytes(CHANGE_TYPE_COLUMNS, summary.change_type_rows()))[1][1:] == ["신설", "22", "24", "46"]
    history = _read_csv(csv_bytes(PLAN_VS_ACTUAL_COLUMNS, [l.as_row() for l in plan_vs_actual_by_year([], {})]))
    assert history[0][3] == "계획(명) (Planned)"
    assert history[1][:6] == ["2017", "2017", "2017년", "161820", "206820", "127.8"]
    totals = CounterTotals(enrolled=4, attended=3, completed=2, failed=1, no_show=1)
    counters = _read_csv(csv_bytes(COUNTER_COLUMNS, [totals.as_row()]))
    assert dict(zip(counters[0], counters[1]))["수료율(%) (Completion rate (%))"] == "50.0"


def test_filename_and_rfc5987_content_disposition() -> None:
    name = report_filename("교육훈련 총괄표 2019", "xlsx", on=date(2019, 3, 15))
    assert name == "교육훈련_총괄표_2019_2019-03-15.xlsx"
    header = content_disposition(name)
    assert header.startswith('attachment; filename="report_2019_2019-03-15.xlsx"; filename*=UTF-8\'\'')
    assert unquote(header.split("UTF-8''", 1)[1]) == name
    english = content_disposition(name, ascii_fallback=report_filename("training-summary", "xlsx", on=date(2019, 3, 15)))
    assert 'filename="training-summary_2019-03-15.xlsx"' in english
    # no header injection or path traversal through a report name
    evil = content_disposition(report_filename('../x"\r\nSet-Cookie: a=b', ExportFormat.CSV, on=date(2019, 1, 1)))
    assert "\r" not in evil and "\n" not in evil and "/" not in evil.split("filename*")[0]
    assert evil.count('"') == 2
    assert report_filename("", "csv", on=date(2019, 1, 1)) == "report_2019-01-01.csv"
