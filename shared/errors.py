"""One JSON error shape for every service: ``{"code", "message", "errors"}``.

``code`` is a stable machine-readable string, ``message`` is Korean unless the client asks for English
(``Accept-Language: en`` or ``?lang=en``); ``message_en`` is always present for logs and tooling;
``errors`` names the fields/rows at fault.
"""
from __future__ import annotations

import logging

from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

_GENERIC = {
    400: ("bad_request", "잘못된 요청입니다.", "Bad request."),
    401: ("unauthorized", "인증이 필요합니다.", "Authentication required."),
    403: ("forbidden", "권한이 없습니다.", "Forbidden."),
    404: ("not_found", "대상을 찾을 수 없습니다.", "Not found."),
    405: ("method_not_allowed", "허용되지 않은 메서드입니다.", "Method not allowed."),
    409: ("conflict", "요청이 현재 상태와 충돌합니다.", "Conflict with the current state."),
    413: ("payload_too_large", "요청이 너무 큽니다.", "Payload too large."),
    415: ("unsupported_media_type", "지원하지 않는 형식입니다.", "Unsupported media type."),
    422: ("validation_error", "입력값이 올바르지 않습니다.", "The input is not valid."),
    429: ("too_many_requests", "요청이 너무 많습니다.", "Too many requests."),
    500: ("internal_error", "서버 오류가 발생했습니다.", "Internal server error."),
    503: ("unavailable", "일시적으로 사용할 수 없습니다.", "Temporarily unavailable."),
}


class AppError(Exception):
    """An error a client can act on."""

    def __init__(self, status: int, code: str, message_ko: str, message_en: str, errors=None):
        super().__init__(message_en)
        self.status = status
        self.code = code
        self.message_ko = message_ko
        self.message_en = message_en
        self.errors = errors or {}


def wants_english() -> bool:
    from flask import has_request_context, request
    if not has_request_context():
        return False
    if request.args.get("lang") in ("en", "ko"):
        return request.args["lang"] == "en"
    best = request.accept_languages.best_match(["ko", "en"])
    return best == "en"


def error_body(code: str, message_ko: str, message_en: str, errors=None) -> dict:
    return {"code": code, "message": message_en if wants_english() else message_ko,
            "message_en": message_en, "errors": errors or {}}


def init_flask(app) -> None:
    from flask import jsonify

    @app.errorhandler(AppError)
    def _app_error(err: AppError):
        return jsonify(error_body(err.code, err.message_ko, err.message_en, err.errors)), err.status

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        status = err.code or 500
        code, ko, en = _GENERIC.get(status, ("http_error", err.name, err.name))
        errors = {}
        data = getattr(err, "data", None) or {}
        if isinstance(data, dict) and "messages" in data:  # webargs/marshmallow validation
            errors = data["messages"]
            # flatten {"json": {...}} / {"query": {...}} to the fields themselves
            if isinstance(errors, dict) and len(errors) == 1 and next(iter(errors)) in ("json", "query", "form", "files"):
                errors = next(iter(errors.values()))
        if status < 500 and err.description and status not in (422,) and not errors:
            en = err.description if isinstance(err.description, str) else en
        return jsonify(error_body(code, ko, en, errors)), status

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error")
        code, ko, en = _GENERIC[500]
        return jsonify(error_body(code, ko, en)), 500
