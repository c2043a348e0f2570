"""File imports (CSV UTF-8 / UTF-8 BOM / CP949 / UTF-16, or XLSX): plan, trainees, completions.

Each file is validated as a whole; every bad row is reported as {line, field, reason_ko, reason_en, value}
in a 422 and nothing is written unless the whole file is clean. ``dry_run`` validates and reports what
would change without writing.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, BinaryIO

from sqlalchemy import bindparam, select, update

from services.enrollment.adapters import orm as T
from services.enrollment.adapters.file_formats import PLAN_COLUMNS, TRAINEE_COLUMNS
from services.enrollment.adapters.tabular import Column, ColumnSet, TabularError, open_table
from services.enrollment.domain.model import Trainee
from services.enrollment.domain.plan_rows import validate_plan_rows
from services.enrollment.domain.trainee_rows import validate_trainee_rows
from services.enrollment.domain.values import cell_text, parse_date
from services.enrollment.service_layer import payloads, plans, prerequisites
from services.enrollment.service_layer.errors import invalid
from services.enrollment.service_layer.unit_of_work import UnitOfWork
from shared.errors import AppError

MAX_ERRORS = 1000


def _file_error(exc: TabularError) -> AppError:
    errors = {"file": [exc.message_en]}
    missing = getattr(exc, "missing", None)
    if missing:
        errors["missing_columns"] = list(missing)
    return AppError(422, exc.code.lower(), exc.message_ko, exc.message_en, errors)


def _rows_error(kind_ko: str, kind_en: str, errors: list[dict], rows_read: int) -> AppError:
    return invalid("invalid_file", f"{kind_ko} 파일의 {len(errors)}개 항목에 오류가 있어 아무것도 저장하지 않았습니다.",
                   f"The {kind_en} file has {len(errors)} problem(s); nothing was saved.",
                   {"rows": errors[:MAX_ERRORS], "error_count": len(errors), "rows_read": rows_read})


def read_plan(stream: BinaryIO):
    """Validated plan courses and a (course code, session number) → line map, or a 422."""
    lines: dict[tuple[str, int], int] = {}
    try:
        with open_table(stream, PLAN_COLUMNS) as table:
            rows = list(table)
            info = {"format": table.format, "encoding": table.encoding,
                    "unknown_columns": list(table.unknown_headers)}
    except TabularError as exc:
        raise _file_error(exc) from None
    code, counter = None, {}
    for line, row in rows:
        code = cell_text(row.get("course_code")) or code
        if code is None:
            continue
        if any(row.get(f) not in (None, "") for f in ("start_date", "end_date", "capacity", "session_no")):
            try:
                number = int(float(cell_text(row.get("session_no")))) if row.get("session_no") else counter.get(code, 0) + 1
            except ValueError:
                number = counter.get(code, 0) + 1
            counter[code] = number
            lines[(code, number)] = line
    result = validate_plan_rows(rows)
    if not result.ok:
        raise _rows_error("계획", "plan", [e.as_dict() for e in result.errors], result.rows_read)
    return list(result.courses), lines, {**info, "rows_read": result.rows_read}


def import_plan_file(uow: UnitOfWork, stream: BinaryIO, actor: str, dry_run: bool) -> dict:
    courses, lines, info = read_plan(stream)
    return {**plans.import_plan(uow, courses, actor, dry_run=dry_run, lines=lines), "file": info}


# --- trainees ---------------------------------------------------------------------------------------------

TRAINEE_COLUMNS_DB = ("name", "organisation_type", "organisation", "department", "grade", "job_series", "email",
                      "mobile", "appointed_on", "accessibility_needs")


def trainee_values(t: Trainee) -> dict[str, Any]:
    return {"name": t.name, "organisation_type": t.organisation_type.value, "organisation": t.organisation or None,
            "department": t.department or None, "grade": t.grade or None, "job_series": t.job_series or None,
            "email": t.email or None, "mobile": t.mobile or None, "appointed_on": t.appointment_date,
            "accessibility_needs": ", ".join(t.accessibility_needs) or None}


def import_trainees_file(uow: UnitOfWork, stream: BinaryIO, actor: str, dry_run: bool) -> dict:
    trainees: list[Trainee] = []
    errors: list[dict] = []
    try:
        with open_table(stream, TRAINEE_COLUMNS) as table:
            info = {"format": table.format, "encoding": table.encoding,
                    "unknown_columns": list(table.unknown_headers)}
            rows_read = 0
            for result in validate_trainee_rows(table):
                rows_read += 1
                if result.ok:
                    trainees.append(result.trainee)
                else:
                    errors.extend(e.as_dict() for e in result.errors)
    except TabularError as exc:
        raise _file_error(exc) from None
    if errors:
        raise _rows_error("교육생", "trainee", errors, rows_read)
    with uow:
        s = uow.session
        existing = {}
        emps = [t.employee_no for t in trainees]
        for i in range(0, len(emps), 900):
            existing.update({r.employee_no: r for r in s.execute(
                select(T.trainees).where(T.trainees.c.employee_no.in_(emps[i:i + 900])))})
        new, changed, unchanged = [], [], 0
        for t in trainees:
            values = trainee_values(t)
            row = existing.get(t.employee_no)
            if row is None:
                new.append((t, values))
            elif any(row._mapping[k] != v for k, v in values.items()):
                changed.append((row.id, t, values))
            else:
                unchanged += 1
        out = {"dry_run": dry_run, "rows_read": rows_read, "file": info,
               "trainees": {"create": len(new), "update": len(changed), "unchanged": unchanged,
                            "create_employee_nos": [t.employee_no for t, _ in new][:500],
                            "update_employee_nos": [t.employee_no for _, t, _ in changed][:500]}}
        if dry_run or not (new or changed):
            return out
        now = uow.now()
        if new:
            s.execute(T.trainees.insert(), [{"employee_no": t.employee_no, **v, "preferred_language": "ko",
                                             "created_at": now, "updated_at": now} for t, v in new])
        if changed:
            s.execute(update(T.trainees).where(T.trainees.c.id == bindparam("b_id"))
                      .values({k: bindparam(k) for k in (*TRAINEE_COLUMNS_DB, "updated_at")}),
                      [{"b_id": tid, **v, "updated_at": now} for tid, _, v in changed])
        new_emps = {t.employee_no for t, _ in new}
        touched = sorted(new_emps | {t.employee_no for _, t, _ in changed})
        for i in range(0, len(touched), 900):
            for row in s.execute(select(T.trainees).where(T.trainees.c.employee_no.in_(touched[i:i + 900]))
                                 .order_by(T.trainees.c.id)):
                kind = "registered" if row.employee_no in new_emps else "updated"
                uow.emit(f"hrd.enrollment.trainee.{kind}.v1", payloads.trainee_snapshot(row))
        uow.commit()
        return out


# --- completions -----------------------------------------------------------------------------------------

COMPLETION_COLUMNS = ColumnSet((
    Column("employee_no", "사번", "Employee No.", ("직원번호", "employee number", "employee id", "emp no"), True),
    Column("course_code", "과정코드", "Course code", ("코드", "code", "course"), True),
    Column("completed_at", "이수일", "Completed at", ("수료일", "이수일자", "완료일", "completed", "completion date")),
    Column("source", "출처", "Source", ("시스템", "system")),
))


def import_completions_file(uow: UnitOfWork, stream: BinaryIO, actor: str, dry_run: bool = False) -> dict:
    items, errors = [], []
    try:
        with open_table(stream, COMPLETION_COLUMNS) as table:
            for line, row in table:
                item = {"line": line, "employee_no": cell_text(row.get("employee_no")) or None,
                        "course_code": cell_text(row.get("course_code")) or None,
                        "source": cell_text(row.get("source")) or None, "completed_at": None}
                for name in ("employee_no", "course_code"):
                    if not item[name]:
                        errors.append({"line": line, "field": name, "reason_ko": "값이 없습니다.",
                                       "reason_en": "is required", "value": None})
                if row.get("completed_at") not in (None, ""):
                    try:
                        when = row["completed_at"]
                        item["completed_at"] = (when if isinstance(when, dt.datetime)
                                                else dt.datetime.combine(parse_date(when), dt.time(0, 0)))
                    except ValueError:
                        errors.append({"line": line, "field": "completed_at", "reason_ko": "날짜 형식이 아닙니다.",
                                       "reason_en": "not a date", "value": cell_text(row["completed_at"])})
                items.append(item)
    except TabularError as exc:
        raise _file_error(exc) from None
    if errors:
        raise _rows_error("이수", "completion", errors, len(items))
    if dry_run:
        return {"dry_run": True, "received": len(items)}
    try:
        return prerequisites.record_completions(uow, items, actor, source="csv",
                                                label=lambda n, item: str(item["line"]))
    except AppError as exc:  # name lines, as for the other files
        if exc.code != "invalid_completions":
            raise
        rows = [{"line": int(line), "field": f, "reason_ko": msgs[0].split(" / ")[0],
                 "reason_en": msgs[0].split(" / ")[-1], "value": None}
                for line, problems in exc.errors["items"].items() for f, msgs in problems.items()]
        raise _rows_error("이수", "completion", rows, len(items)) from None
