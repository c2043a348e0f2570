"""/api/v1/plans (annual plan import, totals, export), /api/v1/trainees/import, /api/v1/completions."""
import io

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from services.enrollment.adapters import orm as T
from services.enrollment.adapters.plan_export import write_plan_csv, write_plan_xlsx
from services.enrollment.api import schemas as S
from services.enrollment.api.pagination import paginate
from services.enrollment.service_layer import imports, plans, prerequisites
from services.enrollment.service_layer.errors import invalid, not_found
from services.enrollment.service_layer.unit_of_work import from_app
from shared.auth import STAFF_ROLES, current_principal, ensure_can_see_trainee, require_roles

blp = Blueprint("plans", __name__, url_prefix="/api/v1",
                description="연간 교육계획·교육생 명단·이수 기록 / Annual plan, trainee files, completions")

FILE_ERRORS = ("422: every bad row as {line, field, reason_ko, reason_en, value} under errors.rows "
               "(nothing written), or a file problem (encoding, missing columns, .xls) under errors.file")
PLAN_PREVIEW = {"dry_run": True,
                "courses": {"create": 239, "update": 0, "unchanged": 0, "create_codes": ["C19-001", "..."],
                            "update_codes": [], "prerequisites_changed": ["C19-046"]},
                "sessions": {"create": 1852, "update": 0, "unchanged": 0, "rescheduled": 0},
                "totals": {"courses": 239, "sessions": 1852, "seats": 198999,
                           "by_delivery": {"classroom": {"courses": 125, "seats": 22829},
                                           "elearning": {"courses": 114, "seats": 176170}}},
                "file": {"format": "csv", "encoding": "cp949", "unknown_columns": [], "rows_read": 1852}}


def _actor() -> str:
    p = current_principal()
    return f"{p.role}:{p.subject}"


def _dry_run(args) -> bool:
    form = request.form.get("dry_run")
    return bool(args.get("dry_run")) or (form or "").lower() in ("1", "true", "yes", "on")


def _upload():
    f = request.files.get("file")
    if f is None:
        raise invalid("file_required", "업로드할 파일(file)이 없습니다.", "A multipart field 'file' is required.",
                      {"file": ["required"]})
    return f.stream


@blp.route("/plans")
class Plans(MethodView):
    @blp.response(200, S.PlanList)
    def get(self):
        """연도별 교육계획 / Plan years with their totals"""
        with current_app.extensions["db"].session_factory() as s:
            items = plans.list_years(s)
        return {"items": items, "total": len(items)}


@blp.route("/plans/import")
class PlanImport(MethodView):
    @blp.arguments(S.DryRunQuery, location="query")
    @blp.arguments(S.FileIn, location="files")
    @blp.response(200, S.ImportResult, example=PLAN_PREVIEW)
    @blp.alt_response(422, description=FILE_ERRORS)
    @require_roles(*STAFF_ROLES)
    def post(self, args, _files):
        """연간 계획 가져오기 / Import a whole plan file (CSV or XLSX; see docs/plan-file-format.md)

        Upsert by course code and session number, validated as a whole. `dry_run=true` reports what would
        be created or updated and the totals without writing. Emits course/session created/updated events
        and `plan.imported`."""
        return imports.import_plan_file(from_app(current_app), _upload(), _actor(), _dry_run(args))


@blp.route("/plans/<int:year>")
class PlanYear(MethodView):
    @blp.response(200, S.PlanTotals)
    def get(self, year):
        """연도 계획 합계 / A year's totals by delivery, competency area and change status"""
        with current_app.extensions["db"].session_factory() as s:
            t = plans.year_totals(s, year)
        if not t["courses"]:
            raise not_found("교육계획", "Plan", year)
        return t


@blp.route("/plans/<int:year>/export")
class PlanExport(MethodView):
    @blp.arguments(S.ExportQuery, location="query")
    @blp.response(200, description="CSV (UTF-8 with BOM) or XLSX in the import layout")
    @require_roles(*STAFF_ROLES)
    def get(self, args, year):
        """연간 계획 내보내기 / Export a year's plan as CSV or XLSX (re-importable)"""
        with current_app.extensions["db"].session_factory() as s:
            courses = plans.plan_courses(s, year)
        if not courses:
            raise not_found("교육계획", "Plan", year)
        buf = io.BytesIO()
        if args["format"] == "xlsx":
            write_plan_xlsx(courses, buf)
            mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            write_plan_csv(courses, buf)
            mime = "text/csv; charset=utf-8"
        return Response(buf.getvalue(), mimetype=mime, headers={
            "Content-Disposition": f"attachment; filename=plan-{year}.{args['format']}"})


