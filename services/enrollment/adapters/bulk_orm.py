"""Tables of bulk enrollment (issue 4): onboarding tracks as data, upload jobs, their chunks and errors.

Defined on the enrollment service's ``metadata`` (same database, same migrations folder).
"""
from __future__ import annotations

from sqlalchemy import (JSON, Boolean, Column, DateTime, ForeignKey, Index, Integer, LargeBinary,
                        PrimaryKeyConstraint, String, Table, Text, UniqueConstraint)

from services.enrollment.adapters.orm import metadata

# A versioned track definition loaded from services/enrollment/bulk/tracks/*.json (the JSON is kept
# as-is in ``definition``; the stages are also rows so they can be queried and listed).
onboarding_tracks = Table(
    "onboarding_tracks", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("year", Integer, nullable=False, index=True),
    Column("name_ko", String(200), nullable=False),
    Column("name_en", String(300), nullable=False),
    Column("grades", JSON, nullable=False),
    Column("series_groups", JSON, nullable=False),
    Column("definition", JSON, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("code", "version", name="uq_onboarding_tracks_code_version"),
)

onboarding_stages = Table(
    "onboarding_stages", metadata,
    Column("id", Integer, primary_key=True),
    Column("track_id", ForeignKey("onboarding_tracks.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("key", String(40), nullable=False),
    Column("name_ko", String(200), nullable=False),
    Column("name_en", String(300), nullable=False),
    Column("phase", String(10), nullable=False),          # pre | post (relative to the appointment)
    Column("enrolls", Boolean, nullable=False),
    Column("offset_days", Integer, nullable=False),
    Column("duration_days", Integer, nullable=False),
    Column("window_before_days", Integer, nullable=False),
    Column("window_after_days", Integer, nullable=False),
    Column("gate_from", String(10)),
    Column("gate_days", Integer, nullable=False),
    Column("courses", JSON, nullable=False),               # {"*" | series group: course name_ko}
    UniqueConstraint("track_id", "seq", name="uq_onboarding_stages_track_seq"),
)

# A trainee's membership of a track (one per track): the series group decided at upload.
onboarding_members = Table(
    "onboarding_members", metadata,
    Column("track_id", ForeignKey("onboarding_tracks.id"), nullable=False),
    Column("trainee_id", ForeignKey("trainees.id"), nullable=False, index=True),
    Column("series_group", String(40), nullable=False),
    Column("job_id", String(32)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("track_id", "trainee_id", name="pk_onboarding_members"),
)

# Uploaded files, stored in parts so a worker can stream them again after a crash (flat memory).
bulk_files = Table(
    "bulk_files", metadata,
    Column("id", Integer, primary_key=True),
    Column("filename", String(255)),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

bulk_file_parts = Table(
    "bulk_file_parts", metadata,
    Column("file_id", ForeignKey("bulk_files.id", ondelete="CASCADE"), nullable=False),
    Column("part_no", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    PrimaryKeyConstraint("file_id", "part_no", name="pk_bulk_file_parts"),
)

bulk_jobs = Table(
    "bulk_jobs", metadata,
    Column("id", String(32), primary_key=True),
    Column("state", String(12), nullable=False),           # queued | running | done | failed
    Column("dry_run", Boolean, nullable=False),
    Column("track_id", ForeignKey("onboarding_tracks.id"), nullable=False),
    Column("file_id", ForeignKey("bulk_files.id"), nullable=False),
    Column("source_job_id", String(32)),                   # the dry run this job was started from
    Column("created_by", String(100)),
    Column("file_format", String(10)),
    Column("encoding", String(20)),
    Column("chunk_size", Integer, nullable=False),
    # rows_read grows while the file is read; rows_total is set once the whole file has been read.
    Column("rows_read", Integer, nullable=False, default=0),
    Column("rows_total", Integer),
    Column("rows_done", Integer, nullable=False, default=0),
    Column("rows_failed", Integer, nullable=False, default=0),
    Column("chunks_total", Integer),
    Column("chunks_done", Integer, nullable=False, default=0),
    Column("trainees_created", Integer, nullable=False, default=0),
    Column("trainees_updated", Integer, nullable=False, default=0),
    Column("trainees_unchanged", Integer, nullable=False, default=0),
    Column("enrollments_created", Integer, nullable=False, default=0),
    Column("enrollments_existing", Integer, nullable=False, default=0),
    Column("confirmed", Integer, nullable=False, default=0),
    Column("waitlisted", Integer, nullable=False, default=0),
    Column("preview", JSON),                               # dry run result
    Column("error", JSON),                                 # why the job failed as a whole
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("heartbeat_at", DateTime(timezone=True)),       # last progress of the file reader
    Index("ix_bulk_jobs_state_created", "state", "created_at"),
)

bulk_chunks = Table(
    "bulk_chunks", metadata,
    Column("job_id", ForeignKey("bulk_jobs.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("first_line", Integer, nullable=False),
    Column("last_line", Integer, nullable=False),
    Column("rows", JSON, nullable=False),                  # the validated rows of this chunk
    Column("state", String(10), nullable=False),           # pending | done
    Column("attempts", Integer, nullable=False, default=0),
    Column("dispatched_at", DateTime(timezone=True)),
    Column("done_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("job_id", "seq", name="pk_bulk_chunks"),
    Index("ix_bulk_chunks_state_dispatched", "state", "dispatched_at"),
)

bulk_row_errors = Table(
    "bulk_row_errors", metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", ForeignKey("bulk_jobs.id", ondelete="CASCADE"), nullable=False),
    Column("line", Integer, nullable=False),
    Column("employee_no", String(40)),
    Column("field", String(40)),
    Column("reason_ko", Text, nullable=False),
    Column("reason_en", Text, nullable=False),
    Column("value", Text),
    Index("ix_bulk_row_errors_job_line", "job_id", "line"),
)

__all__ = ["onboarding_tracks", "onboarding_stages", "onboarding_members", "bulk_files", "bulk_file_parts",
           "bulk_jobs", "bulk_chunks", "bulk_row_errors"]
