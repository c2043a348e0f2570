"""History replays and counts snapshots for the consumers' read models (reporting's rebuild and
reconciliation, issue 6). Both are requested over the bus; neither changes enrollment data.

* ``enrollment.replay_events(requester, after_seq, limit, request_id)`` sends ONE page of the outbox
  history (the events after ``after_seq`` that ``requester`` subscribes to, in commit order) as one
  message to the requester's replay task (``<requester>.consume_replay`` on ``<requester>.events``)
  with ``request_id``, ``after_seq``, ``last_seq``, ``done`` and ``limit``. The requester asks for the next page
  when it has applied this one (flow control: a rebuild never floods the broker). The task is
  read-only, so redelivery only re-sends a page, which the requester recognises by ``after_seq``.
* ``enrollment.counts_snapshot(year, requester, request_id)`` emits ``hrd.enrollment.counts.snapshot.v1``
  through the outbox: per course of ``year``, the number of enrollments in each status.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import func, select

from services.enrollment.adapters import orm
from services.enrollment.service_layer.unit_of_work import from_app
from shared import outbox
from shared.events.catalogue import SUBSCRIBERS

REPLAY_EVENTS = "enrollment.replay_events"
COUNTS_SNAPSHOT = "enrollment.counts_snapshot"
MAX_PAGE = 10_000


def history_page(engine, requester: str, after_seq: int, limit: int) -> tuple[list[dict], int, bool]:
    """(events for ``requester``, last seq looked at, whether the history ends here)."""
    prefixes = SUBSCRIBERS.get(requester)
    if not prefixes:
        raise ValueError(f"{requester!r} subscribes to no enrollment events")
    if len(prefixes) == 1:
        page = outbox.history(engine, orm.outbox, after_seq=after_seq, limit=limit, type_prefix=prefixes[0])
        return page, (page[-1]["seq"] if page else after_seq), len(page) < limit
    raw = outbox.history(engine, orm.outbox, after_seq=after_seq, limit=limit)
    page = [e for e in raw if e["type"].startswith(prefixes)]
    return page, (raw[-1]["seq"] if raw else after_seq), len(raw) < limit


def counts_by_course(session, year: int) -> dict[str, dict[str, int]]:
    e, c = orm.enrollments, orm.courses
    rows = session.execute(select(e.c.course_id, e.c.status, func.count()).join(c, c.c.id == e.c.course_id)
                           .where(c.c.year == year).group_by(e.c.course_id, e.c.status)).all()
    counts: dict[str, dict[str, int]] = {}
    for course_id, status, n in rows:
        counts.setdefault(str(course_id), {})[status] = int(n)
    return counts


def register(celery_app) -> None:
    @celery_app.task(name=REPLAY_EVENTS, ignore_result=True, bind=True, max_retries=5)
    def replay_events(self, requester: str, after_seq: int = 0, limit: int = 2000, request_id: str | None = None) -> int:
        """Send one page of the event history to ``requester``'s replay task; returns the events sent."""
        limit = max(1, min(int(limit), MAX_PAGE))
        engine = current_app.extensions["db"].engine
        page, last_seq, done = history_page(engine, requester, int(after_seq), limit)
        try:
            outbox.publish_to(celery_app, requester, page, task_name=outbox.replay_task_name(requester),
                              kwargs={"request_id": request_id, "after_seq": int(after_seq), "last_seq": int(last_seq),
                                      "done": done, "limit": limit}, batch_size=None)
        except Exception as exc:  # broker hiccup: try again shortly (nothing was changed)
            raise self.retry(exc=exc, countdown=1 + self.request.retries)
        return len(page)

    @celery_app.task(name=COUNTS_SNAPSHOT, ignore_result=True)
    def counts_snapshot(year: int, requester: str | None = None, request_id: str | None = None) -> int:
        """Emit the per-course, per-status enrollment counts of ``year`` (for reconciliation)."""
        uow = from_app(current_app)
        with uow:
            counts = counts_by_course(uow.session, int(year))
            uow.emit("hrd.enrollment.counts.snapshot.v1", {
                "year": int(year), "requested_by": requester, "request_id": request_id, "counts": counts,
                "taken_at": dt.datetime.now(dt.timezone.utc).isoformat()})
            uow.commit()
        return len(counts)
