"""/api/v1/reports/*"""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.reporting.service_layer import queries
from shared.auth import STAFF_ROLES, require_roles

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="통계 / Reports")


class YearQuery(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100), metadata={"example": 2019})


class PlanFigures(Schema):
    courses = fields.Integer()
    seats = fields.Integer()


class SummaryOut(Schema):
    year = fields.Integer()
    plan = fields.Dict(keys=fields.String(), values=fields.Nested(PlanFigures),
                       metadata={"description": "planned courses and seats: classroom, elearning, total"})
    actual = fields.Dict(keys=fields.String(), values=fields.Integer())
    actual_by_delivery = fields.Dict()


@blp.route("/summary")
class Summary(MethodView):
    @blp.arguments(YearQuery, location="query")
    @blp.response(200, SummaryOut)
    @require_roles(*STAFF_ROLES)
    def get(self, args):
        """교육훈련 총괄 / Courses and seats planned, and enrollments so far, for a year"""
        with current_app.extensions["db"].session_factory() as s:
            return queries.summary(s, args["year"])
