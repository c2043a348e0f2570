"""Helpers for bulk enrollment tests: new-hire files as Korean Excel writes them, and running a job inline."""
from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from services.enrollment.adapters import bulk_orm as B
from services.enrollment.adapters import orm as T
from services.enrollment.bulk import demo, service, tracks
from services.enrollment.bulk.service import Deps
from services.enrollment.service_layer.unit_of_work import UnitOfWork

BAD_ROWS = [
    # (row, field the error names)
    ({"사번": "2019999001", "성명": "", "소속": "서울특별시 행정국", "직급": "7급", "직렬": "행정",
      "임용예정일": "2019-02-07", "이메일": "a@seoul.go.kr", "휴대전화": "010-1111-2222"}, "name"),
    ({"사번": "2019999002", "성명": "박오류", "소속": "서울특별시 행정국", "직급": "7급", "직렬": "행정",
      "임용예정일": "2019-02-30", "이메일": "b@seoul.go.kr", "휴대전화": "010-1111-2223"}, "appointment_date"),
    ({"사번": "2019999003", "성명": "최오류", "소속": "서울특별시 행정국", "직급": "5급", "직렬": "행정",
      "임용예정일": "2019-02-07", "이메일": "c@seoul.go.kr", "휴대전화": "010-1111-2224"}, "grade"),
    ({"사번": "2019999004", "성명": "정오류", "소속": "서울특별시 행정국", "직급": "9급", "직렬": "연금술",
      "임용예정일": "2019-02-07", "이메일": "d@seoul.go.kr", "휴대전화": "010-1111-2225"}, "job_series"),
    ({"사번": "2019999005", "성명": "강오류", "소속": "서울특별시 행정국", "직급": "9급", "직렬": "토목",
      "임용예정일": "2019-02-07", "이메일": "e@seoul.go.kr", "휴대전화": "02-123"}, "mobile"),
]


def new_hire_csv(n: int, *, first_no: int = 1, encoding: str = "cp949", bad_every: int = 0,
                 extra_rows=(), modify=None) -> tuple[bytes, list[tuple[int, str]]]:
    """A CSV of ``n`` good rows (plus a bad row after every ``bad_every`` good ones); returns the bytes and
    the (line, field) of every bad row (line as Excel shows it: header = 1)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=demo.HEADERS_KO, lineterminator="\r\n")
    writer.writeheader()
    line, bad = 1, []
    for i, row in enumerate(demo.new_hire_rows(n, first_no=first_no)):
        if modify:
            row = modify(row)
        writer.writerow(row)
        line += 1
        if bad_every and (i + 1) % bad_every == 0:
            bad_row, field = BAD_ROWS[(i // bad_every) % len(BAD_ROWS)]
            writer.writerow({**bad_row, "사번": f"{bad_row['사번']}{i}"[:20]})
            line += 1
            bad.append((line, field))
    for row, field in extra_rows:
        writer.writerow(row)
        line += 1
        bad.append((line, field))
    return buf.getvalue().encode(encoding), bad


def install_track_courses(app) -> None:
    db = app.extensions["db"]
    tracks.install_bundled(db.session_factory)
    with db.session_factory() as s:
        track = tracks.load_track(s, tracks.resolve_track_id(s))
    with app.app_context():
        demo.install_onboarding_courses(lambda: UnitOfWork(db.session_factory, db.engine, None), track)


def inline_deps(app, chunk_size: int = 1000) -> Deps:
    db = app.extensions["db"]
    return Deps(db.session_factory, db.engine, None, chunk_size=chunk_size, stall_seconds=0)


def run_inline(app, data: bytes, *, dry_run: bool = False, chunk_size: int = 1000, filename="hires.csv") -> dict:
    """Create a job and run it in this process (no broker): prepare, then every pending chunk."""
    deps = inline_deps(app, chunk_size)
    with app.app_context():
        job = service.create_job(deps, io.BytesIO(data), filename, dry_run=dry_run, actor="admin:test")
        service.prepare(deps, job["id"])
        for seq in pending_chunks(app, job["id"]):
            service.process_chunk(deps, job["id"], seq)
        return service.get_job(deps, job["id"])


def pending_chunks(app, job_id: str) -> list[int]:
    with app.extensions["db"].session_factory() as s:
        return s.execute(select(B.bulk_chunks.c.seq).where(B.bulk_chunks.c.job_id == job_id,
                                                           B.bulk_chunks.c.state == "pending")
                         .order_by(B.bulk_chunks.c.seq)).scalars().all()


def count(app, table, *where) -> int:
    with app.extensions["db"].engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def outbox_types(app) -> dict[str, int]:
    with app.extensions["db"].engine.connect() as conn:
        rows = conn.execute(select(T.outbox.c.event_type, func.count()).group_by(T.outbox.c.event_type)).all()
    return {t: n for t, n in rows}


def seat_check(app) -> list[tuple]:
    """Sessions whose seats_taken differs from their confirmed enrollments, or exceeds capacity."""
    with app.extensions["db"].engine.connect() as conn:
        held = dict(conn.execute(select(T.enrollments.c.session_id, func.count())
                                 .where(T.enrollments.c.holds_seat.is_(True))
                                 .group_by(T.enrollments.c.session_id)).all())
        sessions = conn.execute(select(T.sessions.c.id, T.sessions.c.capacity, T.sessions.c.seats_taken)).all()
    return [(s.id, s.capacity, s.seats_taken, held.get(s.id, 0)) for s in sessions
            if s.seats_taken != held.get(s.id, 0) or s.seats_taken > s.capacity]
