"""HTTP entrypoints of bulk enrollment: /api/v1/bulk-enrollments, /api/v1/onboarding-tracks,
/api/v1/trainees/{id}/timeline, and (nested) the admin page at /admin/bulk."""
from __future__ import annotations

import csv
import io

import click
import flask
from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict
from sqlalchemy import func, select

from services.enrollment.adapters import bulk_orm as B
from services.enrollment.adapters import orm as T
from services.enrollment.api.pagination import paginate
from services.enrollment.api.schemas import PageQuery, page_of
from services.enrollment.bulk import service, tracks
from services.enrollment.bulk.service import Deps
from services.enrollment.domain.onboarding import timeline
from services.enrollment.service_layer.errors import not_found
from services.enrollment.web import web_blp
from shared.auth import STAFF_ROLES, current_principal, ensure_can_see_trainee, require_roles
from shared.errors import AppError



class _MultipartParser(FlaskParser):
    """On this blueprint the ``form`` location is a whole multipart/form-data body: fields AND files (so one
    schema documents the upload, and validation errors are reported per field like any form)."""

    __location_map__ = {**FlaskParser.__location_map__, "form": "load_multipart"}

    def load_multipart(self, req, schema):
        return MultiDictProxy(CombinedMultiDict([req.form, req.files]), schema)


class _Blueprint(Blueprint):
    ARGUMENTS_PARSER = _MultipartParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "form": "multipart/form-data"}


blp = _Blueprint("bulk", __name__, description="신규임용자 일괄 등록과 교육 트랙 / Bulk enrollment of new hires")
# The admin page rides on this blueprint (one registration in app.py); Flask's own nesting, because
# flask-smorest's override only nests API blueprints and the page is not part of the OpenAPI document.
flask.Blueprint.register_blueprint(blp, web_blp)

JOB_STATES = ("queued", "running", "done", "failed")
EXAMPLE_JOB = {
    "id": "5f0c3b8e2a9d4c1e9b7a6d5c4b3a2f10", "state": "running", "dry_run": False, "track_id": 1,
    "source_job_id": None, "created_by": "admin:admin", "file_format": "csv", "encoding": "cp949",
    "created_at": "2019-01-02T09:00:00+09:00", "started_at": "2019-01-02T09:00:00+09:00", "finished_at": None,
    "progress": {"rows_total": 3020, "rows_read": 3020, "rows_done": 1500, "rows_failed": 4, "percent": 49.8,
                 "chunks_total": 4, "chunks_done": 2, "rate_rows_per_s": 1200.0, "eta_seconds": 1.3,
                 "elapsed_seconds": 1.25},
    "trainees": {"created": 1500, "updated": 0, "unchanged": 0},
    "enrollments": {"created": 4500, "existing": 0, "confirmed": 4300, "waitlisted": 200},
    "preview": None, "error": None,
    "errors_sample": [{"line": 7, "employee_no": "2019000005", "field": "mobile",
                       "reason_ko": "휴대전화: 휴대전화 번호 형식이 아닙니다 (예: 010-1234-5678).",
                       "reason_en": "Mobile: not a Korean mobile number (e.g. 010-1234-5678)", "value": "02-123"}]}


# --- schemas ---------------------------------------------------------------------------------



class StageOut(Schema):
    seq = fields.Integer()
    key = fields.String(metadata={"example": "pre_classroom"})
    name_ko = fields.String(metadata={"example": "임용 전 집합교육 (7~9급 신입자 4주)"})
    name_en = fields.String()
    phase = fields.String(metadata={"description": "pre | post: before or after the appointment date"})
    enrolls = fields.Boolean(metadata={"description": "false: on the timeline only (department adaptation)"})
    offset_days = fields.Integer(metadata={"description": "ideal start relative to the appointment date",
                                           "example": -28})
    duration_days = fields.Integer(metadata={"example": 28})
    window_before_days = fields.Integer()
    window_after_days = fields.Integer()
    gate_from = fields.String(allow_none=True, metadata={"description": "start | end of the previous stage's session"})
    gate_days = fields.Integer()
    courses = fields.Dict(keys=fields.String(), values=fields.String(),
                          metadata={"example": {"*": "7~9급 신입자"},
                                    "description": "series group (or * for everyone) → course name"})


class TrackRef(Schema):
    id = fields.Integer()
    code = fields.String(metadata={"example": "ONB-7-9"})
    version = fields.Integer(metadata={"example": 1})
    year = fields.Integer(metadata={"example": 2019})
    name_ko = fields.String()
    name_en = fields.String()


