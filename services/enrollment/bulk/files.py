"""Adapters for uploaded new-hire files: the header table, and storage of the file in the database.

The file is stored in 1 MiB parts (``bulk_file_parts``) so that any worker can stream it again after a
crash without loading it whole; ``PartsReader`` is a seekable binary stream over those parts that
``adapters.tabular.open_table`` reads like a file.
"""
from __future__ import annotations

import hashlib
import io
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from services.enrollment.adapters import bulk_orm as B
from services.enrollment.adapters.file_formats import TRAINEE_ALIASES
from services.enrollment.adapters.tabular import Column, ColumnSet
from services.enrollment.domain.trainee_rows import TRAINEE_FIELDS
from shared.clock import utcnow

PART_SIZE = 1 << 20

#: Columns of the personnel system's new-hire export (신규임용자 명단). Same fields and aliases as the
#: trainee file; 직렬 and 임용예정일 are required as well because the track depends on them.
NEW_HIRE_REQUIRED = ("employee_no", "name", "organisation", "grade", "job_series", "appointment_date")
NEW_HIRE_EXTRA_ALIASES: dict[str, tuple[str, ...]] = {
    "appointment_date": ("임용예정일자", "발령예정일", "발령일", "scheduled appointment"),
    "job_series": ("직렬(직류)",),
    "employee_no": ("emp_no",),
}
NEW_HIRE_COLUMNS = ColumnSet(tuple(
    Column(name, ko, en, TRAINEE_ALIASES.get(name, ()) + NEW_HIRE_EXTRA_ALIASES.get(name, ()),
           name in NEW_HIRE_REQUIRED)
    for name, (ko, en) in TRAINEE_FIELDS.items()))


def store_file(session, stream: BinaryIO, filename: str | None) -> int:
    """Copy ``stream`` into the database in parts, inside the caller's transaction; returns the file id."""
    file_id = session.execute(B.bulk_files.insert().values(filename=(filename or "")[:255], size=0, sha256="",
                                                         created_at=utcnow())).inserted_primary_key[0]
    digest, size, part_no = hashlib.sha256(), 0, 0
    while True:
        data = stream.read(PART_SIZE)
        if not data:
            break
        session.execute(B.bulk_file_parts.insert().values(file_id=file_id, part_no=part_no, data=data))
        digest.update(data)
        size += len(data)
        part_no += 1
    session.execute(B.bulk_files.update().where(B.bulk_files.c.id == file_id)
                    .values(size=size, sha256=digest.hexdigest()))
    return file_id


class PartsReader(io.RawIOBase):
    """Seekable read-only stream over a stored file; fetches one part at a time (short transactions)."""

    def __init__(self, engine: Engine, file_id: int):
        super().__init__()
        self._engine = engine
        self._file_id = file_id
        with engine.connect() as conn:
            self._size = conn.execute(select(func.coalesce(func.sum(func.length(B.bulk_file_parts.c.data)), 0))
                                      .where(B.bulk_file_parts.c.file_id == file_id)).scalar_one()
        self._pos = 0
        self._part_no = -1
        self._part = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def _load(self, part_no: int) -> bytes:
        if part_no != self._part_no:
            with self._engine.connect() as conn:
                data = conn.execute(select(B.bulk_file_parts.c.data).where(
                    B.bulk_file_parts.c.file_id == self._file_id,
                    B.bulk_file_parts.c.part_no == part_no)).scalar()
            self._part_no, self._part = part_no, bytes(data or b"")
        return self._part

    def readinto(self, buffer) -> int:
        if self._pos >= self._size:
            return 0
        part_no, offset = divmod(self._pos, PART_SIZE)
        part = self._load(part_no)
        n = min(len(buffer), len(part) - offset)
        buffer[:n] = part[offset:offset + n]
        self._pos += n
        return n


def open_stored(engine: Engine, file_id: int) -> BinaryIO:
    return io.BufferedReader(PartsReader(engine, file_id), buffer_size=256 * 1024)  # type: ignore[return-value]
