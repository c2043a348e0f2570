"""/api/v1/reports/*: staff-only reports over the read model, each downloadable as CSV or XLSX.

Every report takes ``format=json|csv|xlsx`` (default json). Downloads carry Korean (+English) headers,
neutralise spreadsheet formulas and name the file in UTF-8 (``Content-Disposition: filename*``); they
contain every row (no pagination).
"""
from __future__ import annotations

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.reporting.adapters import report_columns as cols
from services.reporting.adapters.export import content_disposition, iter_export, report_filename
from services.reporting.service_layer import maintenance, queries
from services.reporting.service_layer.queries import Filters
from shared.auth import STAFF_ROLES, current_principal, require_roles
from shared.errors import AppError, wants_english
from shared.pagination import page_of, page_query

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="통계 / Reports")

DOWNLOAD_DOC = {"responses": {"200": {"content": {
    "text/csv": {"schema": {"type": "string"}, "example": "\ufeff구분 (Delivery),과정 수 (Courses)\r\n집합,125\r\n"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {"type": "string", "format": "binary"}}}}}}


# --- query schemas ---------------------------------------------------------------------------------

class FormatQuery(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]),
                           metadata={"description": "json, or a download: csv (UTF-8 BOM) / xlsx"})


class YearQuery(FormatQuery):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100), metadata={"example": 2019})


class CatalogueFilterQuery(YearQuery):
    delivery = fields.String(validate=validate.OneOf(["classroom", "elearning"]), metadata={"example": "classroom"})
    area = fields.String(validate=validate.OneOf(["basic", "leadership", "job", "it", "unknown"]),
                         metadata={"description": "competency area", "example": "job"})


class TraineeFilterQuery(CatalogueFilterQuery):
    organisation_type = fields.String(validate=validate.Length(min=1, max=40), metadata={"example": "district"})
    grade = fields.String(validate=validate.Length(min=1, max=40), metadata={"example": "7급"})
    job_series = fields.String(validate=validate.Length(min=1, max=60), metadata={"example": "행정"})
    month = fields.Integer(validate=validate.Range(min=1, max=12),
                           metadata={"description": "month the session starts (1-12)", "example": 3})


PageQuery = page_query(max_per_page=500)


class SummaryQuery(TraineeFilterQuery):
    table = fields.String(load_default="lines", validate=validate.OneOf(["lines", "change_types"]),
                          metadata={"description": "which table a csv/xlsx download contains"})


class PlanVsActualQuery(CatalogueFilterQuery, PageQuery):
    by = fields.String(load_default="year", validate=validate.OneOf(["year", "area", "course"]))
    measure = fields.String(load_default="completed", validate=validate.OneOf(["completed", "enrolled"]),
                            metadata={"description": "what counts as 실적: completed (수료, default) or enrolled"})


class CourseQuery(TraineeFilterQuery, PageQuery):
    q = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "code or name contains"})


class SessionQuery(TraineeFilterQuery, PageQuery):
    course_id = fields.Integer(validate=validate.Range(min=1))


class GroupQuery(TraineeFilterQuery, PageQuery):
    group_by = fields.String(load_default="organisation_type",
                             validate=validate.OneOf(["organisation_type", "grade", "job_series"]))
    course_id = fields.Integer(validate=validate.Range(min=1))


class MonthQuery(TraineeFilterQuery):
    course_id = fields.Integer(validate=validate.Range(min=1))


class ReconciliationQuery(FormatQuery, PageQuery):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))
    only_differences = fields.Boolean(load_default=False)
    kind = fields.String(validate=validate.OneOf(["status", "counter"]))


class RebuildIn(Schema):
    page_size = fields.Integer(validate=validate.Range(min=1, max=10000),
                               metadata={"description": "events per replayed page (default REPLAY_PAGE_SIZE)",
                                         "example": 2000})


class ReconcileIn(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100), metadata={"example": 2019})


# --- response schemas ------------------------------------------------------------------------------

