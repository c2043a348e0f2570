"""Outbox and inbox against the real database of a service (PostgreSQL in CI)."""
import datetime as dt

from sqlalchemy import func, select

from services.notification.adapters import orm as norm
from shared import inbox


def _env(i, t="hrd.enrollment.trainee.registered.v1"):
    return {"id": f"00000000-0000-0000-0000-{i:012d}", "type": t, "source": "enrollment",
            "occurred_at": dt.datetime.now(dt.timezone.utc).isoformat(), "payload": {}}


def _inbox_rows(app):
    with app.extensions["db"].engine.connect() as c:
        return c.execute(select(norm.inbox.c.event_id, norm.inbox.c.status).order_by(norm.inbox.c.event_id)).all()


def test_claim_new_skips_seen_and_in_batch_duplicates(clean):
    app = clean["notification"]
    applied = []
    sf = app.extensions["db"].session_factory
    n = inbox.process_batch(sf, norm.inbox, [_env(1), _env(2), _env(1)], lambda s, envs: applied.extend(envs))
    assert n == 2 and [e["id"][-1] for e in applied] == ["1", "2"]
    n = inbox.process_batch(sf, norm.inbox, [_env(2), _env(3)], lambda s, envs: applied.extend(envs))
    assert n == 1 and applied[-1]["id"].endswith("3")


def test_a_failing_apply_records_nothing(clean):
    app = clean["notification"]
    sf = app.extensions["db"].session_factory

    def boom(session, envs):
        raise RuntimeError("bug")

    try:
        inbox.process_batch(sf, norm.inbox, [_env(7)], boom)
    except RuntimeError:
        pass
    assert _inbox_rows(app) == []


def test_poison_event_is_parked_and_the_rest_applied(clean):
    app = clean["notification"]
    sf = app.extensions["db"].session_factory
    good = []

    def apply(session, envs):
        for e in envs:
            if e["id"].endswith("5"):
                raise ValueError("cannot handle this one")
            good.append(e["id"])

    ok, dead = inbox.process_one_by_one(sf, norm.inbox, [_env(4), _env(5), _env(6)], apply)
    assert (ok, dead) == (2, 1)
    rows = dict(_inbox_rows(app))
    assert rows[_env(5)["id"]] == "dead" and rows[_env(4)["id"]] == "processed"
    # a redelivery of the poison event is now skipped instead of failing forever
    assert inbox.process_batch(sf, norm.inbox, [_env(5)], apply) == 0
    with app.extensions["db"].engine.connect() as c:
        assert c.execute(select(func.count()).select_from(norm.inbox)).scalar_one() == 3
