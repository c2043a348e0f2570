"""/api/v1/deliveries (the sent-log) and /api/v1/reminders (planned messages)."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import func, select

from services.notification.adapters import orm
from services.notification.api import schemas as S
from shared.auth import current_principal, ensure_can_see_trainee
from shared.errors import AppError

blp = Blueprint("deliveries", __name__, url_prefix="/api/v1",
                description="발송 기록과 예약 알림 / Delivery log and planned messages")


def _scope_trainee(args) -> int | None:
    """Staff may filter by any trainee (or none); a trainee always sees only its own rows."""
    p = current_principal()
    trainee_id = args.get("trainee_id")
    if not p.is_staff:
        if trainee_id is None:
            trainee_id = p.trainee_id
        ensure_can_see_trainee(trainee_id)
    return trainee_id


def _page(q, args, order):
    with current_app.extensions["db"].session_factory() as s:
        total = s.execute(select(func.count()).select_from(q.subquery())).scalar_one()
        rows = s.execute(q.order_by(*order).limit(args["per_page"])
                         .offset((args["page"] - 1) * args["per_page"])).all()
    return {"items": [dict(r._mapping) for r in rows], "total": total, "page": args["page"],
            "per_page": args["per_page"]}


@blp.route("/deliveries")
class Deliveries(MethodView):
    @blp.arguments(S.DeliveryQuery, location="query")
    @blp.response(200, S.DeliveryPage, example={"items": [{
        "id": 1, "delivery_key": "v1|345|reminder|email|D-7%402019-03-11", "enrollment_id": 345, "trainee_id": 12,
        "kind": "reminder", "channel": "email", "occurrence": "D-7@2019-03-11", "recipient": "t1@seoul.example",
        "status": "sent", "attempts": 1, "maybe_delivered": False, "code": 250, "provider_id": None,
        "detail": None, "due_at": "2019-03-04T00:00:00+00:00", "created_at": "2019-03-04T00:00:01+00:00",
        "sent_at": "2019-03-04T00:00:01+00:00"}], "total": 1, "page": 1, "per_page": 50})
    def get(self, args):
        """발송 기록 / The sent-log: one row per (enrollment, kind, channel, occurrence), newest first

        Filters: trainee_id, enrollment_id, kind, channel, status, from/to (created_at). A trainee sees
        only its own deliveries.
        """
        T = orm.deliveries
        q = select(T.c.id, T.c.delivery_key, T.c.enrollment_id, T.c.trainee_id, T.c.kind, T.c.channel,
                   T.c.occurrence, T.c.recipient, T.c.status, T.c.attempts, T.c.maybe_delivered, T.c.code,
                   T.c.provider_id, T.c.detail, T.c.due_at, T.c.created_at, T.c.sent_at)
        trainee_id = _scope_trainee(args)
        if trainee_id is not None:
            q = q.where(T.c.trainee_id == trainee_id)
        for name in ("enrollment_id", "kind", "channel", "status"):
            if args.get(name) is not None:
                q = q.where(T.c[name] == args[name])
        if args.get("date_from"):
            q = q.where(T.c.created_at >= args["date_from"])
        if args.get("date_to"):
            q = q.where(T.c.created_at < args["date_to"])
        return _page(q, args, (T.c.id.desc(),))


@blp.route("/reminders")
class Reminders(MethodView):
    @blp.arguments(S.ReminderQuery, location="query")
    @blp.response(200, S.PlannedPage, example={"items": [{
        "id": 7, "enrollment_id": 345, "trainee_id": 12, "kind": "reminder", "occurrence": "D-7@2019-03-11",
        "channel": "email", "due_at": "2019-03-04T00:00:00+00:00", "status": "pending", "attempts": 0,
        "next_attempt_at": "2019-03-04T00:00:00+00:00", "detail": None}], "total": 1, "page": 1, "per_page": 50})
    def get(self, args):
        """예약된 알림 / Planned messages (reminders, nudges, surveys and immediate notices) by due time

        Filter by enrollment_id, trainee_id, kind, status. Withdrawn rows (cancelled or re-planned)
        stay visible with status ``withdrawn``. A trainee sees only its own.
        """
        T = orm.planned_messages
        p = current_principal()
        if not p.is_staff and args.get("enrollment_id") is not None and args.get("trainee_id") is None:
            args["trainee_id"] = p.trainee_id
        trainee_id = _scope_trainee(args)
        if trainee_id is None and args.get("enrollment_id") is None:
            raise AppError(422, "validation_error", "enrollment_id 또는 trainee_id가 필요합니다.",
                           "enrollment_id or trainee_id is required.", {"enrollment_id": ["required"]})
        q = select(T.c.id, T.c.enrollment_id, T.c.trainee_id, T.c.kind, T.c.occurrence, T.c.channel, T.c.due_at,
                   T.c.status, T.c.attempts, T.c.next_attempt_at, T.c.detail)
        if trainee_id is not None:
            q = q.where(T.c.trainee_id == trainee_id)
        for name in ("enrollment_id", "kind", "status"):
            if args.get(name) is not None:
                q = q.where(T.c[name] == args[name])
        return _page(q, args, (T.c.due_at, T.c.id))
