"""The reporting service's read model (its own database, fed only by events)."""
from sqlalchemy import BigInteger, Column, Date, DateTime, Integer, MetaData, String, Table

from shared.inbox import inbox_table

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s", "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s"})

rm_courses = Table(
    "rm_courses", metadata,
    Column("course_id", Integer, primary_key=True),
    Column("year", Integer, nullable=False, index=True),
    Column("code", String(40), nullable=False),
    Column("name_ko", String(200), nullable=False),
    Column("name_en", String(300)),
    Column("delivery", String(20), nullable=False),
    Column("competency_area", String(20), nullable=False),
    Column("status", String(20)),
    Column("planned_sessions", Integer, nullable=False, default=0),
    Column("planned_seats", Integer, nullable=False, default=0),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

rm_sessions = Table(
    "rm_sessions", metadata,
    Column("session_id", Integer, primary_key=True),
    Column("course_id", Integer, nullable=False, index=True),
    Column("year", Integer, nullable=False),
    Column("seq_no", Integer),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("status", String(20), nullable=False),
)

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
    Column("month", String(7)),
)

#: Pre-aggregated counters so reports read a handful of rows, whatever the number of enrollments.
rm_counters = Table(
    "rm_counters", metadata,
    Column("year", Integer, primary_key=True),
    Column("dimension", String(30), primary_key=True),   # all | course | session | area | delivery | org | ...
    Column("key", String(100), primary_key=True),
    Column("counter", String(30), primary_key=True),     # enrolled | waitlisted | completed | ...
    Column("value", BigInteger, nullable=False, default=0),
)

inbox = inbox_table(metadata)
