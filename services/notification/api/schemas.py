from marshmallow import Schema, fields, validate


class MessageQuery(Schema):
    trainee_id = fields.Integer(metadata={"description": "required for staff; a trainee sees only its own"})
    unread = fields.Boolean()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class MessageOut(Schema):
    id = fields.Integer()
    trainee_id = fields.Integer()
    enrollment_id = fields.Integer(allow_none=True)
    kind = fields.String()
    language = fields.String()
    subject = fields.String()
    body = fields.String()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class MessagePage(Schema):
    items = fields.List(fields.Nested(MessageOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
