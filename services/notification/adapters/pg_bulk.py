"""PostgreSQL multi-row statements for the batch consumer: one statement per page of rows, over unnest(arrays).

psycopg's executemany sends one statement per row (pipelined): ~20-30 µs of client CPU a row, most of
a bulk batch. Here the rows travel as one array per column (only the columns that vary) in ONE
statement. Each statement has the same effect as the row-by-row upsert it replaces (see each docstring);
SQLite keeps the executemany (a C loop there).
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

_TYPES = {"enrollment_id": "integer", "version": "integer", "status": "text", "trainee_id": "integer",
          "trainee_name": "text", "email": "text", "mobile": "text", "language": "text", "course_id": "integer",
          "course_name_ko": "text", "course_name_en": "text", "session_id": "integer",
          "prerequisite_deadline": "timestamptz", "missing_prerequisites": "json", "delivery_key": "text",
          "kind": "text", "occurrence": "text", "channel": "text", "due_at": "timestamptz", "context": "json"}


def _unnest(columns: list[str]) -> str:
    return ("unnest(" + ", ".join(f"CAST(:{c} AS {_TYPES[c]}[])" for c in columns) + ") AS u("
            + ", ".join(columns) + ")")


def _json_dumper(s: Session) -> Callable:
    """The JSON serializer SQLAlchemy's JSON type would use on this engine."""
    return getattr(s.get_bind().dialect, "_json_serializer", None) or json.dumps


def _arrays(s: Session, columns: list[str], rows: list[dict]) -> dict[str, list]:
    out = {c: [r[c] for r in rows] for c in columns}
    dumps = _json_dumper(s)
    for c in columns:
        if _TYPES[c] == "json":
            out[c] = [None if v is None else dumps(v) for v in out[c]]
    return out


# -- planned_messages --------------------------------------------------------------------------

_PLANNED_VARYING = ["delivery_key", "enrollment_id", "trainee_id", "kind", "occurrence", "channel", "due_at", "context"]
_REVIVE_OR_INSERT = text(
    "INSERT INTO planned_messages (delivery_key, enrollment_id, trainee_id, kind, occurrence, channel, due_at, "
    "next_attempt_at, context, status, attempts, created_at, updated_at) "
    "SELECT u.delivery_key, u.enrollment_id, u.trainee_id, u.kind, u.occurrence, u.channel, u.due_at, u.due_at, "
    f"u.context, 'pending', 0, :now, :now FROM {_unnest(_PLANNED_VARYING)} "
    "ON CONFLICT (delivery_key) DO UPDATE SET status = 'pending', due_at = EXCLUDED.due_at, "
    "next_attempt_at = EXCLUDED.next_attempt_at, attempts = 0, context = EXCLUDED.context, detail = NULL, "
    "updated_at = EXCLUDED.updated_at WHERE planned_messages.status = 'withdrawn'")


def fresh_plans(rows: list[dict]) -> dt.datetime | None:
    """The common ``created_at`` if every row is a fresh plan (pending, no attempt, next attempt at its due
    time, created and updated at one instant) — what ``revive_or_insert`` writes; else None."""
    if not rows:
        return None
    now = rows[0]["created_at"]
    for r in rows:
        if (r["status"] != "pending" or r["attempts"] != 0 or r["next_attempt_at"] != r["due_at"]
                or r["created_at"] != now or r["updated_at"] != now):
            return None
    return now


def revive_or_insert(s: Session, rows: list[dict], now: dt.datetime) -> None:
    """``planner._revive_or_insert`` for fresh plans (``fresh_plans``) in one statement: insert each row, or
    revive a withdrawn row with its key; a key already pending/sent is left alone.

    One statement may not touch a row twice, so a key given twice keeps its first row only — the second
    upsert, row by row, would have found that row pending and done nothing. Rows are created in order.
    """
    seen: set[str] = set()
    unique = []
    for r in rows:
        if r["delivery_key"] not in seen:
            seen.add(r["delivery_key"])
            unique.append(r)
    s.execute(_REVIVE_OR_INSERT, {**_arrays(s, _PLANNED_VARYING, unique), "now": now})


# -- enrollment_state --------------------------------------------------------------------------

_STATE_VARYING = ["enrollment_id", "version", "status", "trainee_id", "trainee_name", "email", "mobile", "language",
                  "course_id", "course_name_ko", "course_name_en", "session_id", "prerequisite_deadline",
                  "missing_prerequisites"]
_UPSERT_STATES = text(
    f"INSERT INTO enrollment_state ({', '.join(_STATE_VARYING)}, updated_at) "
    f"SELECT {', '.join('u.' + c for c in _STATE_VARYING)}, :now FROM {_unnest(_STATE_VARYING)} "
    "ON CONFLICT (enrollment_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in [*_STATE_VARYING[1:], "updated_at"])
    + " WHERE enrollment_state.version < EXCLUDED.version RETURNING enrollment_id")


def upsert_states(s: Session, rows: list[dict], now: dt.datetime) -> set[int]:
    """Insert each ``enrollment_state`` row, or overwrite a stored OLDER version; returns the ids written.
    ``rows``: distinct enrollment ids, each with every column of ``_STATE_VARYING`` (``updated_at`` = now)."""
    if rows and set(rows[0]) != {*_STATE_VARYING, "updated_at"}:
        raise ValueError(f"enrollment_state columns changed: {sorted(rows[0])}; update pg_bulk")
    return set(s.execute(_UPSERT_STATES, {**_arrays(s, _STATE_VARYING, rows), "now": now}).scalars())
