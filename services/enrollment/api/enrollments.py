"""/api/v1/enrollments, /enrollments/{id}/cancel, /history, /attendance, /survey."""
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
from shared.auth import STAFF_ROLES, current_principal, ensure_can_see_trainee, require_roles
from shared.errors import AppError

blp = Blueprint("enrollments", __name__, url_prefix="/api/v1", description="수강신청 / Enrollments")

REFUSALS = {
    404: "unknown trainee or session",
    409: "already_enrolled | schedule_conflict | enrollment_not_open | enrollment_closed | session_cancelled",
    422: "eligibility_organisation | eligibility_grade | eligibility_job_series | validation_error",
}


def _db():
    return current_app.extensions["db"]


def _actor() -> str:
    p = current_principal()
    return f"{p.role}:{p.subject}"


def _owner(enrollment_id: int) -> int:
    with _db().session_factory() as s:
        row = s.execute(select(T.enrollments.c.trainee_id).where(T.enrollments.c.id == enrollment_id)).first()
    if row is None:
        raise not_found("수강신청", "Enrollment", enrollment_id)
    ensure_can_see_trainee(row.trainee_id)
    return row.trainee_id


@blp.route("/enrollments")
class Enrollments(MethodView):
    @blp.arguments(S.EnrollmentQuery, location="query")
    @blp.response(200, S.page_of(S.EnrollmentOut))
    def get(self, args):
        """수강신청 목록 / List enrollments (filter by trainee, session, course, status, year; a trainee sees only its own)"""
        p = current_principal()
        if not p.is_staff:
            args["trainee_id"] = p.trainee_id or -1
        q = select(T.enrollments)
        for key in ("trainee_id", "session_id", "course_id", "status"):
            if key in args:
                q = q.where(getattr(T.enrollments.c, key) == args[key])
        if "year" in args:
            q = q.join(T.courses, T.courses.c.id == T.enrollments.c.course_id).where(T.courses.c.year == args["year"])
        with _db().session_factory() as s:
            return paginate(s, q, args["page"], args["per_page"], [T.enrollments.c.id])

    # an instance, not the class: webargs would build a Schema per request (~0.15 ms on the hot path)
    @blp.arguments(S.EnrollmentIn(), examples={
        "enroll": {"value": {"trainee_id": 1, "session_id": 1}},
        "staff override of the enrollment window": {"value": {"trainee_id": 1, "session_id": 1,
                                                              "override_window": True}}})
    @blp.response(201, S.EnrollmentOut, example={
        "id": 10, "trainee_id": 1, "session_id": 1, "course_id": 3, "status": "confirmed", "version": 1,
        "holds_seat": True, "prerequisite_deadline": None, "source": "api",
        "requested_at": "2019-02-01T01:00:00+00:00", "updated_at": "2019-02-01T01:00:00+00:00"})
    @blp.alt_response(409, description=REFUSALS[409])
    @blp.alt_response(422, description=REFUSALS[422])
    def post(self, data):
        """수강신청 / Enroll: confirmed if a seat is free, else waitlisted; `requested` while prerequisites are checked

        Refused with a reason when the trainee is not eligible (organisation, grade, job series), already
        has an overlapping classroom session, or the enrollment window is closed (staff may pass
        `override_window`). A course with prerequisite e-learning the trainee has not completed answers
        `requested`; a background task then makes it `pending_prerequisite` (seat held, e-learning enrolled,
        deadline set) or `confirmed`."""
        ensure_can_see_trainee(data["trainee_id"])
        if data.get("override_window") and not current_principal().is_staff:
            raise AppError(403, "forbidden", "신청 기간 예외는 담당자만 지정할 수 있습니다.",
                           "Only staff may override the enrollment window.", {"override_window": ["staff only"]})
        return enrollments.enroll(from_app(current_app), data["trainee_id"], data["session_id"], actor=_actor(),
                                  override_window=data.get("override_window", False))


@blp.route("/enrollments/<int:enrollment_id>")
class EnrollmentById(MethodView):
    @blp.response(200, S.EnrollmentOut)
    def get(self, enrollment_id):
        """수강신청 조회 / Get an enrollment"""
        with _db().session_factory() as s:
            row = s.execute(select(T.enrollments).where(T.enrollments.c.id == enrollment_id)).first()
        if row is None:
            raise not_found("수강신청", "Enrollment", enrollment_id)
        ensure_can_see_trainee(row.trainee_id)
        return dict(row._mapping)


@blp.route("/enrollments/<int:enrollment_id>/history")
class EnrollmentHistory(MethodView):
    @blp.response(200, S.HistoryList, example={"items": [
        {"id": 1, "enrollment_id": 10, "from_status": None, "to_status": "requested", "actor": "trainee:t1",
         "reason": None, "at": "2019-02-01T01:00:00+00:00"},
        {"id": 2, "enrollment_id": 10, "from_status": "requested", "to_status": "confirmed", "actor": "trainee:t1",
         "reason": None, "at": "2019-02-01T01:00:00+00:00"}]})
    def get(self, enrollment_id):
        """상태 변경 이력 / The enrollment's append-only history of transitions (who, when, why)"""
        _owner(enrollment_id)
        with _db().session_factory() as s:
            return {"items": enrollments.history(s, enrollment_id)}


@blp.route("/enrollments/<int:enrollment_id>/cancel")
class CancelEnrollment(MethodView):
    @blp.arguments(S.CancelIn, examples={"cancel": {"value": {"reason": "개인 사정"}}})
    @blp.response(200, S.EnrollmentOut)
    @blp.alt_response(409, description="not_cancellable (attended, completed, ... or already cancelled)")
    def post(self, data, enrollment_id):
        """수강취소 / Cancel an open enrollment; a freed seat goes to the first waitlisted trainee without a conflict"""
        _owner(enrollment_id)
        return enrollments.cancel(from_app(current_app), enrollment_id, actor=_actor(), reason=data.get("reason"))


@blp.route("/enrollments/<int:enrollment_id>/attendance")
class Attendance(MethodView):
    @blp.arguments(S.OutcomeIn, examples={"attended": {"value": {"outcome": "attended"}},
                                          "completed": {"value": {"outcome": "completed"}},
                                          "no-show": {"value": {"outcome": "no_show", "reason": "무단 불참"}}})
    @blp.response(200, S.EnrollmentOut)
    @blp.alt_response(409, description="illegal_transition")
    @require_roles(*STAFF_ROLES)
    def post(self, data, enrollment_id):
        """출결·수료 기록 / Record attended, no_show, completed or failed (operators)"""
        return enrollments.record_outcome(from_app(current_app), enrollment_id, data["outcome"], _actor(),
                                          data.get("reason"))


@blp.route("/enrollments/<int:enrollment_id>/survey")
class Survey(MethodView):
    @blp.arguments(S.SurveyIn, examples={"answer": {"value": {"score": 92.5, "comment": "실습이 유익했습니다.",
                                                              "answers": {"q1": 5, "q2": 4}}}})
    @blp.response(201, S.SurveyOut)
    @blp.alt_response(409, description="not_attended | survey_already_submitted")
    def post(self, data, enrollment_id):
        """만족도 설문 응답 / Answer the satisfaction survey of an attended enrollment (once)"""
        _owner(enrollment_id)
        return enrollments.submit_survey(from_app(current_app), enrollment_id, data["score"], data.get("comment"),
                                         data.get("answers"), _actor())
