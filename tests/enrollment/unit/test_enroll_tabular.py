import io
import time
import tracemalloc
from datetime import datetime

import pytest
from openpyxl import Workbook

from services.enrollment.adapters.file_formats import PLAN_COLUMNS, TRAINEE_COLUMNS
from services.enrollment.adapters.tabular import (
    EmptyFile, MissingHeaders, UnknownEncoding, UnreadableFile, UnsupportedFormat, open_table,
)

TRAINEE_CSV = (
    "사번,성명,소속,직급,직렬,휴대전화,비고란\r\n"
    "1001,김서울,종로구,7급,행정,010-1234-5678,메모\r\n"
    ",,,,,,\r\n"
    '1002,"이한강",서울특별시 행정국,8급,"토목",01098765432,"여러\n줄"\r\n'
    "1003,박남산,중구,9급,전산,,\r\n"
)


def read_all(data: bytes, columns=TRAINEE_COLUMNS):
    with open_table(io.BytesIO(data), columns) as table:
        return table, list(table)


@pytest.mark.parametrize("encoding,expected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp949", "cp949"), ("utf-16", "utf-16"),
])
def test_csv_encodings_give_the_same_rows(encoding, expected):
    table, rows = read_all(TRAINEE_CSV.encode(encoding))
    assert table.encoding == expected and table.format == "csv"
    assert [line for line, _ in rows] == [2, 4, 5]  # blank row 3 skipped but counted
    assert rows[0][1]["name"] == "김서울" and rows[0][1]["employee_no"] == "1001"
    assert rows[1][1]["organisation"] == "서울특별시 행정국"
    assert rows[2][1]["mobile"] is None  # empty cell → None
    assert table.unknown_headers == ("비고란",)


def test_cp949_detected_even_when_first_megabyte_is_ascii():
    filler = "".join(f"{n},Kim,Jongno-gu,7,admin\r\n" for n in range(60_000))  # > 1 MiB of ASCII
    data = ("사번,성명,소속,직급,직렬\r\n" + filler + "99999,홍길동,종로구,7급,행정\r\n").encode("cp949")
    with open_table(io.BytesIO(data), TRAINEE_COLUMNS) as table:
        assert table.encoding == "cp949"
        *_, (line, last) = table
    assert last["name"] == "홍길동" and line == 60_002


def test_unknown_encoding_is_a_clear_error():
    data = "사번,성명,소속,직급\r\n1,a,b,7급\r\n".encode("utf-8") + b"\xff\xfe\xff\x00bad\r\n"
    with pytest.raises(UnknownEncoding) as exc:
        read_all(b"x" + data)
    assert exc.value.code == "FILE_UNKNOWN_ENCODING"
    assert "인코딩" in exc.value.message_ko and "line 3" in exc.value.message_en


def test_english_and_alias_headers_title_rows_and_tabs():
    data = ("2019년 신규임용자 명단\t\t\t\n\t\t\t\n"
            "Employee No.\tFull Name\t소속기관\t직급명 *\t임용(예정)일\n"
            "A-1\tKim\t강남구\t서기보\t2019.03.04\n").encode("utf-8")
    table, rows = read_all(data)
    assert table.header_line == 3
    assert rows == [(4, {"employee_no": "A-1", "name": "Kim", "organisation": "강남구",
                         "grade": "서기보", "appointment_date": "2019.03.04"})]


def test_missing_required_headers_named_in_both_languages():
    with pytest.raises(MissingHeaders) as exc:
        read_all("사번,이름,부서\r\n1,김,총무과\r\n".encode("utf-8"))
    assert set(exc.value.missing) == {"organisation", "grade"}
    assert "소속" in exc.value.message_ko and "Grade" in exc.value.message_en


def test_duplicate_headers_first_wins():
    table, rows = read_all("사번,성명,소속,직급,이름\r\n1,김,종로구,7급,박\r\n".encode())
    assert table.duplicate_headers == ("이름",) and rows[0][1]["name"] == "김"


