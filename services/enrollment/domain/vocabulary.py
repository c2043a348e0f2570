"""Grade (직급), job series (직렬) and organisation vocabularies with normalisation.

Grades
    Canonical set ``GRADES``: 1급 … 9급, 연구관, 연구사, 지도관, 지도사,
    전문경력관, 임기제, 실무관.  ``normalise_grade`` accepts:

    * a number or "N급" anywhere in the text: "7", "7급", "행정7급", "지방행정주사보(7급)";
    * rank titles (직급명): 관리관 1급, 이사관 2급, 부이사관 3급, 서기관 4급,
      사무관 5급, 주사 6급, 주사보 7급, 서기 8급, 서기보 9급, with any series
      prefix ("행정주사보" → 7급, "시설사무관" → 5급);
    * "Grade 7" / "G7";
    * 연구관/연구사/지도관/지도사/전문경력관/실무관 by name, and every kind of
      임기제 ("일반임기제 6호", "시간선택제임기제") as 임기제.

    A course's target list may also use ranges: "7~9급", "3급·4급", "5급 이상"
    is *not* supported (write the grades).

Job series
    Free vocabulary (Seoul has many series); normalisation strips spaces and a
    trailing "직"/"직렬"/"직류" ("행정직" → "행정").  A course may target a group:
    "행정직군" or "기술직군" (see ``JOB_SERIES_GROUPS``).

Organisation type
    Taken from an explicit type column when present, else inferred from the
    organisation name: the 25 autonomous districts → district; a name starting
    with 서울특별시/서울시 (or 본청) → city_hq.  Anything else needs the column.
"""
from __future__ import annotations

import re

from .model import OrganisationType

NUMBERED_GRADES: tuple[str, ...] = tuple(f"{n}급" for n in range(1, 10))
SPECIAL_GRADES: tuple[str, ...] = ("연구관", "연구사", "지도관", "지도사", "전문경력관", "임기제", "실무관")
GRADES: frozenset[str] = frozenset(NUMBERED_GRADES + SPECIAL_GRADES)

# Longest titles first so that 주사보 is not read as 주사, 부이사관 not as 이사관.
_RANK_TITLES: tuple[tuple[str, str], ...] = (
    ("부이사관", "3급"), ("이사관", "2급"), ("관리관", "1급"), ("서기관", "4급"),
    ("사무관", "5급"), ("주사보", "7급"), ("주사", "6급"), ("서기보", "9급"), ("서기", "8급"),
)
_NUMBER_GRADE = re.compile(r"(?<!\d)([1-9])\s*급")
_BARE_NUMBER = re.compile(r"^(?:grade|g)?\s*([1-9])(?:\.0)?$", re.IGNORECASE)
_GRADE_RANGE = re.compile(r"^([1-9])\s*급?\s*[~∼\-]\s*([1-9])\s*급?$")


def normalise_grade(text: object) -> str | None:
    """Return the canonical grade for ``text`` or None when it is not recognised."""
    if text is None:
        return None
    raw = str(text).strip()
    if not raw:
        return None
    compact = re.sub(r"\s+", "", raw)
    if "임기제" in compact:
        return "임기제"
    for special in SPECIAL_GRADES:
        if special in compact:
            return special
    match = _NUMBER_GRADE.search(compact) or _BARE_NUMBER.match(compact)
    if match:
        return f"{match.group(1)}급"
    for title, grade in _RANK_TITLES:
        if title in compact:
            return grade
    return None


def parse_grade_targets(text: object) -> tuple[frozenset[str], list[str]]:
    """Parse a course's target grades ("7~9급, 임기제") into (grades, unknown items)."""
    grades: set[str] = set()
    unknown: list[str] = []
    for item in split_list(text):
        span = _GRADE_RANGE.match(re.sub(r"\s+", "", item))
        if span:
            low, high = sorted((int(span.group(1)), int(span.group(2))))
            grades.update(f"{n}급" for n in range(low, high + 1))
            continue
        grade = normalise_grade(item)
        if grade is None:
            unknown.append(item)
        else:
            grades.add(grade)
    return frozenset(grades), unknown


JOB_SERIES_GROUPS: dict[str, frozenset[str]] = {
    "행정직군": frozenset({"행정", "세무", "전산", "사회복지", "사서", "속기", "방호", "교육행정"}),
    "기술직군": frozenset({"공업", "기계", "전기", "화공", "농업", "녹지", "조경", "보건", "식품위생",
                       "의료기술", "간호", "환경", "시설", "토목", "건축", "지적", "방송통신",
                       "통신", "해양수산", "운전", "위생"}),
}
_SERIES_SUFFIX = re.compile(r"(?:직렬|직류|직)$")


def normalise_job_series(text: object) -> str:
    """'행정직' → '행정', ' 토목 직렬 ' → '토목'; group names are kept ('행정직군')."""
    if text is None:
        return ""
    compact = re.sub(r"\s+", "", str(text))
    if compact in JOB_SERIES_GROUPS:
        return compact
    return _SERIES_SUFFIX.sub("", compact)


def job_series_matches(targets: frozenset[str], series: str) -> bool:
    """True when ``series`` is one of ``targets`` or belongs to a targeted group."""
    if not targets:
        return True
    series = normalise_job_series(series)
    if series in targets:
        return True
    return any(series in JOB_SERIES_GROUPS.get(t, ()) for t in targets)


SEOUL_DISTRICTS: tuple[str, ...] = (
    "종로구", "중구", "용산구", "성동구", "광진구", "동대문구", "중랑구", "성북구", "강북구",
    "도봉구", "노원구", "은평구", "서대문구", "마포구", "양천구", "강서구", "구로구", "금천구",
    "영등포구", "동작구", "관악구", "서초구", "강남구", "송파구", "강동구",
)
_CITY_PREFIXES = ("서울특별시", "서울시", "본청")


def infer_organisation_type(organisation: str) -> OrganisationType | None:
    """Best guess from the organisation name; None when the name does not tell."""
    words = organisation.split()
    if not words:
        return None
    # "서울특별시 종로구 총무과" is a district, "서울특별시 행정국" is the city.
    rest = words[1:] if words[0] in _CITY_PREFIXES else words
    if rest and rest[0] in SEOUL_DISTRICTS:
        return OrganisationType.DISTRICT
    if words[0] in SEOUL_DISTRICTS or (words[0].endswith("구청") and words[0][:-1] in SEOUL_DISTRICTS):
        return OrganisationType.DISTRICT
    if words[0] in _CITY_PREFIXES or organisation.startswith(_CITY_PREFIXES):
        return OrganisationType.CITY_HQ
    return None


_LIST_SEPARATORS = re.compile(r"[,;/\n·ㆍ]+")
_LIST_SEPARATORS_NO_DOT = re.compile(r"[,;\n]+")


def split_list(text: object, *, middle_dot: bool = True) -> list[str]:
    """Split a multi-value cell: "7급, 8급; 9급" / "3급·4급" → items, blanks removed.

    Pass ``middle_dot=False`` for values whose names contain '·' (투자·출연기관).
    """
    if text is None:
        return []
    pattern = _LIST_SEPARATORS if middle_dot else _LIST_SEPARATORS_NO_DOT
    return [item.strip() for item in pattern.split(str(text)) if item.strip()]
