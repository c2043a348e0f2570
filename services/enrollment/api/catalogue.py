"""/api/v1/courses, /api/v1/sessions, /api/v1/trainees."""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import or_, select

from services.enrollment.adapters import orm as T
from services.enrollment.api import schemas as S
from services.enrollment.api.pagination import paginate
from services.enrollment.service_layer import catalogue, enrollments
from services.enrollment.service_layer.errors import not_found
from services.enrollment.service_layer.unit_of_work import from_app
from shared.auth import STAFF_ROLES, current_principal, ensure_can_see_trainee, require_roles

blp = Blueprint("catalogue", __name__, url_prefix="/api/v1", description="과정·회차·교육생 / Courses, sessions, trainees")


def _db():
    return current_app.extensions["db"]


def _prereq_map(s, course_ids):
    rows = s.execute(select(T.course_prerequisites.c.course_id, T.courses.c.id, T.courses.c.code)
                     .join(T.courses, T.courses.c.id == T.course_prerequisites.c.required_course_id)
                     .where(T.course_prerequisites.c.course_id.in_(course_ids))).all()
    out: dict[int, list] = {}
    for course_id, rid, code in rows:
        out.setdefault(course_id, []).append((rid, code))
    return out


@blp.route("/courses")
class Courses(MethodView):
    @blp.arguments(S.CourseQuery, location="query")
    @blp.response(200, S.page_of(S.CourseOut))
    def get(self, args):
        """과정 목록 / List courses (filter by year, delivery, area, name)"""
        q = select(T.courses)
        for key in ("year", "delivery", "competency_area", "status", "generated"):
            if key in args:
                q = q.where(getattr(T.courses.c, key) == args[key])
        if args.get("q"):
            like = f"%{args['q']}%"
            q = q.where(or_(T.courses.c.name_ko.like(like), T.courses.c.name_en.like(like), T.courses.c.code.like(like)))
        with _db().session_factory() as s:
            page = paginate(s, q, args["page"], args["per_page"], [T.courses.c.code])
            prereqs = _prereq_map(s, [c["id"] for c in page["items"]])
        for c in page["items"]:
            c["prerequisite_course_ids"] = [i for i, _ in prereqs.get(c["id"], [])]
            c["prerequisite_codes"] = [code for _, code in prereqs.get(c["id"], [])]
        return page

    @blp.arguments(S.CourseIn)
    @blp.response(201, S.CourseOut)
    @require_roles(*STAFF_ROLES)
    def post(self, data):
        """과정 등록 / Create a course"""
        return catalogue.create_course(from_app(current_app), data)


@blp.route("/courses/<int:course_id>")
class CourseById(MethodView):
    @blp.response(200, S.CourseOut)
    def get(self, course_id):
        """과정 조회 / Get a course"""
        with _db().session_factory() as s:
            row = s.execute(select(T.courses).where(T.courses.c.id == course_id)).first()
            if row is None:
                raise not_found("과정", "Course", course_id)
            prereqs = _prereq_map(s, [course_id]).get(course_id, [])
        return {**dict(row._mapping), "prerequisite_course_ids": [i for i, _ in prereqs],
                "prerequisite_codes": [c for _, c in prereqs]}


@blp.route("/sessions")
class Sessions(MethodView):
    @blp.arguments(S.SessionQuery, location="query")
    @blp.response(200, S.page_of(S.SessionOut))
    def get(self, args):
        """회차 목록 / List sessions"""
        q = select(T.sessions)
        if "course_id" in args:
            q = q.where(T.sessions.c.course_id == args["course_id"])
        if "status" in args:
            q = q.where(T.sessions.c.status == args["status"])
        if "year" in args or "delivery" in args:
            q = q.join(T.courses, T.courses.c.id == T.sessions.c.course_id)
            if "year" in args:
                q = q.where(T.courses.c.year == args["year"])
            if "delivery" in args:
                q = q.where(T.courses.c.delivery == args["delivery"])
        if "starts_from" in args:
            q = q.where(T.sessions.c.starts_on >= args["starts_from"])
        if "starts_to" in args:
            q = q.where(T.sessions.c.starts_on <= args["starts_to"])
        with _db().session_factory() as s:
            return paginate(s, q, args["page"], args["per_page"], [T.sessions.c.starts_on, T.sessions.c.id])

    @blp.arguments(S.SessionIn)
    @blp.response(201, S.SessionOut)
    @require_roles(*STAFF_ROLES)
    def post(self, data):
        """회차 등록 / Create a session of a course"""
        return catalogue.create_session(from_app(current_app), data)


