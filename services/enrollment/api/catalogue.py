"""/api/v1/courses, /api/v1/sessions, /api/v1/trainees."""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import or_, select

from services.enrollment.adapters import orm as T
from services.enrollment.api import schemas as S
from services.enrollment.api.pagination import paginate
from services.enrollment.service_layer import catalogue
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
        for key in ("year", "delivery", "competency_area"):
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
        if "year" in args:
            q = q.join(T.courses, T.courses.c.id == T.sessions.c.course_id).where(T.courses.c.year == args["year"])
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
        for key in ("organisation_type", "grade"):
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