class Counters(Schema):
    planned_seats = fields.Integer(metadata={"description": "계획 인원 (course seats / session capacity)"})
    enrollments = fields.Integer(metadata={"description": "every enrollment requested, whatever its status"})
    requested = fields.Integer()
    pending_prerequisite = fields.Integer()
    waitlisted = fields.Integer()
    enrolled = fields.Integer(metadata={"description": "수강확정: confirmed, attended, no_show, completed, failed"})
    attended = fields.Integer(metadata={"description": "출석: attended, completed, failed"})
    no_show = fields.Integer()
    completed = fields.Integer()
    failed = fields.Integer()
    cancelled = fields.Integer()
    completion_rate = fields.Float(allow_none=True, metadata={"description": "수료율 % = completed/(completed+failed+no_show)"})
    attendance_rate = fields.Float(allow_none=True)
    satisfaction_average = fields.Float(allow_none=True, metadata={"description": "만족도 평균 (0-100)"})
    satisfaction_count = fields.Integer()
    satisfaction_sum_x100 = fields.Integer()


class PlanFigures(Schema):
    courses = fields.Integer(metadata={"example": 239})
    seats = fields.Integer(metadata={"example": 198999})


class SummaryLine(Schema):
    year = fields.Integer()
    delivery = fields.String(metadata={"example": "classroom"})
    label_ko = fields.String(metadata={"example": "집합"})
    courses = fields.Integer()
    seats = fields.Integer()
    sessions = fields.Integer()
    previous_year = fields.Integer()
    previous_courses = fields.Integer(allow_none=True)
    previous_seats = fields.Integer(allow_none=True)
    change_courses = fields.Integer(allow_none=True)
    change_seats = fields.Integer(allow_none=True)
    enrolled = fields.Integer()
    completed = fields.Integer()
    completion_rate = fields.Float(allow_none=True)


class ChangeTypeLine(Schema):
    year = fields.Integer()
    change_type = fields.String(metadata={"example": "new"})
    label_ko = fields.String(metadata={"example": "신설"})
    classroom = fields.Integer()
    elearning = fields.Integer()
    total = fields.Integer()
    reference_classroom = fields.Integer(allow_none=True)
    reference_elearning = fields.Integer(allow_none=True)
    reference_total = fields.Integer(allow_none=True)
    source = fields.String(metadata={"description": "read_model, or the seed passage when the catalogue never "
                                                    "announced the year's retired courses"})


class SummaryOut(Schema):
    year = fields.Integer(metadata={"example": 2019})
    filters = fields.Dict()
    plan = fields.Dict(keys=fields.String(), values=fields.Nested(PlanFigures),
                       metadata={"description": "planned courses and seats: classroom, elearning, total",
                                 "example": {"classroom": {"courses": 125, "seats": 22829},
                                             "elearning": {"courses": 114, "seats": 176170},
                                             "total": {"courses": 239, "seats": 198999}}})
    lines = fields.List(fields.Nested(SummaryLine), metadata={"description": "교육훈련 총괄표, year over year"})
    previous_year = fields.Integer()
    previous_source = fields.String(allow_none=True,
                                    metadata={"description": "read_model, or the seed passage the figures come from"})
    change_types = fields.List(fields.Nested(ChangeTypeLine))
    reference = fields.Dict(allow_none=True, metadata={"description": "the plan document's figures for the year"})
    reference_differences = fields.List(fields.String())
    actual = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "legacy status counters (confirmed = enrolled − attended − no_show)"})
    counters = fields.Nested(Counters)
    actual_by_delivery = fields.Dict()


class PlanVsActualLine(Schema):
    year = fields.Integer()
    key = fields.String(metadata={"example": "2018"})
    label = fields.String(metadata={"example": "2018년"})
    label_en = fields.String()
    planned = fields.Integer(allow_none=True, metadata={"example": 168350})
    actual = fields.Integer(allow_none=True, metadata={"example": 180347})
    achievement_rate = fields.Float(allow_none=True)
    enrolled = fields.Integer(allow_none=True)
    completed = fields.Integer(allow_none=True)
    reference_planned = fields.Integer(allow_none=True)
    reference_actual = fields.Integer(allow_none=True)
    source = fields.String()