@blp.route("/sessions/<int:session_id>")
class SessionById(MethodView):
    @blp.response(200, S.SessionOut)
    def get(self, session_id):
        """회차 조회 / Get a session"""
        with _db().session_factory() as s:
            row = s.execute(select(T.sessions).where(T.sessions.c.id == session_id)).first()
        if row is None:
            raise not_found("회차", "Session", session_id)
        return dict(row._mapping)

    @blp.arguments(S.SessionPatch, examples={
        "reschedule": {"value": {"starts_on": "2019-03-18", "ends_on": "2019-03-19"}},
        "grow": {"value": {"capacity": 40}}})
    @blp.response(200, S.SessionOut)
    @require_roles(*STAFF_ROLES)
    def patch(self, data, session_id):
        """회차 변경 / Reschedule, resize (a bigger capacity promotes the waitlist) or re-window a session"""
        return catalogue.update_session(from_app(current_app), session_id, data, actor=_actor())


@blp.route("/sessions/<int:session_id>/cancel")
class CancelSession(MethodView):
    @blp.arguments(S.SessionCancelIn, examples={"cancel": {"value": {"reason": "강사 사정"}}})
    @blp.response(200, S.SessionCancelOut)
    @require_roles(*STAFF_ROLES)
    def post(self, data, session_id):
        """회차 취소 / Cancel a session and all its open enrollments"""
        return catalogue.cancel_session(from_app(current_app), session_id, actor=_actor(), reason=data.get("reason"))


@blp.route("/sessions/<int:session_id>/attendance")
class SessionAttendance(MethodView):
    @blp.arguments(S.SessionOutcomesIn, examples={"batch": {"value": {"records": [
        {"enrollment_id": 1, "outcome": "completed"}, {"trainee_id": 7, "outcome": "no_show"}]}}})
    @blp.response(200, S.EnrollmentList)
    @require_roles(*STAFF_ROLES)
    def post(self, data, session_id):
        """회차 출결·수료 일괄 기록 / Record attendance or completion for many enrollments of a session (all or nothing)"""
        items = enrollments.record_session_outcomes(from_app(current_app), session_id, data["records"], _actor())
        return {"items": items}


def _actor() -> str:
    p = current_principal()
    return f"{p.role}:{p.subject}"


@blp.route("/trainees")
class Trainees(MethodView):
    @blp.arguments(S.TraineeQuery, location="query")
    @blp.response(200, S.page_of(S.TraineeOut))
    def get(self, args):
        """교육생 목록 / List trainees (a trainee sees only itself)"""
        q = select(T.trainees)
        p = current_principal()
        if not p.is_staff:
            q = q.where(T.trainees.c.id == (p.trainee_id or -1))
        for key in ("organisation_type", "grade", "job_series", "department"):
            if key in args:
                q = q.where(getattr(T.trainees.c, key) == args[key])
        if args.get("q"):
            like = f"%{args['q']}%"
            q = q.where(or_(T.trainees.c.name.like(like), T.trainees.c.employee_no.like(like)))
        with _db().session_factory() as s:
            return paginate(s, q, args["page"], args["per_page"], [T.trainees.c.id])

    @blp.arguments(S.TraineeIn)
    @blp.response(201, S.TraineeOut)
    @require_roles(*STAFF_ROLES)
    def post(self, data):
        """교육생 등록 / Register a trainee"""
        return catalogue.create_trainee(from_app(current_app), data)


@blp.route("/trainees/<int:trainee_id>")
class TraineeById(MethodView):
    @blp.response(200, S.TraineeOut)
    def get(self, trainee_id):
        """교육생 조회 / Get a trainee"""
        ensure_can_see_trainee(trainee_id)
        with _db().session_factory() as s:
            row = s.execute(select(T.trainees).where(T.trainees.c.id == trainee_id)).first()
        if row is None:
            raise not_found("교육생", "Trainee", trainee_id)
        return dict(row._mapping)
