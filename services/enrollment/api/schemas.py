"""Request/response schemas (marshmallow) for the enrollment API."""
from marshmallow import Schema, fields, validate

from shared.pagination import page_of, page_query  # noqa: F401 - page_of is used by the API modules as S.page_of

DELIVERIES = ("classroom", "elearning")
AREAS = ("basic", "leadership", "job", "it")
COURSE_STATUSES = ("new", "improved", "continuing", "merged", "abolished")
ORG_TYPES = ("city_hq", "district", "invested_institution", "other_city", "foreign", "other")
ENROLLMENT_STATUSES = ("requested", "pending_prerequisite", "confirmed", "waitlisted", "attended",
                       "no_show", "completed", "failed", "cancelled")


PageQuery = page_query(max_per_page=1000)


class CourseIn(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=40),
                         metadata={"example": "C19-001"})
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100), metadata={"example": 2019})
    name_ko = fields.String(required=True, validate=validate.Length(min=1, max=200),
                            metadata={"example": "빅데이터 분석 실무(시각화 및 탐색중심)"})
    name_en = fields.String(load_default=None, allow_none=True)
    delivery = fields.String(required=True, validate=validate.OneOf(DELIVERIES))
    competency_area = fields.String(required=True, validate=validate.OneOf(AREAS))
    status = fields.String(load_default="continuing", validate=validate.OneOf(COURSE_STATUSES))
    target_grades = fields.List(fields.String(), load_default=None, allow_none=True)
    target_job_series = fields.List(fields.String(), load_default=None, allow_none=True)
    target_organisation_types = fields.List(fields.String(validate=validate.OneOf(ORG_TYPES)),
                                            load_default=None, allow_none=True)
    duration_days = fields.Float(load_default=None, allow_none=True)
    duration_hours = fields.Float(load_default=None, allow_none=True)
    planned_sessions = fields.Integer(load_default=0, validate=validate.Range(min=0))
    planned_seats = fields.Integer(load_default=0, validate=validate.Range(min=0))
    reminder_offsets_days = fields.List(fields.Integer(validate=validate.Range(min=0, max=90)),
                                        load_default=None, allow_none=True)
    prerequisite_codes = fields.List(fields.String(), load_default=list,
                                     metadata={"description": "e-learning courses to complete first"})
    notes = fields.String(load_default=None, allow_none=True)


class CourseOut(CourseIn):
    id = fields.Integer()
    generated = fields.Boolean()
    prerequisite_course_ids = fields.List(fields.Integer())
    prerequisite_codes = fields.List(fields.String())


class CourseQuery(PageQuery):
    year = fields.Integer()
    status = fields.String(validate=validate.OneOf(COURSE_STATUSES))
    generated = fields.Boolean(metadata={"description": "true: only generated demo courses ([생성])"})
    delivery = fields.String(validate=validate.OneOf(DELIVERIES))
    competency_area = fields.String(validate=validate.OneOf(AREAS))
    q = fields.String(metadata={"description": "substring of the Korean or English name, or the code"})


class SessionIn(Schema):
    course_id = fields.Integer(required=True)
    seq_no = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    starts_on = fields.Date(required=True, metadata={"example": "2019-03-11"})
    ends_on = fields.Date(required=True, metadata={"example": "2019-03-12"})
    capacity = fields.Integer(required=True, validate=validate.Range(min=1, max=100000))
    venue = fields.String(load_default=None, allow_none=True)
    enroll_opens_on = fields.Date(load_default=None, allow_none=True)
    enroll_closes_on = fields.Date(load_default=None, allow_none=True)


class SessionOut(SessionIn):
    id = fields.Integer()
    seats_taken = fields.Integer()
    seats_left = fields.Method("_left")
    status = fields.String()

    def _left(self, obj):
        return obj["capacity"] - obj["seats_taken"]


class SessionQuery(PageQuery):
    course_id = fields.Integer()
    year = fields.Integer()
    status = fields.String(validate=validate.OneOf(("scheduled", "cancelled")))
    delivery = fields.String(validate=validate.OneOf(DELIVERIES))
    starts_from = fields.Date()
    starts_to = fields.Date()


class TraineeIn(Schema):
    employee_no = fields.String(required=True, validate=validate.Length(min=1, max=40),
                                metadata={"example": "2019000123"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=100), metadata={"example": "김서울"})
    organisation_type = fields.String(load_default="city_hq", validate=validate.OneOf(ORG_TYPES))
    organisation = fields.String(load_default=None, allow_none=True)
    department = fields.String(load_default=None, allow_none=True)
    grade = fields.String(load_default=None, allow_none=True, metadata={"example": "7급"})
    job_series = fields.String(load_default=None, allow_none=True, metadata={"example": "행정"})
    email = fields.Email(load_default=None, allow_none=True)
    mobile = fields.String(load_default=None, allow_none=True, metadata={"example": "010-1234-5678"})
    appointed_on = fields.Date(load_default=None, allow_none=True)
    accessibility_needs = fields.String(load_default=None, allow_none=True)
    preferred_language = fields.String(load_default="ko", validate=validate.OneOf(("ko", "en")))


class TraineeOut(TraineeIn):
    id = fields.Integer()


class TraineeQuery(PageQuery):
    organisation_type = fields.String(validate=validate.OneOf(ORG_TYPES))
    grade = fields.String()
    job_series = fields.String()
    department = fields.String()
    q = fields.String(metadata={"description": "substring of the name or employee number"})


class EnrollmentIn(Schema):
    trainee_id = fields.Integer(required=True, metadata={"example": 1})
    session_id = fields.Integer(required=True, metadata={"example": 1})
    override_window = fields.Boolean(load_default=False, metadata={
        "description": "staff only: enroll outside the session's enrollment window"})