@blp.route("/trainees/import")
class TraineeImport(MethodView):
    @blp.arguments(S.DryRunQuery, location="query")
    @blp.arguments(S.FileIn, location="files")
    @blp.response(200, S.ImportResult, example={
        "dry_run": False, "rows_read": 2, "file": {"format": "csv", "encoding": "cp949", "unknown_columns": []},
        "trainees": {"create": 1, "update": 1, "unchanged": 0, "create_employee_nos": ["2019000123"],
                     "update_employee_nos": ["2019000124"]}})
    @blp.alt_response(422, description=FILE_ERRORS)
    @require_roles(*STAFF_ROLES)
    def post(self, args, _files):
        """교육생 명단 가져오기 / Import trainees (CSV or XLSX), upsert by employee number, all or nothing"""
        return imports.import_trainees_file(from_app(current_app), _upload(), _actor(), _dry_run(args))


@blp.route("/completions")
class Completions(MethodView):
    @blp.arguments(S.CompletionQuery, location="query")
    @blp.response(200, S.page_of(S.CompletionOut))
    def get(self, args):
        """이수 기록 목록 / List course completions (a trainee sees only its own)"""
        p = current_principal()
        if not p.is_staff:
            args["trainee_id"] = p.trainee_id or -1
        q = select(T.completions)
        for key in ("trainee_id", "course_id"):
            if key in args:
                q = q.where(getattr(T.completions.c, key) == args[key])
        with current_app.extensions["db"].session_factory() as s:
            return paginate(s, q, args["page"], args["per_page"], [T.completions.c.id])

    @blp.doc(requestBody={"required": True, "content": {"application/json": {
        "schema": {"oneOf": [{"$ref": "#/components/schemas/CompletionIn"},
                             {"type": "array", "items": {"$ref": "#/components/schemas/CompletionIn"}}]},
        "examples": {
            "single": {"value": {"employee_no": "2019000123", "course_code": "E19-015",
                                 "completed_at": "2019-02-08T17:30:00+09:00", "source": "lms"}},
            "batch": {"value": [{"trainee_id": 1, "course_id": 15}, {"trainee_id": 2, "course_id": 15}]}}}}})
    @blp.response(200, S.CompletionResult)
    @blp.alt_response(422, description="errors.items.<index>.<field>: unknown trainee / course; nothing written")
    @require_roles(*STAFF_ROLES)
    def post(self):
        """이수 기록 / Record e-learning completions (one object or a list) from the e-learning system

        Idempotent per (trainee, course). A completion completes the trainee's e-learning enrollment and at
        once confirms the classroom enrollments that were waiting on it (`pending_prerequisite`)."""
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            body = [body]
        if not isinstance(body, list) or not body:
            raise invalid("validation_error", "이수 기록(객체 또는 목록)이 필요합니다.",
                          "A completion object or a non-empty list is required.", {"json": ["object or list"]})
        if len(body) > 10_000:
            raise invalid("validation_error", "한 번에 10,000건까지 보낼 수 있습니다.", "At most 10,000 per request.",
                          {"json": ["too many"]})
        schema = S.CompletionIn()
        items, errors = [], {}
        for i, raw in enumerate(body):
            if not isinstance(raw, dict):
                errors[str(i)] = {"_schema": ["object expected"]}
                continue
            e = schema.validate(raw)
            if e:
                errors[str(i)] = e
            else:
                items.append(schema.load(raw))
        if errors:
            raise invalid("validation_error", "입력값이 올바르지 않습니다.", "The input is not valid.", {"items": errors})
        return prerequisites.record_completions(from_app(current_app), items, _actor(), source="api")


@blp.route("/completions/import")
class CompletionImport(MethodView):
    @blp.arguments(S.DryRunQuery, location="query")
    @blp.arguments(S.FileIn, location="files")
    @blp.response(200, S.CompletionResult)
    @blp.alt_response(422, description=FILE_ERRORS)
    @require_roles(*STAFF_ROLES)
    def post(self, args, _files):
        """이수 기록 파일 / Import completions from CSV or XLSX (columns 사번, 과정코드, 이수일, 출처)"""
        return imports.import_completions_file(from_app(current_app), _upload(), _actor(), _dry_run(args))


__all__ = ["blp", "ensure_can_see_trainee"]
