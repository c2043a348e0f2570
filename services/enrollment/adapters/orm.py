"""The enrollment service's tables (its own database; no other service reads them)."""
from __future__ import annotations

from sqlalchemy import (JSON, Boolean, CheckConstraint, Column, Date, DateTime, Float, ForeignKey, Index,
                        Integer, String, Table, Text, UniqueConstraint, text)

from shared.db import service_metadata
from shared.inbox import inbox_table
from shared.outbox import outbox_table
from shared.receipts import receipts_table

metadata = service_metadata()

OPEN_STATUSES = ("requested", "pending_prerequisite", "confirmed", "waitlisted")

courses = Table(
    "courses", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("year", Integer, nullable=False, index=True),
    Column("name_ko", String(200), nullable=False),
    Column("name_en", String(300)),
    Column("delivery", String(20), nullable=False),          # classroom | elearning
    Column("competency_area", String(20), nullable=False),   # basic | leadership | job | it
    Column("status", String(20), nullable=False, default="continuing"),
    Column("target_grades", JSON),        # list[str] or null = anyone
    Column("target_job_series", JSON),
    Column("target_organisation_types", JSON),
    Column("duration_days", Float),
    Column("duration_hours", Float),
    Column("planned_sessions", Integer, nullable=False, default=0),
    Column("planned_seats", Integer, nullable=False, default=0),
    Column("reminder_offsets_days", JSON),
    Column("generated", Boolean, nullable=False, default=False),  # demo filler, not from the source plan
    Column("notes", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("planned_seats >= 0", name="planned_seats_non_negative"),
)

course_prerequisites = Table(
    "course_prerequisites", metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("required_course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
)

sessions = Table(
    "sessions", metadata,
    Column("id", Integer, primary_key=True),
    Column("course_id", ForeignKey("courses.id"), nullable=False, index=True),
    Column("seq_no", Integer, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("capacity", Integer, nullable=False),
    # Seats held by confirmed (and later) enrollments. Taken with a conditional UPDATE
    # (seats_taken < capacity) so the database itself refuses an overbooking, on PostgreSQL and SQLite.
    Column("seats_taken", Integer, nullable=False, default=0),
    Column("venue", String(200)),
    Column("enroll_opens_on", Date),
    Column("enroll_closes_on", Date),
    Column("status", String(20), nullable=False, default="scheduled"),  # scheduled | cancelled
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("course_id", "seq_no", name="uq_sessions_course_seq"),
    CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"),
    CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
)

trainees = Table(
    "trainees", metadata,
    Column("id", Integer, primary_key=True),
    Column("employee_no", String(40), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("organisation_type", String(40), nullable=False, default="city_hq"),
    Column("organisation", String(200)),
    Column("department", String(200)),
    Column("grade", String(40)),
    Column("job_series", String(60)),
    Column("email", String(200)),
    Column("mobile", String(40)),
    Column("appointed_on", Date),
    Column("accessibility_needs", Text),
    Column("preferred_language", String(5), nullable=False, default="ko"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

enrollments = Table(
    "enrollments", metadata,
    Column("id", Integer, primary_key=True),
    Column("trainee_id", ForeignKey("trainees.id"), nullable=False, index=True),
    Column("session_id", ForeignKey("sessions.id"), nullable=False, index=True),
    Column("course_id", ForeignKey("courses.id"), nullable=False, index=True),
    Column("status", String(30), nullable=False),
    Column("holds_seat", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False, default=1),
    Column("waitlisted_at", DateTime(timezone=True)),
    Column("prerequisite_deadline", DateTime(timezone=True)),
    Column("source", String(40)),           # api | bulk:<job id> | prerequisite ...
    # The classroom enrollment an automatic prerequisite e-learning enrollment was made for.
    # (no FK: adding one would make Alembic rebuild the SQLite table and drop the partial index's WHERE)
    Column("for_enrollment_id", Integer, nullable=True),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # One open enrollment per trainee and session; a cancelled one does not block re-enrolling.
    Index("uq_enrollments_open_trainee_session", "trainee_id", "session_id", unique=True,
          postgresql_where=text("status IN ('requested','pending_prerequisite','confirmed','waitlisted')"),
          sqlite_where=text("status IN ('requested','pending_prerequisite','confirmed','waitlisted')")),
    Index("ix_enrollments_waitlist", "session_id", "status", "waitlisted_at", "id"),
    # The deadline sweep: pending_prerequisite rows whose deadline passed.
    Index("ix_enrollments_status_deadline", "status", "prerequisite_deadline"),
)

enrollment_history = Table(
    "enrollment_history", metadata,
    Column("id", Integer, primary_key=True),
    Column("enrollment_id", ForeignKey("enrollments.id"), nullable=False, index=True),
    Column("from_status", String(30)),
    Column("to_status", String(30), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("reason", Text),
    Column("at", DateTime(timezone=True), nullable=False),
)

completions = Table(
    "completions", metadata,
    Column("id", Integer, primary_key=True),
    Column("trainee_id", ForeignKey("trainees.id"), nullable=False),
    Column("course_id", ForeignKey("courses.id"), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=False),
    Column("source", String(60)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("trainee_id", "course_id", name="uq_completions_trainee_course"),
)

survey_answers = Table(
    "survey_answers", metadata,
    Column("id", Integer, primary_key=True),
    Column("enrollment_id", ForeignKey("enrollments.id"), nullable=False, unique=True),
    Column("trainee_id", ForeignKey("trainees.id"), nullable=False),
    Column("score", Float, nullable=False),
    Column("answers", JSON),
    Column("comment", Text),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
)

outbox = outbox_table(metadata)
outbox_receipts = receipts_table(metadata)
inbox = inbox_table(metadata)
