from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.notification.domain.kinds import ChannelType, MessageKind
from shared.pagination import page_of, page_query

KINDS = [k.value for k in MessageKind]
CHANNELS = [c.value for c in ChannelType]


PageQuery = page_query(max_per_page=500)


class MessageQuery(PageQuery):
    trainee_id = fields.Integer(metadata={"description": "required for staff; a trainee sees only its own",
                                          "example": 12})
    unread = fields.Boolean(metadata={"example": True})


class MessageOut(Schema):
    id = fields.Integer(metadata={"example": 1})
    trainee_id = fields.Integer(metadata={"example": 12})
    enrollment_id = fields.Integer(allow_none=True, metadata={"example": 345})
    kind = fields.String(metadata={"example": "enrollment_confirmed"})
    language = fields.String(metadata={"example": "ko"})
    subject = fields.String(metadata={"example": "수강 확정: 빅데이터 분석 실무"})
    body = fields.String(metadata={"example": "2019년 3월 11일(월) 09:00 ~ 2019년 3월 12일(화) 18:00 과정의 수강이 확정되었습니다."})
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


MessagePage = page_of(MessageOut, "MessagePage")


class DeliveryQuery(PageQuery):
    trainee_id = fields.Integer(metadata={"example": 12})
    enrollment_id = fields.Integer(metadata={"example": 345})
    kind = fields.String(validate=validate.OneOf(KINDS), metadata={"example": "reminder"})
    channel = fields.String(validate=validate.OneOf(CHANNELS), metadata={"example": "email"})
    status = fields.String(validate=validate.OneOf(["sending", "sent", "retrying", "failed"]),
                           metadata={"example": "sent"})
    date_from = fields.AwareDateTime(data_key="from", metadata={
        "description": "created at or after (ISO 8601 with offset)", "example": "2019-03-01T00:00:00+09:00"})
    date_to = fields.AwareDateTime(data_key="to", metadata={
        "description": "created before (ISO 8601 with offset)", "example": "2019-04-01T00:00:00+09:00"})

    @validates_schema
    def _range(self, data, **_):
        if data.get("date_from") and data.get("date_to") and data["date_from"] >= data["date_to"]:
            raise ValidationError("'from' must be before 'to'", "from")


class DeliveryOut(Schema):
    id = fields.Integer(metadata={"example": 1})
    delivery_key = fields.String(metadata={"example": "v1|345|reminder|email|D-7%402019-03-11"})
    enrollment_id = fields.Integer(metadata={"example": 345})
    trainee_id = fields.Integer(metadata={"example": 12})
    kind = fields.String(metadata={"example": "reminder"})
    channel = fields.String(metadata={"example": "email"})
    occurrence = fields.String(metadata={"example": "D-7@2019-03-11"})
    recipient = fields.String(allow_none=True, metadata={"example": "t1@seoul.example"})
    status = fields.String(metadata={"example": "sent"})
    attempts = fields.Integer(metadata={"example": 1})
    maybe_delivered = fields.Boolean(metadata={"example": False})
    code = fields.Integer(allow_none=True, metadata={"example": 250})
    provider_id = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)
    due_at = fields.DateTime()
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)


DeliveryPage = page_of(DeliveryOut, "DeliveryPage")


class ReminderQuery(PageQuery):
    enrollment_id = fields.Integer(metadata={"example": 345})
    trainee_id = fields.Integer(metadata={"example": 12})
    kind = fields.String(validate=validate.OneOf(KINDS), metadata={"example": "reminder"})
    status = fields.String(validate=validate.OneOf(
        ["pending", "deferred", "sending", "sent", "failed", "withdrawn", "skipped"]), metadata={"example": "pending"})


class PlannedOut(Schema):
    id = fields.Integer()
    enrollment_id = fields.Integer(metadata={"example": 345})
    trainee_id = fields.Integer(metadata={"example": 12})
    kind = fields.String(metadata={"example": "reminder"})
    occurrence = fields.String(metadata={"example": "D-7@2019-03-11"})
    channel = fields.String(metadata={"example": "email"})
    due_at = fields.DateTime(metadata={"example": "2019-03-04T00:00:00+00:00"})
    status = fields.String(metadata={"example": "pending"})
    attempts = fields.Integer(metadata={"example": 0})
    next_attempt_at = fields.DateTime()
    detail = fields.String(allow_none=True)


PlannedPage = page_of(PlannedOut, "PlannedPage")


class PreferencesIn(Schema):
    opted_out = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), required=True, metadata={
        "description": "channels the trainee does not want optional messages (reminders, nudges, "
                       "surveys) on; mandatory messages still reach at least the in-app inbox",
        "example": ["sms"]})


class PreferencesOut(Schema):
    trainee_id = fields.Integer(metadata={"example": 12})
    opted_out = fields.List(fields.String(), metadata={"example": ["sms"]})
    channels = fields.Dict(keys=fields.String(), values=fields.Boolean(), metadata={
        "description": "channel -> receives optional messages", "example": {"email": True, "sms": False, "inapp": True}})


class PreviewIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={"example": "reminder"})
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS), metadata={"example": "sms"})
    lang = fields.String(load_default="ko", validate=validate.OneOf(["ko", "en"]), metadata={"example": "ko"})
    context = fields.Dict(load_default=dict, metadata={
        "description": "overrides of the sample values; datetimes as ISO 8601 with offset, dates as YYYY-MM-DD",
        "example": {"trainee_name": "김서울", "course_name": "빅데이터 분석 실무",
                    "session_start": "2019-03-11T09:00:00+09:00"}})


class PreviewOut(Schema):
    kind = fields.String(metadata={"example": "reminder"})
    channel = fields.String(metadata={"example": "sms"})
    lang = fields.String(metadata={"example": "ko"})
    subject = fields.String(allow_none=True)
    body = fields.String(metadata={"example": "[서울시인재개발원] 빅데이터 분석 실무 3/11(월) 09:00 시작. 다산홀"})
    html = fields.String(allow_none=True)
    sms_type = fields.String(allow_none=True, metadata={"example": "SMS"})
    byte_length = fields.Integer(allow_none=True, metadata={"example": 78})
    truncated = fields.Boolean(metadata={"example": False})


class TemplateOut(Schema):
    kind = fields.String(metadata={"example": "reminder"})
    channel = fields.String(metadata={"example": "email"})
    languages = fields.List(fields.String(), metadata={"example": ["ko", "en"]})
    mandatory = fields.Boolean(metadata={"example": False})
    scheduled = fields.Boolean(metadata={"example": True})
    required_context = fields.List(fields.String(), metadata={"example": ["trainee_name", "course_name"]})


class TemplateQuery(PageQuery):
    kind = fields.String(validate=validate.OneOf(KINDS), metadata={"example": "reminder"})
    channel = fields.String(validate=validate.OneOf(CHANNELS), metadata={"example": "sms"})


class TemplateList(Schema):
    items = fields.List(fields.Nested(TemplateOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
