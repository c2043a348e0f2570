"""The notification service's tables (its own database)."""
from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text

from shared.inbox import inbox_table

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s", "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s"})

#: The in-app inbox: what a trainee sees at GET /api/v1/messages.
messages = Table(
    "messages", metadata,
    Column("id", Integer, primary_key=True),
    Column("trainee_id", Integer, nullable=False),
    Column("enrollment_id", Integer),
    Column("kind", String(40), nullable=False),
    # Unique per (enrollment, kind, occurrence): a redelivered event cannot create a second message.
    Column("dedup_key", String(200), nullable=False, unique=True),
    Column("language", String(5), nullable=False, default="ko"),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True)),
    Index("ix_messages_trainee", "trainee_id", "id"),
)

inbox = inbox_table(metadata)
