"""/api/v1/preferences/{trainee_id}: per-channel opt-outs."""
from __future__ import annotations

import datetime as dt

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import delete, select

from services.notification.adapters import orm
from services.notification.api import schemas as S
from services.notification.domain.kinds import CHANNEL_ORDER
from shared.auth import ensure_can_see_trainee

blp = Blueprint("preferences", __name__, url_prefix="/api/v1", description="수신 설정 / Channel preferences")

P = orm.preferences
EXAMPLE = {"trainee_id": 12, "opted_out": ["sms"], "channels": {"email": True, "sms": False, "inapp": True}}


def _view(s, trainee_id: int) -> dict:
    out = {r.channel for r in s.execute(select(P.c.channel).where(P.c.trainee_id == trainee_id,
                                                                  P.c.opted_out.is_(True)))}
    opted = [str(c) for c in CHANNEL_ORDER if str(c) in out]
    return {"trainee_id": trainee_id, "opted_out": opted,
            "channels": {str(c): str(c) not in out for c in CHANNEL_ORDER}}


@blp.route("/preferences/<int:trainee_id>")
class Preferences(MethodView):
    @blp.response(200, S.PreferencesOut, example=EXAMPLE)
    def get(self, trainee_id):
        """수신 설정 조회 / A trainee's channel opt-outs (a trainee may read only its own)"""
        ensure_can_see_trainee(trainee_id)
        with current_app.extensions["db"].session_factory() as s:
            return _view(s, trainee_id)

    @blp.arguments(S.PreferencesIn, example={"opted_out": ["sms"]})
    @blp.response(200, S.PreferencesOut, example=EXAMPLE)
    def put(self, body, trainee_id):
        """수신 설정 변경 / Replace a trainee's opt-outs

        Opt-outs apply to optional messages (reminders, prerequisite nudges, survey requests) and to
        the channels of mandatory ones, but a mandatory message (confirmation, waitlist, promotion,
        cancellation, reschedule) always reaches at least the in-app inbox. Applies to messages sent
        from now on, including ones already planned.
        """
        ensure_can_see_trainee(trainee_id)
        now = dt.datetime.now(dt.timezone.utc)
        with current_app.extensions["db"].session_factory.begin() as s:
            s.execute(delete(P).where(P.c.trainee_id == trainee_id))
            rows = [{"trainee_id": trainee_id, "channel": c, "opted_out": True, "updated_at": now}
                    for c in sorted(set(body["opted_out"]))]
            if rows:
                s.execute(P.insert(), rows)
            return _view(s, trainee_id)
