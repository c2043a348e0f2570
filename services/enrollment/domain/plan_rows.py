"""Validation of an annual-plan file (연간 교육계획) and its inverse for export.

File layout — one row per session (회차), course columns repeated
-----------------------------------------------------------------
This is what an administrator gets from a list in Excel: each row is one
session with the course it belongs to written on the same row.

* Course columns: 연도, 과정코드, 과정명, 영문과정명, 교육방식 (집합/이러닝),
  역량구분 (기본역량/리더십역량/직무역량/IT역량), 변경구분 (신설/개선/계속/통합/폐지),
  대상직급 ("7~9급, 임기제"), 대상직렬 ("기계, 전기" or "기술직군"), 대상기관
  ("자치구, 시 본청"), 교육일수, 교육시간, 선수과정 (e-learning course codes),
  계획회차, 계획인원, 비고.
* Session columns: 회차, 교육시작일, 교육종료일, 정원, 교육장소, 신청시작일, 신청마감일.
* Rows with the same 과정코드 form one course.  On the second and later rows the
  course cells may be left blank (Excel merged cells export that way); cells
  that are filled must agree with the course's first row.
* A row with a blank 과정코드 continues the course of the row above it.
* A course row without session cells declares a course whose sessions are not
  scheduled yet; it then needs 계획회차 and 계획인원.
* 회차 blank → numbered after the course's previous session.
* 계획회차/계획인원 may be left blank when sessions are listed (they are
  computed); when filled they must equal the session count / capacity sum.
* Multi-value cells are separated by commas (or ; / and · for grades).

The whole file is validated: every problem of every row is reported with its
line, and no course is returned unless the file is clean.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .errors import RowError
from .model import CompetencyArea, Course, CourseStatus, Delivery, OrganisationType, Session
from .values import cell_text, is_blank, parse_date, parse_int
from .vocabulary import NUMBERED_GRADES, SPECIAL_GRADES, normalise_job_series, parse_grade_targets, split_list

# canonical field → (Korean header, English header).  Adapters build the header
# alias table from this, so file headers and error messages use the same words.
PLAN_FIELDS: dict[str, tuple[str, str]] = {
    "year": ("연도", "Year"),
    "course_code": ("과정코드", "Course code"),
    "name_ko": ("과정명", "Course name"),
    "name_en": ("영문과정명", "Course name (English)"),
    "delivery": ("교육방식", "Delivery"),
    "area": ("역량구분", "Competency area"),
    "status": ("변경구분", "Change status"),
    "target_grades": ("대상직급", "Target grades"),
    "target_job_series": ("대상직렬", "Target job series"),
    "target_organisations": ("대상기관", "Target organisations"),
    "duration_days": ("교육일수", "Days"),
    "duration_hours": ("교육시간", "Hours"),
    "prerequisites": ("선수과정", "Prerequisite courses"),
    "planned_sessions": ("계획회차", "Planned sessions"),
    "planned_seats": ("계획인원", "Planned seats"),
    "session_no": ("회차", "Session"),
    "start_date": ("교육시작일", "Start date"),
    "end_date": ("교육종료일", "End date"),
    "capacity": ("정원", "Capacity"),
    "venue": ("교육장소", "Venue"),
    "enrollment_opens": ("신청시작일", "Enrollment opens"),
    "enrollment_closes": ("신청마감일", "Enrollment closes"),
    "notes": ("비고", "Notes"),
}
PLAN_REQUIRED_FIELDS: tuple[str, ...] = ("year", "course_code", "name_ko", "delivery", "area", "status")
COURSE_FIELDS: tuple[str, ...] = (
    "year", "name_ko", "name_en", "delivery", "area", "status", "target_grades", "target_job_series",
    "target_organisations", "duration_days", "duration_hours", "prerequisites", "planned_sessions",
    "planned_seats", "notes",
)
SESSION_FIELDS: tuple[str, ...] = (
    "session_no", "start_date", "end_date", "capacity", "venue", "enrollment_opens", "enrollment_closes",
)
_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_GRADE_ORDER = {g: i for i, g in enumerate(NUMBERED_GRADES + SPECIAL_GRADES)}


class _Bad(ValueError):
    """A cell problem with both texts ready."""

    def __init__(self, ko: str, en: str) -> None:
        super().__init__(en)
        self.ko, self.en = ko, en


# --- cell parsers: value → typed value, or _Bad ---------------------------------

def _enum(cls: Any) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        try:
            return cls.parse(cell_text(value))
        except ValueError:
            raise _Bad(f"허용 값: {cls.choices_ko()}", f"allowed values: {cls.choices_en()}") from None
    return parse


def _int(minimum: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        try:
            return parse_int(value, minimum=minimum)
        except ValueError:
            raise _Bad(f"{minimum} 이상의 정수여야 합니다.", f"must be a whole number >= {minimum}") from None
    return parse


def _date(value: Any) -> date:
    try:
        return parse_date(value)
    except ValueError:
        raise _Bad("날짜 형식이 아닙니다 (예: 2019-03-04, 2019.03.04, 20190304).",
                   "not a date (e.g. 2019-03-04, 2019.03.04, 20190304)") from None


def _year(value: Any) -> int:
    year = _int(2000)(value)
    if year > 2100:
        raise _Bad("연도가 올바르지 않습니다.", "not a plausible year")
    return year


def _code(value: Any) -> str:
    code = cell_text(value)
    if not code or len(code) > 32 or not set(code) <= _CODE_CHARS:
        raise _Bad("과정코드는 영문, 숫자, -, _ 로 32자 이내여야 합니다.",
                   "course codes use letters, digits, - and _ (max 32)")
    return code


def _text(value: Any) -> str:
    return cell_text(value)


def _grades(value: Any) -> frozenset[str]:
    grades, unknown = parse_grade_targets(cell_text(value))
    if unknown:
        raise _Bad(f"알 수 없는 직급: {', '.join(unknown)}", f"unknown grade(s): {', '.join(unknown)}")
    return grades


def _series(value: Any) -> frozenset[str]:
    return frozenset(normalise_job_series(s) for s in split_list(cell_text(value)))


def _organisations(value: Any) -> frozenset[OrganisationType]:
    return frozenset(_enum(OrganisationType)(item) for item in split_list(cell_text(value), middle_dot=False))


def _codes(value: Any) -> tuple[str, ...]:
    return tuple(sorted({_code(item) for item in split_list(cell_text(value), middle_dot=False)}))


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "year": _year, "course_code": _code, "name_ko": _text, "name_en": _text,
    "delivery": _enum(Delivery), "area": _enum(CompetencyArea), "status": _enum(CourseStatus),
    "target_grades": _grades, "target_job_series": _series, "target_organisations": _organisations,
    "duration_days": _int(1), "duration_hours": _int(1), "prerequisites": _codes,
    "planned_sessions": _int(0), "planned_seats": _int(0), "notes": _text,
    "session_no": _int(1), "start_date": _date, "end_date": _date, "capacity": _int(1), "venue": _text,
    "enrollment_opens": _date, "enrollment_closes": _date,
}


# --- validation -----------------------------------------------------------------

@dataclass
class _Draft:
    code: str
    line: int
    values: dict[str, Any]
    sessions: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class PlanValidation:
    """``courses`` is filled only when ``errors`` is empty (all-or-nothing import)."""

    courses: tuple[Course, ...]
    errors: tuple[RowError, ...]
    rows_read: int

    @property
    def ok(self) -> bool:
        return not self.errors


def _err(line: int, name: str, ko: str, en: str, value: Any = None) -> RowError:
    label_ko, label_en = PLAN_FIELDS.get(name, ("", ""))
    return RowError(line, name, f"{label_ko}: {ko}" if label_ko else ko,
                    f"{label_en}: {en}" if label_en else en,
                    None if value is None else cell_text(value))


def validate_plan_rows(rows: Iterable[tuple[int, Mapping[str, Any]]]) -> PlanValidation:
    """Validate every row of a plan file (see the module docstring for the layout)."""
    errors: list[RowError] = []
    drafts: dict[str, _Draft] = {}
    previous_code: str | None = None
    rows_read = 0
    for line, row in rows:
        rows_read += 1
        parsed: dict[str, Any] = {}
        for name, value in row.items():
            if name in _PARSERS and not is_blank(value):
                try:
                    parsed[name] = _PARSERS[name](value)
                except _Bad as bad:
                    errors.append(_err(line, name, bad.ko, bad.en, value))
                    parsed[name] = _INVALID
        code = parsed.get("course_code")
        if code is _INVALID:
            continue
        if code is None:
            if previous_code is None:
                errors.append(_err(line, "course_code", "값이 없습니다.", "is required"))
                continue
            code = previous_code
        previous_code = code
        draft = drafts.get(code)
        course_values = {k: parsed[k] for k in COURSE_FIELDS if k in parsed}
        if draft is None:
            draft = drafts[code] = _Draft(code, line, course_values)
            for name in PLAN_REQUIRED_FIELDS:
                if name != "course_code" and name not in course_values:
                    errors.append(_err(line, name, "값이 없습니다.", "is required"))
        else:
            for name, value in course_values.items():
                first = draft.values.setdefault(name, value)
                if value is not _INVALID and first is not _INVALID and first != value:
                    errors.append(_err(line, name, f"같은 과정의 첫 행({draft.line}행)과 값이 다릅니다.",
                                       f"differs from the course's first row (line {draft.line})",
                                       row.get(name)))
        session_values = {k: parsed[k] for k in SESSION_FIELDS if k in parsed}
        if session_values:
            draft.sessions.append((line, session_values))
    courses = [_build_course(d, errors) for d in drafts.values()]
    _check_prerequisites(drafts, errors)
    errors.sort(key=lambda e: e.line)
    if errors:
        return PlanValidation((), tuple(errors), rows_read)
    return PlanValidation(tuple(c for c in courses if c is not None), (), rows_read)


class _InvalidType:
    def __repr__(self) -> str:
        return "<invalid>"


_INVALID: Any = _InvalidType()  # marks a cell already reported, to avoid cascades


def _build_course(d: _Draft, errors: list[RowError]) -> Course | None:
    v = d.values
    before = len(errors)
    sessions = _build_sessions(d, v.get("year"), errors)
    if any(x is _INVALID for x in v.values()) or any(f not in v for f in PLAN_REQUIRED_FIELDS if f != "course_code"):
        return None
    if "duration_days" not in v and "duration_hours" not in v:
        errors.append(_err(d.line, "duration_days", "교육일수 또는 교육시간 중 하나는 있어야 합니다.",
                           "either days or hours is required"))
    if sessions:
        count, seats = len(sessions), sum(s.capacity for s in sessions)
        if v.get("planned_sessions", count) != count:
            errors.append(_err(d.line, "planned_sessions", f"회차 행 수({count})와 다릅니다.",
                               f"does not match the {count} session rows"))
        if v.get("planned_seats", seats) != seats:
            errors.append(_err(d.line, "planned_seats", f"회차 정원 합계({seats:,})와 다릅니다.",
                               f"does not match the sessions' total capacity ({seats:,})"))
    else:
        count, seats = v.get("planned_sessions"), v.get("planned_seats")
        for name, value in (("planned_sessions", count), ("planned_seats", seats)):
            if value is None:
                errors.append(_err(d.line, name, "회차가 없는 과정은 계획회차와 계획인원이 필요합니다.",
                                   "required for a course without session rows"))
    if len(errors) > before:
        return None
    return Course(
        code=d.code, year=v["year"], name_ko=v["name_ko"], name_en=v.get("name_en", ""),
        delivery=v["delivery"], area=v["area"], status=v["status"],
        planned_sessions=count, planned_seats=seats,
        duration_days=v.get("duration_days"), duration_hours=v.get("duration_hours"),
        target_grades=v.get("target_grades", frozenset()),
        target_job_series=v.get("target_job_series", frozenset()),
        target_organisations=v.get("target_organisations", frozenset()),
        prerequisites=v.get("prerequisites", ()), sessions=tuple(sessions), notes=v.get("notes", ""),
    )


def _build_sessions(d: _Draft, year: Any, errors: list[RowError]) -> list[Session]:
    sessions: list[Session] = []
    seen: dict[int, int] = {}
    next_no = 1
    for line, s in d.sessions:
        if any(x is _INVALID for x in s.values()):
            next_no += 1
            continue
        number = s.get("session_no", next_no)
        next_no = number + 1
        missing = [f for f in ("start_date", "end_date", "capacity") if f not in s]
        for name in missing:
            errors.append(_err(line, name, "회차 행에 값이 없습니다.", "is required on a session row"))
        if number in seen:
            errors.append(_err(line, "session_no", f"{seen[number]}행과 회차 번호가 중복됩니다.",
                               f"duplicates the session number on line {seen[number]}", number))
        seen.setdefault(number, line)
        if missing:
            continue
        start, end = s["start_date"], s["end_date"]
        opens, closes = s.get("enrollment_opens"), s.get("enrollment_closes")
        if end < start:
            errors.append(_err(line, "end_date", "교육종료일이 교육시작일보다 빠릅니다.",
                               "ends before it starts", end.isoformat()))
        if isinstance(year, int) and start.year != year:
            errors.append(_err(line, "start_date", f"교육시작일이 {year}년이 아닙니다.",
                               f"the start date is not in {year}", start.isoformat()))
        if opens and closes and closes < opens:
            errors.append(_err(line, "enrollment_closes", "신청마감일이 신청시작일보다 빠릅니다.",
                               "enrollment closes before it opens", closes.isoformat()))
        if closes and closes > start:
            errors.append(_err(line, "enrollment_closes", "신청마감일이 교육시작일보다 늦습니다.",
                               "enrollment closes after the session starts", closes.isoformat()))
        sessions.append(Session(d.code, number, start, end, s["capacity"], s.get("venue", ""), opens, closes))
    return sorted(sessions, key=lambda x: x.number)


def _check_prerequisites(drafts: Mapping[str, _Draft], errors: list[RowError]) -> None:
    delivery = {d.code: d.values.get("delivery") for d in drafts.values()}
    for d in drafts.values():
        required = d.values.get("prerequisites")
        if not required or required is _INVALID:
            continue
        for code in required:
            if code == d.code:
                errors.append(_err(d.line, "prerequisites", "자기 자신을 선수과정으로 지정할 수 없습니다.",
                                   "a course cannot require itself", code))
            elif code not in delivery:
                errors.append(_err(d.line, "prerequisites", f"파일에 없는 과정코드입니다: {code}",
                                   f"unknown course code: {code}", code))
            elif delivery[code] is not Delivery.ELEARNING:
                errors.append(_err(d.line, "prerequisites", f"선수과정은 이러닝 과정이어야 합니다: {code}",
                                   f"a prerequisite must be an e-learning course: {code}", code))


# --- export ---------------------------------------------------------------------

def _join(items: Iterable[str]) -> str:
    return ", ".join(items)


def plan_rows_for_export(courses: Iterable[Course]) -> Iterator[dict[str, Any]]:
    """Rows in the import layout (one per session, course columns repeated), typed:
    dates stay ``date`` and counts ``int`` so XLSX gets real date/number cells."""
    for c in courses:
        course_cells: dict[str, Any] = {
            "year": c.year, "course_code": c.code, "name_ko": c.name_ko, "name_en": c.name_en,
            "delivery": c.delivery.label_ko, "area": c.area.label_ko, "status": c.status.label_ko,
            "target_grades": _join(sorted(c.target_grades, key=lambda g: _GRADE_ORDER.get(g, 99))),
            "target_job_series": _join(sorted(c.target_job_series)),
            "target_organisations": _join(o.label_ko for o in sorted(c.target_organisations)),
            "duration_days": c.duration_days, "duration_hours": c.duration_hours,
            "prerequisites": _join(c.prerequisites), "planned_sessions": c.planned_sessions,
            "planned_seats": c.planned_seats, "notes": c.notes,
        }
        if not c.sessions:
            yield {**course_cells, **{k: None for k in SESSION_FIELDS}}
        for s in c.sessions:
            yield {
                **course_cells, "session_no": s.number, "start_date": s.start, "end_date": s.end,
                "capacity": s.capacity, "venue": s.venue, "enrollment_opens": s.enrollment_opens,
                "enrollment_closes": s.enrollment_closes,
            }
