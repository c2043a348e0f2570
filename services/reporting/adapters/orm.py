"""The reporting service's read model (its own database, fed only by events).

* ``rm_courses`` / ``rm_sessions``: the catalogue and the plan as the enrollment service announced them
  (course/session snapshot events; ``source_occurred_at`` keeps a late, older snapshot from overwriting
  a newer one).
* ``rm_enrollments``: one row per enrollment: its latest status (``version`` = the highest applied) and
  the dimension values it is counted under, frozen when the read model first sees it, plus its survey
  score. The row's status is the ``previous`` of the next transition's deltas.
* ``rm_rollups``: the pre-aggregated counters, one row per (year, dimension, key), one column per counter
  (``domain.rollup.RollupCounter``), so a report reads a handful of rows whatever the enrollment count.
* ``rm_pending_surveys``: survey answers that arrived before their enrollment (applied when it shows up).
* ``rm_rebuilds`` / ``rm_reconciliations`` (+ ``rm_reconciliation_rows``): rebuild progress and the
  results of comparing the read model with the enrollment service's own counts.
"""
from sqlalchemy import (BigInteger, Column, Date, DateTime, Index, Integer, String, Table, Text)

from shared.db import service_metadata
from shared.inbox import inbox_table

metadata = service_metadata()

rm_courses = Table(
    "rm_courses", metadata,
    Column("course_id", Integer, primary_key=True),
    Column("year", Integer, nullable=False, index=True),
    Column("code", String(40), nullable=False),
    Column("name_ko", String(200), nullable=False),
    Column("name_en", String(300)),
    Column("delivery", String(20), nullable=False),
    Column("competency_area", String(20), nullable=False),
    Column("status", String(30)),
    Column("planned_sessions", Integer, nullable=False, default=0),
    Column("planned_seats", Integer, nullable=False, default=0),
    Column("source_occurred_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

rm_sessions = Table(
    "rm_sessions", metadata,
    Column("session_id", Integer, primary_key=True),
    Column("course_id", Integer, nullable=False, index=True),
    Column("year", Integer, nullable=False, index=True),
    Column("seq_no", Integer),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("venue", String(200)),
    Column("status", String(20), nullable=False),
    Column("source_occurred_at", DateTime(timezone=True)),
)

COUNTER_NAMES = ("requested", "pending_prerequisite", "waitlisted", "enrolled", "attended", "no_show",
                 "completed", "failed", "cancelled", "satisfaction_sum_x100", "satisfaction_count")

#: One row per enrollment: its latest status and the dimensions it is counted under. ``version`` makes
#: the projection order-proof: an event older than what was applied is ignored.
rm_enrollments = Table(
    "rm_enrollments", metadata,
    Column("enrollment_id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("status", String(30), nullable=False),
    Column("year", Integer, nullable=False),
    Column("course_id", Integer, nullable=False),
    Column("session_id", Integer, nullable=False),
    Column("trainee_id", Integer, nullable=False),
    Column("competency_area", String(20)),
    Column("delivery", String(20)),
    Column("organisation_type", String(40)),
    Column("grade", String(40)),
    Column("job_series", String(60)),
    Column("month", String(7)),   # "01".."12": the month the session starts (see docs/reporting.md)
    Column("satisfaction_x100", Integer),
    Column("survey_occurred_at", DateTime(timezone=True)),
    Index("ix_rm_enrollments_year_course", "year", "course_id"),
)

#: Pre-aggregated counters: one row per (year, dimension, key); see ``domain.rollup`` for definitions.
rm_rollups = Table(
    "rm_rollups", metadata,
    Column("year", Integer, primary_key=True),
    Column("dimension", String(30), primary_key=True),  # total | course | session | competency_area | ...
    Column("key", String(100), primary_key=True),       # "" for total; course/session id; area; "03" ...
    *[Column(name, BigInteger, nullable=False, default=0, server_default="0") for name in COUNTER_NAMES],
)

rm_pending_surveys = Table(
    "rm_pending_surveys", metadata,
    Column("enrollment_id", Integer, primary_key=True),
    Column("satisfaction_x100", Integer, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
)

rm_rebuilds = Table(
    "rm_rebuilds", metadata,
    Column("id", String(36), primary_key=True),
    Column("state", String(20), nullable=False),          # running | finished
    Column("requested_by", String(100)),
    Column("cursor_seq", BigInteger, nullable=False, default=0),  # last enrollment outbox seq applied
    Column("pages", Integer, nullable=False, default=0),
    Column("events_received", BigInteger, nullable=False, default=0),
    Column("events_applied", BigInteger, nullable=False, default=0),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
)

rm_reconciliations = Table(
    "rm_reconciliations", metadata,
    Column("id", String(64), primary_key=True),
    Column("year", Integer, nullable=False),
    Column("state", String(20), nullable=False),          # requested | matched | differences
    Column("requested_by", String(100)),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("snapshot_taken_at", DateTime(timezone=True)),
    Column("compared_at", DateTime(timezone=True)),
    Column("courses_compared", Integer),
    Column("differences", Integer),
    Column("note", Text),
    Index("ix_rm_reconciliations_requested_at", "requested_at"),
)

#: Per course and status (kind=status) or counter (kind=counter): read model vs enrollment service.
rm_reconciliation_rows = Table(
    "rm_reconciliation_rows", metadata,
    Column("reconciliation_id", String(64), primary_key=True),
    Column("course_id", Integer, primary_key=True),
    Column("kind", String(10), primary_key=True),
    Column("name", String(40), primary_key=True),
    Column("read_model", BigInteger, nullable=False),
    Column("enrollment", BigInteger, nullable=False),
)

inbox = inbox_table(metadata)

#: Tables the rebuild wipes (the read model proper and the inbox; not rebuild/reconcile bookkeeping).
READ_MODEL_TABLES = (rm_courses, rm_sessions, rm_enrollments, rm_rollups, rm_pending_surveys, inbox)
