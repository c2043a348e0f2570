"""/api/v1/enrollments and /api/v1/enrollments/{id}/cancel."""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from services.enrollment.adapters import orm as T
from services.enrollment.api import schemas as S
from services.enrollment.api.pagination import paginate
from services.enrollment.service_layer import enrollments
from services.enrollment.service_layer.errors import not_found
from services.enrollment.service_layer.unit_of_work import from_app
from shared.auth import current_principal, ensure_can_see_trainee

blp = Blueprint("enrollments", __name__, url_prefix="/api/v1", description="수강신청 / Enrollments")


@blp.route("/enrollments")
class Enrollments(MethodView):
    @blp.arguments(S.EnrollmentQuery, location="query")
    @blp.response(200, S.page_of(S.EnrollmentOut))
    def get(self, args):
        """수강신청 목록 / List enrollments (a trainee sees only its own)"""
        p = current_principal()
        if not p.is_staff:
            args["trainee_id"] = p.trainee_id or -1
        q = select(T.enrollments)
        for key in ("trainee_id", "session_id", "course_id", "status"):
            if key in args:
                q = q.where(getattr(T.enrollments.c, key) == args[key])
        with current_app.extensions["db"].session_factory() as s:
            return paginate(s, q, args["page"], args["per_page"], [T.enrollments.c.id])

    @blp.arguments(S.EnrollmentIn, examples={"enroll": {"value": {"trainee_id": 1, "session_id": 1}}})
    @blp.response(201, S.EnrollmentOut)
    def post(self, data):
        """수강신청 / Enroll a trainee in a session: confirmed if a seat is free, else waitlisted"""
        ensure_can_see_trainee(data["trainee_id"])
        p = current_principal()
        return enrollments.enroll(from_app(current_app), data["trainee_id"], data["session_id"],
                                  actor=f"{p.role}:{p.subject}")


@blp.route("/enrollments/<int:enrollment_id>")
class EnrollmentById(MethodView):
    @blp.response(200, S.EnrollmentOut)
    def get(self, enrollment_id):
        """수강신청 조회 / Get an enrollment"""
        with current_app.extensions["db"].session_factory() as s:
            row = s.execute(select(T.enrollments).where(T.enrollments.c.id == enrollment_id)).first()
        if row is None:
            raise not_found("수강신청", "Enrollment", enrollment_id)
        ensure_can_see_trainee(row.trainee_id)
        return dict(row._mapping)


@blp.route("/enrollments/<int:enrollment_id>/cancel")
class CancelEnrollment(MethodView):
    @blp.arguments(S.CancelIn)
    @blp.response(200, S.EnrollmentOut)
    def post(self, data, enrollment_id):
        """수강취소 / Cancel an enrollment; a freed seat goes to the first on the waitlist"""
        with current_app.extensions["db"].session_factory() as s:
            row = s.execute(select(T.enrollments.c.trainee_id).where(T.enrollments.c.id == enrollment_id)).first()
        if row is None:
            raise not_found("수강신청", "Enrollment", enrollment_id)
        ensure_can_see_trainee(row.trainee_id)
        p = current_principal()
        return enrollments.cancel(from_app(current_app), enrollment_id, actor=f"{p.role}:{p.subject}",
                                  reason=data.get("reason"))