class TrackOut(TrackRef):
    grades = fields.List(fields.String(), metadata={"example": ["7급", "8급", "9급"]})
    series_groups = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    active = fields.Boolean()
    stages = fields.List(fields.Nested(StageOut))


class TrackQuery(PageQuery):
    year = fields.Integer()
    active = fields.Boolean()
    code = fields.String()


class TimelineStageOut(Schema):
    seq = fields.Integer()
    key = fields.String()
    name_ko = fields.String()
    name_en = fields.String()
    phase = fields.String()
    enrolls = fields.Boolean()
    planned_start = fields.Date(metadata={"description": "from the appointment date and the stage offsets"})
    planned_end = fields.Date()
    start = fields.Date(metadata={"description": "the placed session's dates (or the gap between sessions)"})
    end = fields.Date()
    status = fields.String(allow_none=True, metadata={"description": "enrollment status; planned; null = not placed"})
    course = fields.String(allow_none=True)
    session_id = fields.Integer(allow_none=True)
    seq_no = fields.Integer(allow_none=True)
    enrollment_id = fields.Integer(allow_none=True)


class TimelineOut(Schema):
    trainee_id = fields.Integer()
    employee_no = fields.String()
    name = fields.String()
    job_series = fields.String(allow_none=True)
    series_group = fields.String(allow_none=True, metadata={"example": "행정직군"})
    appointed_on = fields.Date(allow_none=True)
    track = fields.Nested(TrackRef, allow_none=True)
    stages = fields.List(fields.Nested(TimelineStageOut))


class UploadIn(Schema):
    file = Upload(required=True, metadata={
        "description": "CSV (UTF-8, UTF-8 with BOM, CP949) or XLSX with the headers of docs/bulk-enrollment.md"})
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "validate and preview (rows ok/bad, trainees new/updated, enrollments per stage and "
                       "session) without writing"})
    track = fields.String(load_default=None, allow_none=True, metadata={
        "description": "track code (default: the active track of the latest year)", "example": "ONB-7-9"})


class ProgressOut(Schema):
    rows_total = fields.Integer(allow_none=True, metadata={"description": "null until the whole file is read"})
    rows_read = fields.Integer()
    rows_done = fields.Integer()
    rows_failed = fields.Integer()
    percent = fields.Float()
    chunks_total = fields.Integer(allow_none=True)
    chunks_done = fields.Integer()
    rate_rows_per_s = fields.Float(allow_none=True)
    eta_seconds = fields.Float(allow_none=True)
    elapsed_seconds = fields.Float()


class RowErrorOut(Schema):
    line = fields.Integer()
    employee_no = fields.String(allow_none=True)
    field = fields.String(allow_none=True)
    reason_ko = fields.String()
    reason_en = fields.String()
    value = fields.String(allow_none=True)


