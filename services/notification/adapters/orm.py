"""The notification service's tables (its own database).

- ``enrollment_state`` / ``session_state`` / ``course_settings``: what the service has learnt from the
  enrollment service's events (event-carried state; it never reads the enrollment database).
- ``planned_messages``: every message to send, one row per (enrollment, kind, occurrence, channel),
  immediate ones due "now" and reminders/nudges/surveys due later; the dispatcher claims due rows.
- ``deliveries``: the sent-log. ``delivery_key`` (domain.idempotency) is UNIQUE, and the row is written
  in its own committed claim *before* the channel is called, so nothing is sent twice.
- ``preferences``: per trainee and channel opt-outs. ``messages``: the in-app inbox.
"""
from sqlalchemy import (JSON, Boolean, Column, Date, DateTime, Index, Integer, String, Table, Text,
                        UniqueConstraint)

from shared.db import service_metadata
from shared.inbox import inbox_table

metadata = service_metadata()

#: The in-app inbox: what a trainee sees at GET /api/v1/messages.
messages = Table(
    "messages", metadata,
    Column("id", Integer, primary_key=True),
    Column("trainee_id", Integer, nullable=False),
    Column("enrollment_id", Integer),
    Column("kind", String(40), nullable=False),
    # The delivery key of the in-app delivery: a redelivered task cannot create a second message.
    Column("dedup_key", String(200), nullable=False, unique=True),
    Column("language", String(5), nullable=False, default="ko"),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True)),
    Index("ix_messages_trainee", "trainee_id", "id"),
)

inbox = inbox_table(metadata)

#: One row per enrollment, at the highest event version seen (older events are ignored).
enrollment_state = Table(
    "enrollment_state", metadata,
    Column("enrollment_id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
    Column("status", String(30), nullable=False),
    Column("trainee_id", Integer, nullable=False),
    Column("trainee_name", String(200), nullable=False),
    Column("email", String(254)),
    Column("mobile", String(40)),
    Column("language", String(5), nullable=False, default="ko"),
    Column("course_id", Integer, nullable=False),
    Column("course_name_ko", String(300), nullable=False),
    Column("course_name_en", String(300)),
    Column("session_id", Integer, nullable=False),
    Column("prerequisite_deadline", DateTime(timezone=True)),
    # [{"id": course id, "name_ko": ..., "name_en": ...}] still missing while pending_prerequisite
    Column("missing_prerequisites", JSON, nullable=False, default=list),
    Column("waitlisted_at_version", Integer),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_enrollment_state_session", "session_id", "status"),
    Index("ix_enrollment_state_trainee", "trainee_id"),
)

#: Session dates/venue, from session events (ordered by event time) or the first enrollment event seen.
session_state = Table(
    "session_state", metadata,
    Column("session_id", Integer, primary_key=True, autoincrement=False),
    Column("course_id", Integer),
    Column("seq_no", Integer),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("venue", String(300)),
    Column("status", String(20), nullable=False, default="scheduled"),
    Column("event_at", DateTime(timezone=True)),  # occurred_at of the session event applied last
)

#: Per-course reminder offsets (course events' reminder_offsets_days; NULL = service default).
course_settings = Table(
    "course_settings", metadata,
    Column("course_id", Integer, primary_key=True, autoincrement=False),
    Column("name_ko", String(300)),
    Column("reminder_offsets_days", JSON),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

PLANNED_STATUSES = ("pending", "deferred", "sending", "sent", "failed", "withdrawn", "skipped")

planned_messages = Table(
    "planned_messages", metadata,
    Column("id", Integer, primary_key=True),
    Column("delivery_key", String(255), nullable=False),
    Column("enrollment_id", Integer, nullable=False),
    Column("trainee_id", Integer, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("occurrence", String(80), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    # pending | deferred (SMS quiet hours) | sending (claimed) | sent | failed | withdrawn | skipped
    Column("status", String(12), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True)),  # a claim older than this is taken over
    Column("claim_token", String(36)),
    Column("context", JSON),  # extras fixed at planning time (reason, previous dates, ...)
    Column("detail", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("delivery_key", name="uq_planned_messages_delivery_key"),
    Index("ix_planned_due", "status", "next_attempt_at"),
    # the dispatcher claims due in-app rows first (a local insert; they must not wait behind SMTP sends)
    Index("ix_planned_due_channel", "status", "channel", "next_attempt_at"),
    Index("ix_planned_enrollment", "enrollment_id", "kind"),
    Index("ix_planned_trainee", "trainee_id"),
)

DELIVERY_STATUSES = ("sending", "sent", "retrying", "failed")

#: The sent-log: exactly one row per (enrollment, kind, channel, occurrence).
deliveries = Table(
    "deliveries", metadata,
    Column("id", Integer, primary_key=True),
    Column("delivery_key", String(255), nullable=False),
    Column("planned_id", Integer, nullable=False),
    Column("enrollment_id", Integer, nullable=False),
    Column("trainee_id", Integer, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("occurrence", String(80), nullable=False),
    Column("recipient", String(254)),
    Column("status", String(10), nullable=False),  # sending | sent | retrying | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("claim_token", String(36)),
    Column("maybe_delivered", Boolean, nullable=False, default=False),
    Column("code", Integer),
    Column("provider_id", String(100)),
    Column("detail", Text),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("delivery_key", name="uq_deliveries_delivery_key"),
    Index("ix_deliveries_trainee", "trainee_id", "created_at"),
    Index("ix_deliveries_status", "status", "created_at"),
)

#: Per trainee and channel opt-outs (honoured for optional kinds; mandatory kinds fall back to in-app).
preferences = Table(
    "preferences", metadata,
    Column("trainee_id", Integer, primary_key=True, autoincrement=False),
    Column("channel", String(10), primary_key=True),
    Column("opted_out", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
