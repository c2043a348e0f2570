"""Set-based inserts for the bulk path, inside the caller's transaction.

PostgreSQL: ``COPY ... FROM STDIN`` (ids, when the caller needs them, are drawn from the table's sequence
first: one ``nextval`` round trip for the whole batch). Multi-row ``INSERT``s of thousands of rows spend
most of their time building and parsing huge statements on the client; ``COPY`` streams rows instead.
SQLite: an ``executemany`` (with ``RETURNING`` for ids), which SQLite runs in-process and fast.

A JSON column's value may be a :class:`RawJSON` (the object and its JSON text, encoded once by the caller):
``COPY`` writes the text as is, so a payload that is also sent to the broker is not encoded twice.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Sequence

from sqlalchemy import JSON, Table, text

from shared.db import dialect_name


class RawJSON:
    """A JSON column value already encoded: ``value`` (the object) and ``text`` (its JSON)."""

    __slots__ = ("value", "text")

    def __init__(self, value, text: str):
        self.value, self.text = value, text


def insert_rows(session, table: Table, rows: Sequence[dict], *, with_ids: bool = False) -> list[int]:
    """Insert ``rows`` (dicts with the same keys) into ``table``; returns their ids in order if asked."""
    if not rows:
        return []
    if dialect_name(session) != "postgresql":
        if any(isinstance(v, RawJSON) for v in rows[0].values()):
            rows = [{k: v.value if isinstance(v, RawJSON) else v for k, v in row.items()} for row in rows]
        if with_ids:
            stmt = table.insert().returning(table.c.id, sort_by_parameter_order=True)
            return list(session.execute(stmt, list(rows)).scalars().all())
        session.execute(table.insert(), list(rows))
        return []
    ids: list[int] = []
    columns = list(rows[0])
    if with_ids:
        ids = list(session.execute(text(
            f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, :n)"),
            {"n": len(rows)}).scalars().all())
        columns = ["id", *[c for c in columns if c != "id"]]
    json_cols = {c for c in columns if c in table.c and isinstance(table.c[c].type, JSON)}
    dbapi = session.connection().connection.dbapi_connection
    names = ", ".join(f'"{c}"' for c in columns)
    with dbapi.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for i, row in enumerate(rows):
            values = []
            for c in columns:
                v = ids[i] if c == "id" and with_ids else row.get(c)
                if c in json_cols and v is not None:
                    v = v.text if isinstance(v, RawJSON) else json.dumps(v, ensure_ascii=False, default=_default)
                values.append(v)
            copy.write_row(values)
    return ids


def _default(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
