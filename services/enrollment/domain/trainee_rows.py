"""Validation of trainee rows (교육생 명단, e.g. the personnel system's new-hire list).

Fields: 사번 (required), 성명 (required), 소속 (required), 기관유형 (optional:
inferred from 소속 for Seoul city and district names, otherwise required),
부서, 직급 (required; normalised, see ``vocabulary``), 직렬, 이메일, 휴대전화
(normalised to 010-1234-5678), 임용(예정)일, 편의지원 (accessibility needs, a
comma-separated list such as "휠체어, 수어통역").

``validate_trainee_row`` handles one row; ``validate_trainee_rows`` streams a
whole file and also reports an employee number repeated within the file.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import RowError
from .model import OrganisationType, Trainee
from .values import cell_text, is_blank, normalise_email, normalise_mobile, parse_date
from .vocabulary import GRADES, infer_organisation_type, normalise_grade, normalise_job_series, split_list

TRAINEE_FIELDS: dict[str, tuple[str, str]] = {
    "employee_no": ("사번", "Employee No."),
    "name": ("성명", "Name"),
    "organisation": ("소속", "Organisation"),
    "organisation_type": ("기관유형", "Organisation type"),
    "department": ("부서", "Department"),
    "grade": ("직급", "Grade"),
    "job_series": ("직렬", "Job series"),
    "email": ("이메일", "E-mail"),
    "mobile": ("휴대전화", "Mobile"),
    "appointment_date": ("임용(예정)일", "Appointment date"),
    "accessibility_needs": ("편의지원", "Accessibility needs"),
}
TRAINEE_REQUIRED_FIELDS: tuple[str, ...] = ("employee_no", "name", "organisation", "grade")
_EMPLOYEE_NO_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
_GRADE_LIST_KO = ", ".join(["1급~9급", "연구관", "연구사", "지도관", "지도사", "전문경력관", "임기제", "실무관"])


def _err(line: int, name: str, ko: str, en: str, value: Any = None) -> RowError:
    label_ko, label_en = TRAINEE_FIELDS[name]
    return RowError(line, name, f"{label_ko}: {ko}", f"{label_en}: {en}",
                    None if value is None else cell_text(value))


def validate_trainee_row(line: int, row: Mapping[str, Any]) -> Trainee | list[RowError]:
    """A clean ``Trainee`` or every problem found in the row."""
    errors: list[RowError] = []
    get = lambda name: None if is_blank(row.get(name)) else row.get(name)  # noqa: E731

    for name in TRAINEE_REQUIRED_FIELDS:
        if get(name) is None:
            errors.append(_err(line, name, "값이 없습니다.", "is required"))

    employee_no = cell_text(get("employee_no"))
    if employee_no and (len(employee_no) > 20 or not set(employee_no) <= _EMPLOYEE_NO_CHARS):
        errors.append(_err(line, "employee_no", "영문, 숫자, - 로 20자 이내여야 합니다.",
                           "letters, digits and - only (max 20)", employee_no))
    name = cell_text(get("name"))
    if len(name) > 50:
        errors.append(_err(line, "name", "50자를 넘을 수 없습니다.", "longer than 50 characters", name))
    organisation = cell_text(get("organisation"))

    organisation_type: OrganisationType | None = None
    if get("organisation_type") is not None:
        try:
            organisation_type = OrganisationType.parse(cell_text(get("organisation_type")))
        except ValueError:
            errors.append(_err(line, "organisation_type", f"허용 값: {OrganisationType.choices_ko()}",
                               f"allowed values: {OrganisationType.choices_en()}", get("organisation_type")))
    elif organisation:
        organisation_type = infer_organisation_type(organisation)
        if organisation_type is None:
            errors.append(_err(line, "organisation_type",
                               "소속 이름으로 기관유형을 알 수 없어 기관유형 열이 필요합니다.",
                               "cannot be inferred from the organisation name; fill the column",
                               organisation))

    grade = None
    if get("grade") is not None:
        grade = normalise_grade(get("grade"))
        if grade is None or grade not in GRADES:
            errors.append(_err(line, "grade", f"알 수 없는 직급입니다 (허용: {_GRADE_LIST_KO}).",
                               "unknown grade (1급-9급, 연구관, 연구사, 지도관, 지도사, 전문경력관, 임기제, 실무관)",
                               get("grade")))

    email = mobile = ""
    if get("email") is not None:
        try:
            email = normalise_email(get("email"))
        except ValueError:
            errors.append(_err(line, "email", "이메일 형식이 아닙니다.", "not an e-mail address", get("email")))
    if get("mobile") is not None:
        try:
            mobile = normalise_mobile(get("mobile"))
        except ValueError:
            errors.append(_err(line, "mobile", "휴대전화 번호 형식이 아닙니다 (예: 010-1234-5678).",
                               "not a Korean mobile number (e.g. 010-1234-5678)", get("mobile")))
    appointment_date = None
    if get("appointment_date") is not None:
        try:
            appointment_date = parse_date(get("appointment_date"))
        except ValueError:
            errors.append(_err(line, "appointment_date", "날짜 형식이 아닙니다 (예: 2019-03-04).",
                               "not a date (e.g. 2019-03-04)", get("appointment_date")))

    if errors:
        return errors
    assert organisation_type is not None and grade is not None
    return Trainee(
        employee_no=employee_no, name=name, organisation=organisation, organisation_type=organisation_type,
        grade=grade, department=cell_text(get("department")),
        job_series=normalise_job_series(get("job_series")), email=email, mobile=mobile,
        appointment_date=appointment_date,
        accessibility_needs=tuple(split_list(get("accessibility_needs"), middle_dot=False)),
    )


@dataclass(frozen=True)
class TraineeRowResult:
    line: int
    trainee: Trainee | None
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        return self.trainee is not None


def validate_trainee_rows(rows: Iterable[tuple[int, Mapping[str, Any]]]) -> Iterator[TraineeRowResult]:
    """Stream results row by row (memory: one set of employee numbers).

    The second and later rows with an employee number already seen in the file
    are rejected, so a file never updates the same trainee twice.
    """
    seen: dict[str, int] = {}
    for line, row in rows:
        outcome = validate_trainee_row(line, row)
        if isinstance(outcome, list):
            yield TraineeRowResult(line, None, tuple(outcome))
            continue
        first = seen.setdefault(outcome.employee_no, line)
        if first != line:
            yield TraineeRowResult(line, None, (_err(
                line, "employee_no", f"{first}행과 사번이 중복됩니다.",
                f"duplicates the employee number on line {first}", outcome.employee_no),))
            continue
        yield TraineeRowResult(line, outcome, ())
