"""Payload schemas of the events the enrollment service publishes.

Events carry the state consumers need (event-carried state transfer) so that notification and
reporting never read the enrollment database. Within a version, fields are only ever added and new
fields are optional (``load_default=None``); consumers ignore fields they do not know (``unknown=INCLUDE``).
"""
from marshmallow import INCLUDE, Schema, fields

ENROLLMENT_STATUSES = ("requested", "pending_prerequisite", "confirmed", "waitlisted", "attended",
                       "no_show", "completed", "failed", "cancelled")


class _Open(Schema):
    class Meta:
        unknown = INCLUDE


class CourseRef(_Open):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    year = fields.Integer(required=True)
    name_ko = fields.String(required=True)
    name_en = fields.String(load_default=None, allow_none=True)
    delivery = fields.String(required=True)          # classroom | elearning
    competency_area = fields.String(required=True)   # basic | leadership | job | it
    status = fields.String(load_default=None, allow_none=True)  # new | improved | continuing | ...


class CourseSnapshotV1(CourseRef):
    planned_sessions = fields.Integer(load_default=0)
    planned_seats = fields.Integer(required=True)
    duration_days = fields.Float(load_default=None, allow_none=True)
    duration_hours = fields.Float(load_default=None, allow_none=True)
    prerequisite_course_ids = fields.List(fields.Integer(), load_default=list)
    reminder_offsets_days = fields.List(fields.Integer(), load_default=None, allow_none=True)


class SessionSnapshotV1(_Open):
    id = fields.Integer(required=True)
    course_id = fields.Integer(required=True)
    year = fields.Integer(required=True)
    seq_no = fields.Integer(load_default=None, allow_none=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    capacity = fields.Integer(required=True)
    venue = fields.String(load_default=None, allow_none=True)
    status = fields.String(load_default="scheduled")
    previous_starts_on = fields.Date(load_default=None, allow_none=True)
    previous_ends_on = fields.Date(load_default=None, allow_none=True)


class TraineeRef(_Open):
    id = fields.Integer(required=True)
    employee_no = fields.String(required=True)
    name = fields.String(required=True)
    organisation_type = fields.String(load_default=None, allow_none=True)
    organisation = fields.String(load_default=None, allow_none=True)
    grade = fields.String(load_default=None, allow_none=True)
    job_series = fields.String(load_default=None, allow_none=True)
    email = fields.String(load_default=None, allow_none=True)
    mobile = fields.String(load_default=None, allow_none=True)
    preferred_language = fields.String(load_default="ko")


class SessionRef(_Open):
    id = fields.Integer(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    venue = fields.String(load_default=None, allow_none=True)
    seq_no = fields.Integer(load_default=None, allow_none=True)


class EnrollmentEventV1(_Open):
    """Every enrollment transition: ``created`` and one event per target status."""
    enrollment_id = fields.Integer(required=True)
    #: 1 for the first event of an enrollment, +1 per transition: consumers keep the highest version
    #: applied and ignore older ones, so out-of-order delivery cannot roll a status back.
    version = fields.Integer(required=True)
    status = fields.String(required=True)
    previous_status = fields.String(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True)
    actor = fields.String(load_default=None, allow_none=True)
    requested_at = fields.AwareDateTime(load_default=None, allow_none=True)
    prerequisite_deadline = fields.AwareDateTime(load_default=None, allow_none=True)
    missing_prerequisites = fields.List(fields.Nested(CourseRef), load_default=list)
    #: 1-based place in the session's waitlist while status is ``waitlisted`` (optional; the
    #: notification service estimates it from the events it has seen when absent).
    waitlist_position = fields.Integer(load_default=None, allow_none=True)
    trainee = fields.Nested(TraineeRef, required=True)
    course = fields.Nested(CourseRef, required=True)
    session = fields.Nested(SessionRef, required=True)


class TraineeSnapshotV1(TraineeRef):
    department = fields.String(load_default=None, allow_none=True)
    appointed_on = fields.Date(load_default=None, allow_none=True)
    accessibility_needs = fields.String(load_default=None, allow_none=True)


class CompletionRecordedV1(_Open):
    trainee_id = fields.Integer(required=True)
    course_id = fields.Integer(required=True)
    completed_at = fields.AwareDateTime(required=True)
    source = fields.String(load_default=None, allow_none=True)


class PlanImportedV1(_Open):
    year = fields.Integer(required=True)
    courses = fields.Integer(required=True)
    sessions = fields.Integer(required=True)
    seats = fields.Integer(required=True)


class SurveySubmittedV1(_Open):
    """A trainee's satisfaction survey answer for a session they attended (score 0–100)."""
    enrollment_id = fields.Integer(required=True)
    trainee_id = fields.Integer(required=True)
    course_id = fields.Integer(required=True)
    session_id = fields.Integer(required=True)
    year = fields.Integer(required=True)
    score = fields.Float(required=True)
    comment = fields.String(load_default=None, allow_none=True)


class CountsSnapshotV1(_Open):
    """The enrollment service's own counts, for a consumer to reconcile its read model against.

    ``counts`` maps course id (as a string) to {status: number of enrollments in that status}.
    """
    year = fields.Integer(required=True)
    requested_by = fields.String(load_default=None, allow_none=True)
    request_id = fields.String(load_default=None, allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()),
                         required=True)
    taken_at = fields.AwareDateTime(required=True)


class BulkJobFinishedV1(_Open):
    job_id = fields.String(required=True)
    state = fields.String(required=True)
    rows_total = fields.Integer(required=True)
    rows_done = fields.Integer(required=True)
    rows_failed = fields.Integer(required=True)
    enrollments_created = fields.Integer(load_default=0)
    trainees_created = fields.Integer(load_default=0)
    trainees_updated = fields.Integer(load_default=0)
    dry_run = fields.Boolean(load_default=False)
