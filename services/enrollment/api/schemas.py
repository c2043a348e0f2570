"""Request/response schemas (marshmallow) for the enrollment API."""
from marshmallow import Schema, fields, validate

DELIVERIES = ("classroom", "elearning")
AREAS = ("basic", "leadership", "job", "it")
COURSE_STATUSES = ("new", "improved", "continuing", "merged", "abolished")
ORG_TYPES = ("city_hq", "district", "invested_institution", "other_city", "foreign", "other")
ENROLLMENT_STATUSES = ("requested", "pending_prerequisite", "confirmed", "waitlisted", "attended",
                       "no_show", "completed", "failed", "cancelled")


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=1000))


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
    q = fields.String()


class EnrollmentIn(Schema):
    trainee_id = fields.Integer(required=True, metadata={"example": 1})
    session_id = fields.Integer(required=True, metadata={"example": 1})


class EnrollmentOut(Schema):
    id = fields.Integer()
    trainee_id = fields.Integer()
    session_id = fields.Integer()
    course_id = fields.Integer()
    status = fields.String(metadata={"description": "requested | pending_prerequisite | confirmed | waitlisted | "
                                                    "attended | no_show | completed | failed | cancelled"})
    version = fields.Integer()
    prerequisite_deadline = fields.DateTime(allow_none=True)
    requested_at = fields.DateTime()
    updated_at = fields.DateTime()


class EnrollmentQuery(PageQuery):
    trainee_id = fields.Integer()
    session_id = fields.Integer()
    course_id = fields.Integer()
    status = fields.String(validate=validate.OneOf(ENROLLMENT_STATUSES))


class CancelIn(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


def page_of(schema_cls):
    """A paginated list response schema wrapping ``schema_cls``."""
    return type(f"{schema_cls.__name__}Page", (Schema,), {
        "items": fields.List(fields.Nested(schema_cls)),
        "total": fields.Integer(), "page": fields.Integer(), "per_page": fields.Integer()})