class PlanVsActualPage(Schema):
    year = fields.Integer()
    by = fields.String()
    measure = fields.String()
    items = fields.List(fields.Nested(PlanVsActualLine))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class CourseRow(Counters):
    course_id = fields.Integer()
    year = fields.Integer()
    code = fields.String(metadata={"example": "C19-001"})
    name_ko = fields.String()
    name_en = fields.String(allow_none=True)
    delivery = fields.String()
    competency_area = fields.String()
    area_label = fields.String()
    status = fields.String(allow_none=True)
    planned_sessions = fields.Integer()


class SessionRow(Counters):
    session_id = fields.Integer()
    course_id = fields.Integer()
    code = fields.String(allow_none=True)
    name_ko = fields.String(allow_none=True)
    delivery = fields.String(allow_none=True)
    competency_area = fields.String(allow_none=True)
    seq_no = fields.Integer(allow_none=True)
    starts_on = fields.String(metadata={"example": "2019-03-11"})
    ends_on = fields.String()
    capacity = fields.Integer()
    venue = fields.String(allow_none=True)
    status = fields.String()


class GroupRow(Counters):
    group_by = fields.String(metadata={"example": "organisation_type"})
    key = fields.String(metadata={"example": "district"})
    label = fields.String(metadata={"example": "자치구"})


class MonthRow(Counters):
    month = fields.Integer(allow_none=True, metadata={"example": 3})
    key = fields.String(metadata={"example": "03"})
    label = fields.String(metadata={"example": "3월"})
    sessions = fields.Integer()


def _report_page(item: type[Schema], name: str) -> type[Schema]:
    return page_of(item, name, year=fields.Integer(), filters=fields.Dict())


CoursePage = _report_page(CourseRow, "CoursePage")
SessionPage = _report_page(SessionRow, "SessionPage")
GroupPage = _report_page(GroupRow, "GroupPage")


class MonthList(Schema):
    year = fields.Integer()
    filters = fields.Dict()
    items = fields.List(fields.Nested(MonthRow))


class RebuildOut(Schema):
    id = fields.String()
    state = fields.String(metadata={"example": "running", "description": "running | finished | superseded"})
    requested_by = fields.String(allow_none=True)
    cursor_seq = fields.Integer(metadata={"description": "last enrollment outbox seq applied"})
    pages = fields.Integer()
    events_received = fields.Integer()
    events_applied = fields.Integer()
    started_at = fields.DateTime()
    updated_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


class ReconciliationOut(Schema):
    id = fields.String()
    year = fields.Integer()
    state = fields.String(metadata={"description": "requested | matched | differences"})
    requested_by = fields.String(allow_none=True)
    requested_at = fields.DateTime()
    snapshot_taken_at = fields.DateTime(allow_none=True)
    compared_at = fields.DateTime(allow_none=True)
    courses_compared = fields.Integer(allow_none=True)
    differences = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)


class ReconciliationRow(Schema):
    course_id = fields.Integer()
    code = fields.String(allow_none=True)
    name_ko = fields.String(allow_none=True)
    kind = fields.String(metadata={"description": "status (rm_enrollments) or counter (rm_rollups)"})
    name = fields.String(metadata={"example": "confirmed"})
    read_model = fields.Integer()
    enrollment = fields.Integer()
    difference = fields.Integer()


class ReconciliationPage(Schema):
    reconciliation = fields.Nested(ReconciliationOut, allow_none=True)
    items = fields.List(fields.Nested(ReconciliationRow))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


# --- helpers ---------------------------------------------------------------------------------------

def _db():
    return current_app.extensions["db"]