class EnrollmentOut(Schema):
    id = fields.Integer()
    trainee_id = fields.Integer()
    session_id = fields.Integer()
    course_id = fields.Integer()
    status = fields.String(metadata={"description": "requested | pending_prerequisite | confirmed | waitlisted | "
                                                    "attended | no_show | completed | failed | cancelled"})
    version = fields.Integer()
    holds_seat = fields.Boolean()
    waitlisted_at = fields.DateTime(allow_none=True)
    prerequisite_deadline = fields.DateTime(allow_none=True, metadata={
        "description": "pending_prerequisite: complete the e-learning before this moment (Asia/Seoul 23:59:59)"})
    source = fields.String(allow_none=True, metadata={"description": "api | prerequisite | bulk:<job> ..."})
    for_enrollment_id = fields.Integer(allow_none=True, metadata={
        "description": "automatic prerequisite e-learning enrollment: the classroom enrollment it serves"})
    requested_at = fields.DateTime()
    updated_at = fields.DateTime()


class EnrollmentQuery(PageQuery):
    year = fields.Integer()
    trainee_id = fields.Integer()
    session_id = fields.Integer()
    course_id = fields.Integer()
    status = fields.String(validate=validate.OneOf(ENROLLMENT_STATUSES))


class CancelIn(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class HistoryOut(Schema):
    id = fields.Integer()
    enrollment_id = fields.Integer()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    actor = fields.String(metadata={"example": "operator:kim"})
    reason = fields.String(allow_none=True)
    at = fields.DateTime()


class HistoryList(Schema):
    items = fields.List(fields.Nested(HistoryOut))


OUTCOMES = ("attended", "no_show", "completed", "failed")


class OutcomeIn(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES), metadata={
        "description": "attended / no_show (from confirmed); completed / failed (from attended, or from confirmed "
                       "passing through attended)", "example": "attended"})
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class SessionOutcomeRecord(OutcomeIn):
    enrollment_id = fields.Integer(load_default=None, allow_none=True)
    trainee_id = fields.Integer(load_default=None, allow_none=True)


class SessionOutcomesIn(Schema):
    records = fields.List(fields.Nested(SessionOutcomeRecord), required=True, validate=validate.Length(min=1, max=5000))


class EnrollmentList(Schema):
    items = fields.List(fields.Nested(EnrollmentOut))


class SessionPatch(Schema):
    starts_on = fields.Date(metadata={"example": "2019-03-18"})
    ends_on = fields.Date(metadata={"example": "2019-03-19"})
    capacity = fields.Integer(validate=validate.Range(min=1, max=100000))
    venue = fields.String(allow_none=True)
    enroll_opens_on = fields.Date(allow_none=True)
    enroll_closes_on = fields.Date(allow_none=True)


class SessionCancelIn(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500),
                           metadata={"example": "강사 사정"})


class SessionCancelOut(SessionOut):
    cancelled_enrollments = fields.Integer()


class SurveyIn(Schema):
    score = fields.Float(required=True, validate=validate.Range(min=0, max=100), metadata={"example": 92.5})
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    answers = fields.Dict(load_default=None, allow_none=True, metadata={"example": {"q1": 5, "q2": 4}})


class SurveyOut(SurveyIn):
    id = fields.Integer()
    enrollment_id = fields.Integer()
    submitted_at = fields.DateTime()


class CompletionIn(Schema):
    trainee_id = fields.Integer(load_default=None, allow_none=True)
    employee_no = fields.String(load_default=None, allow_none=True, metadata={"example": "2019000123"})
    course_id = fields.Integer(load_default=None, allow_none=True)
    course_code = fields.String(load_default=None, allow_none=True, metadata={"example": "E19-015"})
    completed_at = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=None,
                                        metadata={"example": "2019-02-08T17:30:00+09:00"})
    source = fields.String(load_default=None, allow_none=True, metadata={"example": "lms"})


class CompletionOut(Schema):
    id = fields.Integer()
    trainee_id = fields.Integer()
    course_id = fields.Integer()
    completed_at = fields.DateTime()
    source = fields.String(allow_none=True)
    created_at = fields.DateTime()


class CompletionQuery(PageQuery):
    trainee_id = fields.Integer()
    course_id = fields.Integer()


class CompletionResult(Schema):
    received = fields.Integer()
    recorded = fields.Integer()
    already_recorded = fields.Integer()
    dry_run = fields.Boolean()


class FileIn(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": "CSV (UTF-8, UTF-8 BOM, CP949) or XLSX"})


class DryRunQuery(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "validate and preview; write nothing"})


class ImportResult(Schema):
    class Meta:
        unknown = "include"
    dry_run = fields.Boolean()
    courses = fields.Dict()
    sessions = fields.Dict()
    trainees = fields.Dict()
    totals = fields.Dict()
    file = fields.Dict()
    rows_read = fields.Integer()


class Breakdown(Schema):
    courses = fields.Integer()
    sessions = fields.Integer()
    seats = fields.Integer()


class PlanTotals(Breakdown):
    year = fields.Integer(metadata={"example": 2019})
    by_delivery = fields.Dict(keys=fields.String(), values=fields.Nested(Breakdown), metadata={
        "example": {"classroom": {"courses": 125, "sessions": 484, "seats": 22829},
                    "elearning": {"courses": 114, "sessions": 1368, "seats": 176170}}})
    by_area = fields.Dict(keys=fields.String(), values=fields.Nested(Breakdown))
    by_status = fields.Dict(keys=fields.String(), values=fields.Nested(Breakdown))


class PlanList(Schema):
    items = fields.List(fields.Nested(PlanTotals))
    total = fields.Integer()


class ExportQuery(Schema):
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