class JobOut(Schema):
    id = fields.String()
    state = fields.String(metadata={"description": "queued | running | done | failed"})
    dry_run = fields.Boolean()
    track_id = fields.Integer()
    source_job_id = fields.String(allow_none=True)
    created_by = fields.String(allow_none=True)
    file_format = fields.String(allow_none=True)
    encoding = fields.String(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    progress = fields.Nested(ProgressOut)
    trainees = fields.Dict(keys=fields.String(), values=fields.Integer())
    enrollments = fields.Dict(keys=fields.String(), values=fields.Integer())
    preview = fields.Dict(allow_none=True, metadata={"description": "dry run only: rows, trainees, enrollments, "
                                                                    "stages[].sessions[] with confirmed/waitlisted"})
    error = fields.Dict(allow_none=True)
    errors_sample = fields.List(fields.Nested(RowErrorOut))


class JobQuery(PageQuery):
    state = fields.String(validate=validate.OneOf(JOB_STATES))
    dry_run = fields.Boolean()




def _deps() -> Deps:
    return Deps.from_app(current_app)


def _actor() -> str:
    p = current_principal()
    return f"{p.role}:{p.subject}"


# --- tracks and timelines ---------------------------------------------------------------------

def _track_dict(row, stages) -> dict:
    return {**dict(row._mapping), "stages": [dict(s._mapping) for s in stages]}


@blp.route("/api/v1/onboarding-tracks")
class OnboardingTracks(MethodView):
    @blp.arguments(TrackQuery, location="query")
    @blp.response(200, page_of(TrackOut))
    def get(self, args):
        """교육 트랙 목록 / List onboarding tracks (ordered stages relative to the appointment date)"""
        tracks.install_bundled(current_app.extensions["db"].session_factory)
        q = select(B.onboarding_tracks)
        for key in ("year", "active", "code"):
            if key in args:
                q = q.where(getattr(B.onboarding_tracks.c, key) == args[key])
        with current_app.extensions["db"].session_factory() as s:
            page = paginate(s, q, args["page"], args["per_page"],
                            [B.onboarding_tracks.c.year.desc(), B.onboarding_tracks.c.code,
                             B.onboarding_tracks.c.version.desc()])
            ids = [t["id"] for t in page["items"]]
            stages = s.execute(select(B.onboarding_stages).where(B.onboarding_stages.c.track_id.in_(ids))
                               .order_by(B.onboarding_stages.c.seq)).all() if ids else []
        for t in page["items"]:
            t["stages"] = [dict(st._mapping) for st in stages if st.track_id == t["id"]]
        return page


@blp.route("/api/v1/trainees/<int:trainee_id>/timeline")
class TraineeTimeline(MethodView):
    @blp.response(200, TimelineOut)
    def get(self, trainee_id):
        """교육생의 신규자 트랙 일정 / A trainee's onboarding timeline (stages, sessions, statuses)"""
        ensure_can_see_trainee(trainee_id)
        with current_app.extensions["db"].session_factory() as s:
            trainee = s.execute(select(T.trainees).where(T.trainees.c.id == trainee_id)).first()
            if trainee is None:
                raise not_found("교육생", "Trainee", trainee_id)
            out = {"trainee_id": trainee.id, "employee_no": trainee.employee_no, "name": trainee.name,
                   "job_series": trainee.job_series, "appointed_on": trainee.appointed_on, "series_group": None,
                   "track": None, "stages": []}
            member = s.execute(select(B.onboarding_members).where(B.onboarding_members.c.trainee_id == trainee_id)
                               .order_by(B.onboarding_members.c.track_id.desc()).limit(1)).first()
            if member is None or trainee.appointed_on is None:
                return out
            track_row = s.execute(select(B.onboarding_tracks).where(B.onboarding_tracks.c.id == member.track_id)).one()
            track = tracks.load_track(s, member.track_id)
            slots, ids = tracks.load_slots(s, track)
            by_id = {sl.id: sl for sl in slots}
            rows = s.execute(select(T.enrollments.c.id, T.enrollments.c.session_id, T.enrollments.c.course_id,
                                    T.enrollments.c.status)
                             .where(T.enrollments.c.trainee_id == trainee_id,
                                    T.enrollments.c.course_id.in_(list(ids.values()) or [-1]),
                                    T.enrollments.c.status != "cancelled").order_by(T.enrollments.c.id)).all()
        name_of = {v: k for k, v in ids.items()}
        placed = {}
        for stage in track.enrolling_stages:
            course = stage.course_for(member.series_group)
            e = next((r for r in rows if name_of.get(r.course_id) == course), None)
            if e is not None and e.session_id in by_id:
                placed[stage.key] = (by_id[e.session_id], e.id, e.status)
        out.update(series_group=member.series_group, track=dict(track_row._mapping))
        for entry in timeline(track, trainee.appointed_on, placed):
            st = entry.stage
            slot = by_id.get(entry.session_id) if entry.session_id else None
            out["stages"].append({
                "seq": st.seq, "key": st.key, "name_ko": st.name_ko, "name_en": st.name_en, "phase": st.phase,
                "enrolls": st.enrolls, "planned_start": entry.planned_start, "planned_end": entry.planned_end,
                "start": entry.start, "end": entry.end, "status": entry.status,
                "course": st.course_for(member.series_group) if st.enrolls else None,
                "session_id": entry.session_id, "seq_no": slot.seq_no if slot else None,
                "enrollment_id": entry.enrollment_id})
        return out


# --- bulk jobs --------------------------------------------------------------------------------

@blp.route("/api/v1/bulk-enrollments")
class BulkEnrollments(MethodView):
    @blp.arguments(JobQuery, location="query")
    @blp.response(200, page_of(JobOut))
    @require_roles(*STAFF_ROLES)
    def get(self, args):
        """일괄 등록 작업 목록 / List bulk enrollment jobs (newest first)"""
        q = select(B.bulk_jobs)
        for key in ("state", "dry_run"):
            if key in args:
                q = q.where(getattr(B.bulk_jobs.c, key) == args[key])
        with current_app.extensions["db"].session_factory() as s:
            total = s.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            rows = s.execute(q.order_by(B.bulk_jobs.c.created_at.desc(), B.bulk_jobs.c.id)
                             .limit(args["per_page"]).offset((args["page"] - 1) * args["per_page"])).all()
        return {"items": [service.job_view(r) for r in rows], "total": total, "page": args["page"],
                "per_page": args["per_page"]}

    @blp.arguments(UploadIn, location="form")
    @blp.response(202, JobOut, example=EXAMPLE_JOB)
    @blp.alt_response(422, description="unreadable file, unknown encoding or missing required columns")
    @blp.alt_response(409, description="the plan lacks the track's courses")
    @require_roles(*STAFF_ROLES)
    def post(self, form):
        """신규임용자 명단 업로드 / Upload the new-hire list: returns 202 with a job at once, the work runs in chunks"""
        limit = int(current_app.config.get("BULK_MAX_UPLOAD_BYTES", 64 << 20))
        if request.content_length and request.content_length > limit:
            raise AppError(413, "file_too_large", f"파일이 너무 큽니다 (최대 {limit >> 20}MB).",
                           f"The file is too large (max {limit >> 20} MB).")
        upload = form["file"]
        return service.create_job(_deps(), upload.stream, upload.filename, dry_run=form["dry_run"],
                                  track_code=form.get("track"), actor=_actor()), 202


@blp.route("/api/v1/bulk-enrollments/<string:job_id>")
class BulkEnrollmentById(MethodView):
    @blp.response(200, JobOut, example=EXAMPLE_JOB)
    @require_roles(*STAFF_ROLES)
    def get(self, job_id):
        """일괄 등록 진행 상황 / Job state and progress: rows done/failed/total, rate, ETA (dry run: preview)"""
        return service.get_job(_deps(), job_id)


@blp.route("/api/v1/bulk-enrollments/<string:job_id>/start")
class StartBulkEnrollment(MethodView):
    @blp.response(202, JobOut)
    @require_roles(*STAFF_ROLES)
    def post(self, job_id):
        """사전 점검한 파일로 등록 시작 / Start for real the file a finished dry run checked (a new job)"""
        return service.start_from_dry_run(_deps(), job_id, _actor()), 202


ERROR_HEADERS = ("행번호", "사번", "항목", "사유", "Reason (English)", "입력값")


@blp.route("/api/v1/bulk-enrollments/<string:job_id>/errors.csv")
class BulkEnrollmentErrors(MethodView):
    @blp.response(200, content_type="text/csv", description="UTF-8 with BOM; Korean headers: " + ", ".join(ERROR_HEADERS))
    @require_roles(*STAFF_ROLES)
    def get(self, job_id):
        """오류 행 내려받기 / Every rejected row with its line and reason (CSV for Excel)"""
        deps = _deps()
        service.get_job(deps, job_id)  # 404 for an unknown job

        def generate():
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\r\n")
            writer.writerow(ERROR_HEADERS)
            yield "\ufeff" + buf.getvalue()
            for e in service.iter_errors(deps, job_id):
                buf.seek(0)
                buf.truncate()
                writer.writerow((e.line, e.employee_no or "", service.field_label(e.field)[0], e.reason_ko,
                                 e.reason_en, e.value or ""))
                yield buf.getvalue()

        name = f"bulk-{job_id}-errors.csv"
        return Response(generate(), mimetype="text/csv", content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- CLI: flask --app services.enrollment.app:create_app bulk ... -------------------------------

@blp.cli.command("install-tracks")
def install_tracks_command():
    """Install the bundled onboarding track definitions (idempotent)."""
    added = tracks.install_bundled(current_app.extensions["db"].session_factory)
    click.echo(f"onboarding tracks installed: {added} new")


@blp.cli.command("load-onboarding-demo")
def load_onboarding_demo_command():
    """Create the 2019 demo plan's onboarding courses if the plan is not loaded (tests, benchmarks)."""
    from services.enrollment.bulk.demo import install_onboarding_courses
    from services.enrollment.service_layer.unit_of_work import from_app
    db = current_app.extensions["db"]
    tracks.install_bundled(db.session_factory)
    with db.session_factory() as s:
        track = tracks.load_track(s, tracks.resolve_track_id(s))
    n = install_onboarding_courses(lambda: from_app(current_app), track)
    click.echo(f"onboarding courses created: {n}")

