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
from operator import itemgetter
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
    columns = [c for c in rows[0] if not (with_ids and c == "id")]
    if with_ids:
        ids = list(session.execute(text(
            f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, :n)"),
            {"n": len(rows)}).scalars().all())
    json_at = [i for i, c in enumerate(columns) if c in table.c and isinstance(table.c[c].type, JSON)]
    get = itemgetter(*columns) if len(columns) > 1 else (lambda row, _c=columns[0]: (row[_c],))
    dbapi = session.connection().connection.dbapi_connection
    names = ", ".join(f'"{c}"' for c in (["id", *columns] if with_ids else columns))
    with dbapi.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        write = copy.write_row
        for i, row in enumerate(rows):
            values = get(row)
            if json_at:
                values = list(values)
                for j in json_at:
                    v = values[j]
                    if v is not None:
                        values[j] = v.text if isinstance(v, RawJSON) else json.dumps(v, ensure_ascii=False,
                                                                                     default=_default)
            write((ids[i], *values) if with_ids else values)
    return ids


def _default(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
