import io

import pytest

from services.enrollment.adapters.file_formats import PLAN_COLUMNS
from services.enrollment.adapters.plan_export import write_plan_csv, write_plan_xlsx
from services.enrollment.adapters.seed_csv import load_demo_plan
from services.enrollment.adapters.tabular import open_table
from services.enrollment.domain.plan_rows import PLAN_FIELDS, validate_plan_rows


@pytest.fixture(scope="module")
def courses():
    return load_demo_plan().courses


def reimport(source):
    with open_table(source, PLAN_COLUMNS) as table:
        assert table.unknown_headers == () and table.duplicate_headers == ()
        return table, validate_plan_rows(table)


def test_csv_round_trip_is_utf8_bom_with_korean_headers(courses, tmp_path):
    path = tmp_path / "plan.csv"
    rows = write_plan_csv(courses, path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw[3:].decode("utf-8").split("\r\n", 1)[0].split(",")[:3] == ["연도", "과정코드", "과정명"]
    table, result = reimport(path)
    assert table.encoding == "utf-8-sig"
    assert result.ok, result.errors[:3]
    assert result.rows_read == rows == sum(len(c.sessions) for c in courses)
    assert result.courses == courses


def test_xlsx_round_trip(courses, tmp_path):
    path = tmp_path / "plan.xlsx"
    write_plan_xlsx(courses, path)
    table, result = reimport(path)
    assert table.format == "xlsx"
    assert result.ok, result.errors[:3]
    assert result.courses == courses


def test_csv_to_caller_stream_leaves_it_open(courses):
    buffer = io.BytesIO()
    write_plan_csv(courses[:2], buffer)
    assert not buffer.closed
    buffer.seek(0)
    _, result = reimport(buffer)
    assert result.courses == courses[:2]


def test_cp949_copy_of_export_still_imports(courses, tmp_path):
    """What happens when an administrator opens the export in Excel and saves it as CSV."""
    buffer = io.BytesIO()
    write_plan_csv(courses, buffer)
    text = buffer.getvalue().decode("utf-8-sig")
    path = tmp_path / "excel.csv"
    path.write_bytes(text.encode("cp949"))
    table, result = reimport(path)
    assert table.encoding == "cp949" and result.courses == courses


def test_headers_cover_every_field():
    assert set(PLAN_COLUMNS.fields) == set(PLAN_FIELDS)


def test_documented_example_is_valid():
    from pathlib import Path
    doc = (Path(__file__).parents[3] / "docs" / "plan-file-format.md").read_text(encoding="utf-8")
    example = doc.split("```\n")[1]
    _, result = reimport(io.BytesIO(example.encode("utf-8")))
    assert result.ok, result.errors
    assert [(c.code, len(c.sessions)) for c in result.courses] == [("E19-015", 1), ("C19-046", 2)]
    assert result.courses[1].prerequisites == ("E19-015",)