def test_empty_unreadable_and_legacy_files(tmp_path):
    with pytest.raises(EmptyFile):
        read_all(b"")
    with pytest.raises(EmptyFile):
        read_all(b"\r\n\r\n")
    with pytest.raises(UnsupportedFormat):
        read_all(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(UnreadableFile):
        read_all(b"PK\x03\x04 not really a zip")
    with pytest.raises(UnreadableFile) as exc:
        open_table(tmp_path / "missing.csv", TRAINEE_COLUMNS)
    assert exc.value.message_ko.startswith("파일을 열 수 없습니다")


def test_non_seekable_stream_is_spooled():
    class OneWay(io.RawIOBase):
        def __init__(self, data):
            self._inner = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            chunk = self._inner.read(len(b))
            b[:len(chunk)] = chunk
            return len(chunk)

    with open_table(OneWay(TRAINEE_CSV.encode("cp949")), TRAINEE_COLUMNS) as table:
        assert len(list(table)) == 3


def test_caller_stream_left_open():
    stream = io.BytesIO(TRAINEE_CSV.encode())
    with open_table(stream, TRAINEE_COLUMNS) as table:
        list(table)
    assert not stream.closed


def test_xlsx_keeps_cell_types_and_row_numbers(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["교육생 명단"])
    ws.append(["사번", "성명", "소속", "직급", "임용예정일", "휴대전화"])
    ws.append([1001, "김서울", "종로구", "7급", datetime(2019, 3, 4), 1012345678])
    ws.append([None, None, None, None, None, None])
    ws.append([1002, "이한강", "중구", 8, "2019/3/4", "010-1111-2222"])
    path = tmp_path / "t.xlsx"
    wb.save(path)
    with open_table(path, TRAINEE_COLUMNS) as table:
        assert table.format == "xlsx" and table.header_line == 2
        rows = list(table)
    assert [line for line, _ in rows] == [3, 5]
    assert rows[0][1]["appointment_date"] == datetime(2019, 3, 4)
    assert rows[0][1]["employee_no"] == 1001 and rows[1][1]["grade"] == 8


def test_misnamed_xlsx_detected_by_content(tmp_path):
    wb = Workbook()
    wb.active.append(["사번", "성명", "소속", "직급"])
    wb.active.append(["1", "김", "종로구", "7급"])
    path = tmp_path / "really-xlsx.csv"
    wb.save(path)
    with open_table(path, TRAINEE_COLUMNS) as table:
        assert table.format == "xlsx" and len(list(table)) == 1


def test_plan_headers_in_english():
    data = "Year,Course code,Course name,Delivery,Competency area,Change status\r\n2019,C1,x,집합,직무,신설\r\n"
    table, rows = read_all(data.encode(), PLAN_COLUMNS)
    assert rows[0][1]["course_code"] == "C1" and rows[0][1]["status"] == "신설"


def test_100k_rows_stream_fast_with_flat_memory(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="cp949", newline="") as f:
        f.write("사번,성명,소속,부서,직급,직렬,이메일,휴대전화,임용예정일\r\n")
        for n in range(100_000):
            f.write(f"{n:08d},홍길동{n % 100},종로구,총무과,7급,행정,u{n}@seoul.go.kr,010-1234-{n % 10000:04d},2019-03-04\r\n")
    tracemalloc.start()
    started = time.perf_counter()
    count = 0
    with open_table(path, TRAINEE_COLUMNS) as table:
        for _line, _row in table:
            count += 1
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 100_000
    assert peak < 8 * 1024 * 1024, peak  # the file is ~9 MB; we never hold it
    assert elapsed < 10, elapsed


def test_malformed_csv_reported_with_line():
    data = ("사번,성명,소속,직급\r\n1,김,종로구,7급\r\n2,\"" + "가" * 200_000 + "\",중구,8급\r\n").encode()
    with pytest.raises(UnreadableFile) as exc:
        read_all(data)
    assert "3행" in exc.value.message_ko and exc.value.code == "FILE_UNREADABLE"