def download(fmt: str, columns, rows, name: str, sheet: str) -> Response:
    filename = report_filename(name, fmt)
    resp = Response(iter_export(fmt, columns, rows, sheet_title=sheet),
                    mimetype="text/csv" if fmt == "csv" else
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    if fmt == "csv":
        resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    resp.headers["Content-Disposition"] = content_disposition(filename)
    return resp


def _paged(items: list[dict], args: dict, **extra) -> dict:
    return {**extra, **queries._page(items, args["page"], args["per_page"])}


# --- reports ---------------------------------------------------------------------------------------

@blp.route("/summary")
class Summary(MethodView):
    @blp.arguments(SummaryQuery, location="query")
    @blp.response(200, SummaryOut)
    @blp.doc(**DOWNLOAD_DOC)
    @require_roles(*STAFF_ROLES)
    def get(self, args):
        """교육훈련 총괄표 / Training summary: courses and seats planned by delivery mode, year over year,
        change types, and the counters so far (filters: delivery, area, organisation type, grade, job series, month)"""
        with _db().session_factory() as s:
            out = queries.summary(s, args["year"], Filters.from_args(args))
        if args["format"] != "json":
            if args["table"] == "change_types":
                return download(args["format"], cols.SUMMARY_CHANGE_TYPE_COLUMNS, out["change_types"],
                                f"교육과정개편내역_{args['year']}", "개편 내역")
            return download(args["format"], cols.SUMMARY_COLUMNS, out["lines"], f"교육훈련총괄표_{args['year']}",
                            "교육훈련 총괄표")
        return out


@blp.route("/plan-vs-actual")
class PlanVsActual(MethodView):
    @blp.arguments(PlanVsActualQuery, location="query")
    @blp.response(200, PlanVsActualPage)
    @blp.doc(**DOWNLOAD_DOC)
    @require_roles(*STAFF_ROLES)
    def get(self, args):
        """계획 대비 실적 / Plan vs actual trainees by year (with '17, '18 from the plan document), by
        competency area or by course; actual = completed (default) or enrolled"""
        with _db().session_factory() as s:
            items = queries.plan_vs_actual(s, args["year"], args["by"], args["measure"], Filters.from_args(args))
        if args["format"] != "json":
            return download(args["format"], cols.PLAN_VS_ACTUAL_COLUMNS, items,
                            f"계획대비실적_{args['by']}_{args['year']}", "계획 대비 실적")
        return _paged(items, args, year=args["year"], by=args["by"], measure=args["measure"])


@blp.route("/courses")
class Courses(MethodView):
    @blp.arguments(CourseQuery, location="query")
    @blp.response(200, CoursePage)
    @blp.doc(**DOWNLOAD_DOC)
    @require_roles(*STAFF_ROLES)
    def get(self, args):
        """과정별 통계 / Counters per course of a year"""
        f = Filters.from_args(args)
        with _db().session_factory() as s:
            items = queries.courses(s, args["year"], f, args.get("q"))
        if args["format"] != "json":
            return download(args["format"], cols.COURSE_COLUMNS, items, f"과정별통계_{args['year']}", "과정별 통계")
        return _paged(items, args, year=args["year"], filters=f.as_dict())


@blp.route("/sessions")
class Sessions(MethodView):
    @blp.arguments(SessionQuery, location="query")
    @blp.response(200, SessionPage)
    @blp.doc(**DOWNLOAD_DOC)
    @require_roles(*STAFF_ROLES)
    def get(self, args):
        """회차별 통계 / Counters per session (month = the month the session starts)"""
        f = Filters.from_args(args)
        with _db().session_factory() as s:
            items = queries.sessions(s, args["year"], f)
        if args["format"] != "json":
            return download(args["format"], cols.SESSION_COLUMNS, items, f"회차별통계_{args['year']}", "회차별 통계")
        return _paged(items, args, year=args["year"], filters=f.as_dict())


@blp.route("/organisations")
class Organisations(MethodView):
    @blp.arguments(GroupQuery, location="query")
    @blp.response(200, GroupPage)
    @blp.doc(**DOWNLOAD_DOC)
    @require_roles(*STAFF_ROLES)
    def get(self, args):
        """기관유형별 통계 / Counters per organisation type (or grade, job series: group_by)"""
        f = Filters.from_args(args)
        with _db().session_factory() as s:
            items = queries.organisations(s, args["year"], args["group_by"], f, english=wants_english())
        if args["format"] != "json":
            names = {"organisation_type": "기관유형별통계", "grade": "직급별통계", "job_series": "직렬별통계"}
            return download(args["format"], cols.GROUP_COLUMNS, items, f"{names[args['group_by']]}_{args['year']}",
                            names[args["group_by"]])
        return _paged(items, args, year=args["year"], filters=f.as_dict())


@blp.route("/months")
class Months(MethodView):
    @blp.arguments(MonthQuery, location="query")
    @blp.response(200, MonthList)
    @blp.doc(**DOWNLOAD_DOC)
    @require_roles(*STAFF_ROLES)
    def get(self, args):
        """월별 통계 / Counters and planned capacity per month the sessions start (March/September peaks)"""
        f = Filters.from_args(args)
        with _db().session_factory() as s:
            items = queries.months(s, args["year"], f)
        if args["format"] != "json":
            return download(args["format"], cols.MONTH_COLUMNS, items, f"월별통계_{args['year']}", "월별 통계")
        return {"year": args["year"], "filters": f.as_dict(), "items": items}


# --- rebuild and reconcile -------------------------------------------------------------------------

@blp.route("/rebuild")
class Rebuild(MethodView):
    @blp.arguments(RebuildIn, examples={"default": {"value": {}}})
    @blp.response(202, RebuildOut)
    @require_roles("admin")
    def post(self, data):
        """읽기 모델 재구축 / Wipe the read model and rebuild it from enrollment's event history (admin)"""
        p = current_principal()
        return maintenance.start_rebuild(_db().session_factory, current_app.extensions["celery"],
                                         f"{p.role}:{p.subject}",
                                         data.get("page_size") or current_app.config["REPLAY_PAGE_SIZE"])

    @blp.response(200, RebuildOut)
    @require_roles(*STAFF_ROLES)
    def get(self):
        """재구축 진행 상황 / The latest rebuild and its progress"""
        with _db().session_factory() as s:
            row = maintenance.get_rebuild(s)
        if row is None:
            raise AppError(404, "not_found", "재구축 기록이 없습니다.", "No rebuild has been run.")
        return row


@blp.route("/reconcile")
class Reconcile(MethodView):
    @blp.arguments(ReconcileIn, examples={"2019": {"value": {"year": 2019}}})
    @blp.response(202, ReconciliationOut)
    @require_roles(*STAFF_ROLES)
    def post(self, data):
        """대사 요청 / Ask the enrollment service for its counts of a year and compare them with the read model"""
        p = current_principal()
        return maintenance.start_reconcile(_db().session_factory, current_app.extensions["celery"], data["year"],
                                           f"{p.role}:{p.subject}")


@blp.route("/reconciliation")
class Reconciliation(MethodView):
    @blp.arguments(ReconciliationQuery, location="query")
    @blp.response(200, ReconciliationPage)
    @blp.doc(**DOWNLOAD_DOC)
    @require_roles(*STAFF_ROLES)
    def get(self, args):
        """대사 결과 / The latest compared reconciliation: per course and status (and counter),
        read model vs enrollment service"""
        with _db().session_factory() as s:
            rec = maintenance.get_reconciliation(s, year=args.get("year"), compared_only=True)
            items = maintenance.reconciliation_rows(s, rec["id"], args["only_differences"], args.get("kind")) if rec else []
        if args["format"] != "json":
            return download(args["format"], cols.RECONCILIATION_COLUMNS, items,
                            f"대사결과_{rec['year'] if rec else 'none'}", "대사 결과")
        return {"reconciliation": rec, **queries._page(items, args["page"], args["per_page"])}
