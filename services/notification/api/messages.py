"""/api/v1/messages: the in-app inbox."""
import datetime as dt

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import func, select, update

from services.notification.adapters import orm
from services.notification.api import schemas as S
from shared.auth import current_principal, ensure_can_see_trainee
from shared.errors import AppError

blp = Blueprint("messages", __name__, url_prefix="/api/v1", description="앱 알림함 / In-app messages")


@blp.route("/messages")
class Messages(MethodView):
    @blp.arguments(S.MessageQuery, location="query")
    @blp.response(200, S.MessagePage)
    def get(self, args):
        """알림 목록 / A trainee's in-app messages, newest first"""
        p = current_principal()
        trainee_id = args.get("trainee_id", p.trainee_id)
        if trainee_id is None:
            raise AppError(422, "validation_error", "trainee_id가 필요합니다.", "trainee_id is required.",
                           {"trainee_id": ["required"]})
        ensure_can_see_trainee(trainee_id)
        q = select(orm.messages).where(orm.messages.c.trainee_id == trainee_id)
        if args.get("unread"):
            q = q.where(orm.messages.c.read_at.is_(None))
        with current_app.extensions["db"].session_factory() as s:
            total = s.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            rows = s.execute(q.order_by(orm.messages.c.id.desc()).limit(args["per_page"])
                             .offset((args["page"] - 1) * args["per_page"])).all()
        return {"items": [dict(r._mapping) for r in rows], "total": total, "page": args["page"],
                "per_page": args["per_page"]}


@blp.route("/messages/<int:message_id>/read")
class MarkRead(MethodView):
    @blp.response(200, S.MessageOut)
    def post(self, message_id):
        """읽음 표시 / Mark a message as read"""
        db = current_app.extensions["db"]
        with db.session_factory.begin() as s:
            row = s.execute(select(orm.messages).where(orm.messages.c.id == message_id)).first()
            if row is None:
                raise AppError(404, "not_found", "알림을 찾을 수 없습니다.", "Message not found.")
            ensure_can_see_trainee(row.trainee_id)
            if row.read_at is None:
                s.execute(update(orm.messages).where(orm.messages.c.id == message_id)
                          .values(read_at=dt.datetime.now(dt.timezone.utc)))
            row = s.execute(select(orm.messages).where(orm.messages.c.id == message_id)).one()
        return dict(row._mapping)
