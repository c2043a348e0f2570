"""/api/v1/templates: the message templates and a preview."""
from __future__ import annotations

import datetime as dt

from flask.views import MethodView
from flask_smorest import Blueprint
from jinja2 import TemplateError

from services.notification.api import schemas as S
from services.notification.domain import rendering
from services.notification.domain.kinds import CHANNEL_ORDER, KIND_SPECS
from shared.auth import require_roles
from shared.errors import AppError

blp = Blueprint("templates", __name__, url_prefix="/api/v1", description="메시지 템플릿 / Message templates")

_DATETIME_KEYS = ("session_start", "session_end", "previous_start", "previous_end")
_DATE_KEYS = ("prerequisite_deadline", "survey_deadline")


def _catalogue() -> list[dict]:
    items = []
    for kind, spec in KIND_SPECS.items():
        for channel in CHANNEL_ORDER:
            items.append({"kind": str(kind), "channel": str(channel), "languages": list(rendering.LANGUAGES),
                          "mandatory": spec.mandatory, "scheduled": spec.scheduled,
                          "required_context": list(rendering.required_context(kind))})
    return items


def _parse_context(raw: dict) -> dict:
    ctx, errors = {}, {}
    for key, value in raw.items():
        try:
            if key in _DATETIME_KEYS and isinstance(value, str):
                value = dt.datetime.fromisoformat(value)
                if value.tzinfo is None:
                    raise ValueError("needs a UTC offset, e.g. 2019-03-11T09:00:00+09:00")
            elif key in _DATE_KEYS and isinstance(value, str):
                value = dt.date.fromisoformat(value)
        except ValueError as exc:
            errors[key] = [str(exc)]
            continue
        ctx[key] = value
    if errors:
        raise AppError(422, "validation_error", "미리보기 값이 올바르지 않습니다.", "Invalid preview context.",
                       {"context": errors})
    return ctx


@blp.route("/templates")
class Templates(MethodView):
    @blp.arguments(S.TemplateQuery, location="query")
    @blp.response(200, S.TemplateList, example={"items": [{
        "kind": "reminder", "channel": "sms", "languages": ["ko", "en"], "mandatory": False, "scheduled": True,
        "required_context": ["trainee_name", "course_name", "session_start", "session_end", "location",
                             "portal_url"]}], "total": 1, "page": 1, "per_page": 50})
    @require_roles("admin", "operator")
    def get(self, args):
        """템플릿 목록 / One template per message kind and channel (Korean and English)"""
        items = [i for i in _catalogue() if (not args.get("kind") or i["kind"] == args["kind"])
                 and (not args.get("channel") or i["channel"] == args["channel"])]
        start = (args["page"] - 1) * args["per_page"]
        return {"items": items[start:start + args["per_page"]], "total": len(items), "page": args["page"],
                "per_page": args["per_page"]}


@blp.route("/templates/preview")
class Preview(MethodView):
    @blp.arguments(S.PreviewIn, example={"kind": "reminder", "channel": "sms", "lang": "ko",
                                         "context": {"course_name": "빅데이터 분석 실무",
                                                     "session_start": "2019-03-11T09:00:00+09:00"}})
    @blp.response(200, S.PreviewOut, example={
        "kind": "reminder", "channel": "sms", "lang": "ko", "subject": None,
        "body": "[서울시인재개발원] 빅데이터 분석 실무 3/11(월) 09:00 시작", "html": None, "sms_type": "SMS",
        "byte_length": 62, "truncated": False})
    @require_roles("admin", "operator")
    def post(self, body):
        """템플릿 미리보기 / Render a template with sample values overridden by ``context``

        SMS bodies report their CP949 byte length and SMS/LMS type (over 90 bytes = LMS).
        """
        ctx = _parse_context(body["context"])
        try:
            out = rendering.preview(body["kind"], body["channel"], body["lang"], ctx)
        except rendering.MissingContext as exc:
            raise AppError(422, "validation_error", "필요한 값이 없습니다.", str(exc),
                           {"context": {k: ["required"] for k in exc.missing}})
        except (TemplateError, TypeError, ValueError, AttributeError) as exc:
            raise AppError(422, "validation_error", "템플릿을 만들 수 없습니다.", f"Cannot render: {exc}",
                           {"context": [str(exc)]})
        return {"kind": body["kind"], "channel": body["channel"], "lang": body["lang"], **out.to_dict()}
