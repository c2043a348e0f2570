"""Bulk enrollment use cases: upload → read & validate (prepare) → chunks → done.

* ``create_job`` stores the file (in the database), records a job and queues ``prepare``; the HTTP call
  returns at once.
* ``prepare`` streams the file once, validates every row (``domain.trainee_rows`` + the track's own
  checks), and writes the valid rows as *chunks* (``bulk_chunks``, ~1,000 rows each) together with the
  rejected rows (``bulk_row_errors``), one short transaction per chunk, dispatching each chunk as soon as
  it is written. After a crash it resumes after the last chunk written. A dry run plans the placements in
  memory instead and stores a preview; it writes nothing else.
* ``process_chunk`` does one chunk in ONE transaction: upsert trainees (by 사번), place them in the track
  (``domain.onboarding.Planner``), insert enrollments + history, write the events to the outbox (one
  ``enrollment.created`` per enrollment, ``trainee.registered``/``updated``; each encoded once for the
  outbox row and the broker, ``shared.events.wire``), then take seats with one conditional UPDATE per
  session (``seats_taken + n <= capacity``); the chunk is marked done and the job's counters move in the
  same transaction, so a redelivered chunk is a no-op. The last chunk finishes the job and emits
  ``bulk_job.finished``.
* ``redispatch`` (beat) re-sends chunks and readers that stalled (a worker died and the broker has not
  redelivered yet).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import logging
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, BinaryIO, Iterator

from sqlalchemy import ARRAY, any_, bindparam, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from services.enrollment.adapters import bulk_orm as B
from services.enrollment.adapters import orm as T
from services.enrollment.adapters.tabular import TabularError, open_table
from services.enrollment.bulk import files, tracks
from services.enrollment.bulk.fastinsert import RawJSON, insert_rows
from services.enrollment.domain.errors import RowError
from services.enrollment.domain.onboarding import Planner, StageRefusal, Track, check_new_hire
from services.enrollment.domain.trainee_rows import TRAINEE_FIELDS, validate_trainee_rows
from services.enrollment.domain.values import cell_text
from services.enrollment.service_layer import payloads
from services.enrollment.service_layer.errors import conflict, invalid, not_found
from services.enrollment.service_layer.unit_of_work import SOURCE, UnitOfWork
from shared.clock import as_utc as _aware, utcnow
from shared.events import wire
from shared.db import dialect_name
from shared.events.catalogue import payload_schema
from shared.events.envelope import Envelope
from shared.logging import get_correlation_id

log = logging.getLogger(__name__)

TASK_PREPARE = "enrollment.bulk_prepare"
TASK_CHUNK = "enrollment.bulk_chunk"
TASK_REDISPATCH = "enrollment.bulk_redispatch"
FINISHED_EVENT = "hrd.enrollment.bulk_job.finished.v1"
CREATED_EVENT = "hrd.enrollment.enrollment.created.v1"
J, C, E = B.bulk_jobs, B.bulk_chunks, B.bulk_row_errors
#: trainee columns an upload may set; a blank cell never erases what is stored
TRAINEE_COLUMNS = ("name", "organisation", "organisation_type", "department", "grade", "job_series", "email",
                   "mobile", "appointed_on", "accessibility_needs")


@dataclass
class Deps:
    """What the use cases need from the app: database, Celery, settings."""

    session_factory: Any
    engine: Any
    celery: Any
    chunk_size: int = 1000
    stall_seconds: float = 60.0
    actor: str = "system:bulk"

    @classmethod
    def from_app(cls, app) -> "Deps":
        db = app.extensions["db"]
        return cls(db.session_factory, db.engine, app.extensions.get("celery"),
                   int(app.config.get("BULK_CHUNK_SIZE", 1000)), float(app.config.get("BULK_STALL_SECONDS", 60)))

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.engine, self.celery, validate_events=False)

    def send(self, name: str, *args) -> None:
        if self.celery is None:
            return
        try:
            self.celery.send_task(name, args=list(args), retry=True,
                                  retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2})
        except Exception:  # broker down: the beat's redispatch sends it later
            log.warning("could not dispatch %s%r; left for redispatch", name, args, exc_info=True)


# --- upload ---------------------------------------------------------------------------

def check_file(stream: BinaryIO) -> tuple[str, str | None]:
    """Fail fast (422) on a file that cannot be read at all: wrong format, encoding, missing headers."""
    try:
        with open_table(stream, files.NEW_HIRE_COLUMNS) as table:
            fmt, enc = table.format, table.encoding
    except TabularError as exc:
        errors = {"file": [exc.message_en]}
        if getattr(exc, "missing", None):
            errors["missing_columns"] = list(exc.missing)
        raise invalid(exc.code.lower(), exc.message_ko, exc.message_en, errors) from None
    finally:
        stream.seek(0)
    return fmt, enc


def _track_or_error(session, track_code: str | None, track_id: int | None = None) -> tuple[int, Track]:
    tid = tracks.resolve_track_id(session, track_code, track_id)
    track = tracks.load_track(session, tid) if tid else None
    if track is None:
        raise not_found("교육 트랙", "Onboarding track", track_code or track_id or "(active)")
    missing = sorted(track.course_names() - set(tracks.course_ids(session, track)))
    if missing:
        raise conflict("track_courses_missing",
                       f"{track.year}년 교육계획에 트랙 과정이 없습니다: {', '.join(missing)}. 교육계획을 먼저 등록하세요.",
                       f"The {track.year} plan lacks the track's courses: {', '.join(missing)}. Load the plan first.",
                       {"courses": missing})
    return tid, track


def create_job(deps: Deps, stream: BinaryIO | None, filename: str | None, *, dry_run: bool,
               track_code: str | None = None, actor: str = "system", file_id: int | None = None,
               source_job_id: str | None = None, track_id: int | None = None) -> dict:
    tracks.install_bundled(deps.session_factory)
    fmt = enc = None
    if stream is not None:
        fmt, enc = check_file(stream)
    job_id = uuid.uuid4().hex
    with deps.session_factory() as s:
        tid, _ = _track_or_error(s, track_code, track_id)
        if file_id is None:
            file_id = files.store_file(s, stream, filename)
        s.execute(J.insert().values(id=job_id, state="queued", dry_run=dry_run, track_id=tid, file_id=file_id,
                                    source_job_id=source_job_id, created_by=actor, file_format=fmt, encoding=enc,
                                    chunk_size=deps.chunk_size, rows_read=0, rows_done=0, rows_failed=0,
                                    chunks_done=0, trainees_created=0, trainees_updated=0, trainees_unchanged=0,
                                    enrollments_created=0, enrollments_existing=0, confirmed=0, waitlisted=0,
                                    created_at=utcnow()))
        s.commit()
    deps.send(TASK_PREPARE, job_id)
    return get_job(deps, job_id)


def start_from_dry_run(deps: Deps, job_id: str, actor: str) -> dict:
    """Run for real the file a dry run checked (a new job; the dry run stays as it was)."""
    with deps.session_factory() as s:
        job = s.execute(select(J).where(J.c.id == job_id)).first()
    if job is None:
        raise not_found("일괄 등록 작업", "Bulk job", job_id)
    if not job.dry_run:
        raise conflict("not_a_dry_run", "사전 점검(dry run) 작업만 시작할 수 있습니다.",
                       "Only a dry-run job can be started.")
    if job.state != "done":
        raise conflict("dry_run_not_finished", "사전 점검이 아직 끝나지 않았습니다.", "The dry run has not finished.")
    return create_job(deps, None, None, dry_run=False, actor=actor, file_id=job.file_id, source_job_id=job.id,
                      track_id=job.track_id)


# --- reading the file -------------------------------------------------------------------

def _row_payload(line: int, t, group: str) -> dict:
    return {"line": line, "employee_no": t.employee_no, "name": t.name, "organisation": t.organisation,
            "organisation_type": t.organisation_type.value, "department": t.department or None,
            "grade": t.grade, "job_series": t.job_series or None, "email": t.email or None,
            "mobile": t.mobile or None, "appointed_on": t.appointment_date.isoformat(),
            "accessibility_needs": ", ".join(t.accessibility_needs) or None, "group": group}


def _classified(track: Track, table) -> Iterator[tuple[int, dict | None, str | None, tuple[RowError, ...]]]:
    """(line, row payload or None, employee no as written, errors) for every data row of the file."""
    current: dict = {}

    def tap(rows):  # remember the raw row the validator is looking at (it validates one row at a time)
        for line, row in rows:
            current["employee_no"] = row.get("employee_no")
            yield line, row

    for res in validate_trainee_rows(tap(table)):
        if not res.ok:
            raw = current.get("employee_no")
            yield res.line, None, None if raw is None else cell_text(raw), res.errors
            continue
        outcome = check_new_hire(track, res.line, res.trainee)
        if isinstance(outcome, list):
            yield res.line, None, res.trainee.employee_no, tuple(outcome)
        else:
            yield res.line, _row_payload(res.line, res.trainee, outcome), res.trainee.employee_no, ()


def _error_rows(job_id: str, bad: list[tuple[int, str | None, tuple[RowError, ...]]]) -> list[dict]:
    return [{"job_id": job_id, "line": line, "employee_no": (emp or None) and str(emp)[:40], "field": e.field,
             "reason_ko": e.reason_ko, "reason_en": e.reason_en, "value": e.value}
            for line, emp, errs in bad for e in errs]


def prepare(deps: Deps, job_id: str) -> str:
    with deps.session_factory() as s:
        job = s.execute(select(J).where(J.c.id == job_id)).first()
        if job is None or job.state in ("done", "failed"):
            return "skipped"
        if job.rows_total is not None:
            return "already read"
        s.execute(update(J).where(J.c.id == job_id, J.c.state == "queued")
                  .values(state="running", started_at=utcnow(), heartbeat_at=utcnow()))
        s.commit()
        track = tracks.load_track(s, job.track_id)
    try:
        with open_table(files.open_stored(deps.engine, job.file_id), files.NEW_HIRE_COLUMNS) as table:
            rows = _classified(track, table)
            if job.dry_run:
                _dry_run(deps, job, track, rows)
            else:
                _split(deps, job, rows)
    except TabularError as exc:
        _fail(deps, job_id, exc.as_dict())
        return "failed"
    return "read"


def _fail(deps: Deps, job_id: str, error: dict) -> None:
    uow = deps.uow()
    with uow:
        res = uow.session.execute(update(J).where(J.c.id == job_id, J.c.state.in_(("queued", "running")))
                                  .values(state="failed", error=error, finished_at=utcnow()))
        if res.rowcount == 1:
            _emit_finished(uow, job_id)
        uow.commit()


def _split(deps: Deps, job, rows) -> None:
    with deps.session_factory() as s:
        last = s.execute(select(C.c.seq, C.c.last_line).where(C.c.job_id == job.id)
                         .order_by(C.c.seq.desc()).limit(1)).first()
    seq, resume_line = (last.seq, last.last_line) if last else (0, 0)
    good: list[dict] = []
    bad: list[tuple[int, str | None, tuple[RowError, ...]]] = []
    first_line = None
    count = 0
    for line, payload, emp, errors in rows:
        count += 1
        if line <= resume_line:
            continue
        first_line = first_line or line
        if payload is None:
            bad.append((line, emp, errors))
        else:
            good.append(payload)
        if len(good) + len(bad) >= job.chunk_size:
            seq += 1
            _write_chunk(deps, job.id, seq, first_line, line, good, bad, count)
            good, bad, first_line = [], [], None
    if good or bad:
        seq += 1
        _write_chunk(deps, job.id, seq, first_line, max([r["line"] for r in good] + [b[0] for b in bad]),
                     good, bad, count)
    uow = deps.uow()
    with uow:
        uow.session.execute(update(J).where(J.c.id == job.id).values(rows_total=count, rows_read=count,
                                                                      chunks_total=seq, heartbeat_at=utcnow()))
        _finish_if_complete(uow, job.id)
        uow.commit()


def _write_chunk(deps: Deps, job_id: str, seq: int, first_line: int, last_line: int, good: list[dict],
                 bad: list, rows_read: int) -> None:
    now = utcnow()
    with deps.session_factory() as s:
        s.execute(C.insert().values(job_id=job_id, seq=seq, first_line=first_line, last_line=last_line, rows=good,
                                    state="pending" if good else "done", attempts=0, dispatched_at=now,
                                    done_at=None if good else now))
        if bad:
            s.execute(E.insert(), _error_rows(job_id, bad))
        s.execute(update(J).where(J.c.id == job_id).values(
            rows_read=rows_read, rows_failed=J.c.rows_failed + len(bad),
            chunks_done=J.c.chunks_done + (0 if good else 1), heartbeat_at=now))
        s.commit()
    if good:
        deps.send(TASK_CHUNK, job_id, seq)


def _dry_run(deps: Deps, job, track: Track, rows) -> None:
    """Validate and plan every row against the current seats; store the preview, write nothing else."""
    with deps.session_factory() as s:  # a dry run that was interrupted starts again from the top
        s.execute(delete(E).where(E.c.job_id == job.id))
        s.execute(update(J).where(J.c.id == job.id).values(rows_read=0, rows_failed=0, rows_done=0))
        s.commit()
        slots, ids = tracks.load_slots(s, track)
    planner = Planner(track, slots)
    trainees: Counter = Counter()
    counts: Counter = Counter()
    existing_total = 0
    count = ok = failed = 0
    sample: list[dict] = []

    def flush(batch: list[dict], bad: list) -> None:
        nonlocal existing_total, ok, failed
        with deps.session_factory() as s:
            known = _existing_trainees(s, [r["employee_no"] for r in batch])
            held = _existing_enrollments(s, [t["id"] for t in known.values()], ids)
            for r in batch:
                t = known.get(r["employee_no"])
                trainees["new" if t is None else ("updated" if _changes(t, r) else "unchanged")] += 1
                result = planner.place(dt.date.fromisoformat(r["appointed_on"]), r["group"],
                                       held.get(t["id"], {}) if t else {})
                if isinstance(result, StageRefusal):
                    bad.append((r["line"], r["employee_no"], (result.to_row_error(r["line"]),)))
                    continue
                ok += 1
                existing_total += sum(p.existing for p in result)
                for p in result:
                    if not p.existing:
                        counts[(p.stage, p.session_id, p.status)] += 1
            failed += len(bad)
            if bad:
                errs = _error_rows(job.id, bad)
                s.execute(E.insert(), errs)
                sample.extend(errs[:20 - len(sample)])
            s.execute(update(J).where(J.c.id == job.id).values(rows_read=count, rows_failed=failed, rows_done=ok,
                                                               heartbeat_at=utcnow()))
            s.commit()

    batch: list[dict] = []
    bad: list = []
    for line, payload, emp, errors in rows:
        count += 1
        if payload is None:
            bad.append((line, emp, errors))
        else:
            batch.append(payload)
        if len(batch) + len(bad) >= job.chunk_size:
            flush(batch, bad)
            batch, bad = [], []
    flush(batch, bad)
    preview = _preview(track, planner, counts, trainees, existing_total, count, ok, failed, sample)
    uow = deps.uow()
    with uow:
        uow.session.execute(update(J).where(J.c.id == job.id, J.c.state == "running").values(
            state="done", rows_total=count, rows_read=count, chunks_total=0, preview=preview,
            trainees_created=trainees["new"], trainees_updated=trainees["updated"],
            trainees_unchanged=trainees["unchanged"], enrollments_created=sum(counts.values()),
            enrollments_existing=existing_total,
            confirmed=sum(n for (_, _, st), n in counts.items() if st == "confirmed"),
            waitlisted=sum(n for (_, _, st), n in counts.items() if st == "waitlisted"), finished_at=utcnow()))
        uow.commit()


def _preview(track: Track, planner: Planner, counts: Counter, trainees: Counter, existing: int, total: int,
             ok: int, failed: int, sample: list[dict]) -> dict:
    stages = []
    for stage in track.enrolling_stages:
        sessions = []
        for slot in sorted((sl for course in set(stage.courses.values()) for sl in planner.by_course.get(course, ())),
                           key=lambda sl: (sl.starts_on, sl.course)):
            c, w = counts.get((stage.key, slot.id, "confirmed"), 0), counts.get((stage.key, slot.id, "waitlisted"), 0)
            if c or w:
                sessions.append({"session_id": slot.id, "course": slot.course, "seq_no": slot.seq_no,
                                 "starts_on": slot.starts_on.isoformat(), "ends_on": slot.ends_on.isoformat(),
                                 "capacity": slot.capacity, "seats_free_after": slot.free,
                                 "confirmed": c, "waitlisted": w})
        stages.append({"key": stage.key, "name_ko": stage.name_ko, "name_en": stage.name_en,
                       "confirmed": sum(s["confirmed"] for s in sessions),
                       "waitlisted": sum(s["waitlisted"] for s in sessions), "sessions": sessions})
    return {"rows": {"total": total, "ok": ok, "failed": failed},
            "trainees": {"new": trainees["new"], "updated": trainees["updated"],
                         "unchanged": trainees["unchanged"]},
            "enrollments": {"new": sum(counts.values()), "existing": existing,
                            "confirmed": sum(s["confirmed"] for s in stages),
                            "waitlisted": sum(s["waitlisted"] for s in stages)},
            "stages": stages,
            "errors_sample": [{k: e[k] for k in ("line", "employee_no", "field", "reason_ko", "reason_en", "value")}
                              for e in sample]}


# --- one chunk ------------------------------------------------------------------------

class SeatRace(Exception):
    """A concurrent writer took seats between our read and our UPDATE: plan the chunk again."""


def _existing_trainees(s, employee_nos: list[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for i in range(0, len(employee_nos), 5000):
        for r in s.execute(select(T.trainees).where(_in(s, T.trainees.c.employee_no, employee_nos[i:i + 5000]))):
            out[r.employee_no] = dict(r._mapping)
    return out


def _existing_enrollments(s, trainee_ids: list[int], course_ids: dict[str, int]) -> dict[int, dict[str, tuple]]:
    """trainee id → course name → (session id, status) of enrollments that are not cancelled."""
    if not trainee_ids or not course_ids:
        return {}
    name_of = {v: k for k, v in course_ids.items()}
    out: dict[int, dict[str, tuple]] = defaultdict(dict)
    for i in range(0, len(trainee_ids), 5000):
        # by trainee only (its index); course and status filtered here, so that the plan cannot turn into a
        # scan of every enrollment of the track's courses when the statistics lag behind a bulk load
        rows = s.execute(select(T.enrollments.c.trainee_id, T.enrollments.c.course_id, T.enrollments.c.session_id,
                                T.enrollments.c.status)
                         .where(_in(s, T.enrollments.c.trainee_id, trainee_ids[i:i + 5000]))
                         .order_by(T.enrollments.c.id))
        for r in rows:
            if r.course_id in name_of and r.status != "cancelled":
                out[r.trainee_id].setdefault(name_of[r.course_id], (r.session_id, r.status))
    return out


def _desired(row: dict) -> dict:
    out = {k: row[k] for k in TRAINEE_COLUMNS if row.get(k) is not None}
    if "appointed_on" in out:
        out["appointed_on"] = dt.date.fromisoformat(out["appointed_on"])
    return out


def _changes(current: dict, row: dict) -> dict:
    return {k: v for k, v in _desired(row).items() if current.get(k) != v}


class _Obj:
    """Attribute access over a dict, for the payload builders."""

    def __init__(self, data: dict):
        self.__dict__.update(data)


def _enrollment_payload(enrollment_id: int, status: str, requested_at: str, actor: str, reason: str | None,
                        tref: dict, cref: dict, sref: dict) -> dict:
    """Same shape as ``payloads.enrollment_event`` for a new enrollment (tested equal), built from refs
    computed once per trainee/course/session rather than once per event."""
    return {"enrollment_id": enrollment_id, "version": 1, "status": status, "previous_status": None,
            "reason": reason, "actor": actor, "requested_at": requested_at, "prerequisite_deadline": None,
            "missing_prerequisites": [], "trainee": tref, "course": cref, "session": sref}


def process_chunk(deps: Deps, job_id: str, seq: int, attempts: int = 6) -> str:
    """Run one chunk; transient conflicts (seat race, deadlock, unique race) re-plan it from scratch."""
    for attempt in range(attempts):
        try:
            with _gc_paused():
                return _process_chunk_once(deps, job_id, seq)
        except (SeatRace, IntegrityError, OperationalError) as exc:
            if attempt == attempts - 1:
                raise
            log.info("bulk chunk %s/%s: %s; retrying", job_id, seq, exc.__class__.__name__)
            time.sleep(0.05 * (attempt + 1))
    return "unreachable"


@contextlib.contextmanager
def _gc_paused():
    """No cyclic garbage collection during a chunk. A chunk allocates ~100,000 short-lived containers (rows,
    payloads, events) that reference counting frees; the collector's allocation-triggered passes over the
    worker's whole heap meanwhile cost ~20 % of the chunk's CPU and find nothing. Whatever cyclic garbage
    the chunk leaves is collected by the next automatic pass once it is enabled again (memory stays flat)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _process_chunk_once(deps: Deps, job_id: str, seq: int) -> str:
    uow = deps.uow()
    with uow:
        s = uow.session
        chunk = s.execute(select(C).where(C.c.job_id == job_id, C.c.seq == seq)).first()
        if chunk is None:
            return "missing"
        if chunk.state == "done":
            return "done already"
        job = s.execute(select(J).where(J.c.id == job_id)).one()
        if job.state != "running":
            return f"job {job.state}"
        track = tracks.load_track(s, job.track_id)
        slots, course_ids = tracks.load_slots(s, track)
        now = utcnow()
        now_iso = now.isoformat()
        actor = f"bulk:{job.created_by or 'system'}"
        reason = f"일괄 등록 / bulk enrollment {job_id}"
        rows = sorted(chunk.rows, key=lambda r: r["employee_no"])  # one lock order for concurrent chunks

        # 1. trainees: insert the new ones, update the changed ones (set-based)
        known = _existing_trainees(s, [r["employee_no"] for r in rows])
        new_rows = [r for r in rows if r["employee_no"] not in known]
        changed = [(known[r["employee_no"]], _changes(known[r["employee_no"]], r))
                   for r in rows if r["employee_no"] in known]
        changed = [(cur, ch) for cur, ch in changed if ch]
        unchanged = len(rows) - len(new_rows) - len(changed)
        if new_rows:
            values = [{"employee_no": r["employee_no"], **{k: None for k in TRAINEE_COLUMNS}, **_desired(r),
                       "preferred_language": "ko", "created_at": now, "updated_at": now} for r in new_rows]
            ids = insert_rows(s, T.trainees, values, with_ids=True)
            for v, tid in zip(values, ids):
                known[v["employee_no"]] = {**v, "id": tid}
        if changed:
            params = []
            for cur, ch in changed:
                merged = {**{k: cur.get(k) for k in TRAINEE_COLUMNS}, **ch}
                known[cur["employee_no"]] = {**cur, **merged}
                params.append({"_id": cur["id"], **{f"_{k}": v for k, v in merged.items()}})
            s.execute(update(T.trainees).where(T.trainees.c.id == bindparam("_id")).values(
                {**{k: bindparam(f"_{k}") for k in TRAINEE_COLUMNS}, "updated_at": now}), params)
        # Events are built here with the chunk's time and encoded once (wire): the same JSON text goes into
        # the outbox row (COPY) and into the broker messages. Shared parts (a trainee's, course's, session's
        # reference) are encoded once and spliced into every enrollment event's payload.
        cid = get_correlation_id()
        encoded: list[wire.EncodedEnvelope] = []

        ids: list[str] = []

        def event(event_type: str, payload: dict, payload_json: str | None = None) -> None:
            if not ids:
                ids.extend(wire.new_ids(1024))
            env = Envelope(type=event_type, source=SOURCE, payload=payload, id=ids.pop(), occurred_at=now_iso,
                           correlation_id=cid)
            encoded.append(wire.encode(env, payload_json))

        trefs: dict[str, tuple[dict, str]] = {}
        for r in rows:
            tref = payloads.trainee_ref(_Obj(known[r["employee_no"]]))
            trefs[r["employee_no"]] = (tref, _json(tref))
        for v in new_rows:
            event("hrd.enrollment.trainee.registered.v1", payloads.trainee_snapshot(_Obj(known[v["employee_no"]])))
        for cur, _ in changed:
            event("hrd.enrollment.trainee.updated.v1", payloads.trainee_snapshot(_Obj(known[cur["employee_no"]])))
        member_ids = {known[r["employee_no"]]["id"] for r in rows}
        already = {tid for tid, track_id in s.execute(  # by trainee only (its index), as for enrollments below
            select(B.onboarding_members.c.trainee_id, B.onboarding_members.c.track_id).where(
                _in(s, B.onboarding_members.c.trainee_id, sorted(member_ids)))) if track_id == job.track_id}
        insert_rows(s, B.onboarding_members, [
            {"track_id": job.track_id, "trainee_id": known[r["employee_no"]]["id"], "series_group": r["group"],
             "job_id": job_id, "created_at": now} for r in rows if known[r["employee_no"]]["id"] not in already])

        # 2. placements (line order = first come, first served)
        held = _existing_enrollments(s, [known[r["employee_no"]]["id"] for r in rows], course_ids)
        planner = Planner(track, slots)
        new_enrollments: list[tuple[dict, object]] = []
        bad: list = []
        existing = 0
        for r in sorted(rows, key=lambda r: r["line"]):
            tid = known[r["employee_no"]]["id"]
            result = planner.place(dt.date.fromisoformat(r["appointed_on"]), r["group"], held.get(tid, {}))
            if isinstance(result, StageRefusal):
                bad.append((r["line"], r["employee_no"], (result.to_row_error(r["line"]),)))
                continue
            for p in result:
                if p.existing:
                    existing += 1
                else:
                    new_enrollments.append((r, p))

        # 3. enrollments, their history and their events
        if new_enrollments:
            values = [{"trainee_id": known[r["employee_no"]]["id"], "session_id": p.session_id,
                       "course_id": course_ids[p.course], "status": p.status, "holds_seat": p.status == "confirmed",
                       "version": 1, "waitlisted_at": now if p.status == "waitlisted" else None,
                       "prerequisite_deadline": None, "source": f"bulk:{job_id}", "requested_at": now,
                       "updated_at": now} for r, p in new_enrollments]
            eids = insert_rows(s, T.enrollments, values, with_ids=True)
            history = []
            for eid, (r, p) in zip(eids, new_enrollments):
                history.append({"enrollment_id": eid, "from_status": None, "to_status": "requested", "actor": actor,
                                "reason": reason, "at": now})
                history.append({"enrollment_id": eid, "from_status": "requested", "to_status": p.status,
                                "actor": actor, "at": now,
                                "reason": None if p.status == "confirmed" else "정원 초과로 대기 / waitlisted: session full"})
            insert_rows(s, T.enrollment_history, history)
            crefs, srefs = _refs(s, course_ids, {p.session_id for _, p in new_enrollments})
            cjson = {k: _json(v) for k, v in crefs.items()}
            sjson = {k: _json(v) for k, v in srefs.items()}
            head = f',"version":1,"previous_status":null,"reason":null,"actor":{_json(actor)},' \
                   f'"requested_at":{_json(now_iso)},"prerequisite_deadline":null,"missing_prerequisites":[],'
            first = None
            for eid, (r, p) in zip(eids, new_enrollments):
                tref, tjson = trefs[r["employee_no"]]
                cid_, sid = course_ids[p.course], p.session_id
                payload = _enrollment_payload(eid, p.status, now_iso, actor, None, tref, crefs[cid_], srefs[sid])
                text = (f'{{"enrollment_id":{int(eid)},"status":{_json(p.status)}{head}'
                        f'"trainee":{tjson},"course":{cjson[cid_]},"session":{sjson[sid]}}}')
                if first is None:
                    first = payload
                    if json.loads(text) != payload:  # a sample: the splice must say what the dict says
                        raise ValueError("bulk enrollment payload JSON does not match its payload")
                event(CREATED_EVENT, payload, text)
            problems = payload_schema(CREATED_EVENT)().validate(first)  # a sample: the builder is typed
            if problems:
                raise ValueError(f"bulk enrollment payload does not match the catalogue: {problems}")

        # 4. rejected rows; the events so far into the outbox (before the locks below are taken)
        if bad:
            s.execute(E.insert(), _error_rows(job_id, bad))
        relay = deps.celery is not None
        insert_rows(s, T.outbox, _outbox_rows(encoded, now, published=relay))

        # 5. seats: one conditional UPDATE per session, in id order (no deadlock between chunks). Taken this
        #    late so that concurrent chunks wait on these rows (and on the job row below) only for the
        #    moment until commit, not for the whole chunk.
        seats = Counter(p.session_id for _, p in new_enrollments if p.status == "confirmed")
        for sid in sorted(seats):
            n = seats[sid]
            res = s.execute(update(T.sessions).where(T.sessions.c.id == sid,
                                                     T.sessions.c.seats_taken + n <= T.sessions.c.capacity)
                            .values(seats_taken=T.sessions.c.seats_taken + n, updated_at=now))
            if res.rowcount != 1:
                raise SeatRace(f"session {sid}")

        # 6. chunk done, job counters — all in this same transaction
        res = s.execute(update(C).where(C.c.job_id == job_id, C.c.seq == seq, C.c.state == "pending")
                        .values(state="done", done_at=now, attempts=C.c.attempts + 1))
        if res.rowcount != 1:
            return "done concurrently"
        confirmed = sum(1 for _, p in new_enrollments if p.status == "confirmed")
        s.execute(update(J).where(J.c.id == job_id).values(
            rows_done=J.c.rows_done + len(rows) - len(bad), rows_failed=J.c.rows_failed + len(bad),
            chunks_done=J.c.chunks_done + 1, trainees_created=J.c.trainees_created + len(new_rows),
            trainees_updated=J.c.trainees_updated + len(changed),
            trainees_unchanged=J.c.trainees_unchanged + unchanged,
            enrollments_created=J.c.enrollments_created + len(new_enrollments),
            enrollments_existing=J.c.enrollments_existing + existing, confirmed=J.c.confirmed + confirmed,
            waitlisted=J.c.waitlisted + len(new_enrollments) - confirmed))
        _finish_if_complete(uow, job_id)
        finished, uow.events = [wire.encode(e) for e in uow.events], []  # bulk_job.finished, if this was the last
        insert_rows(s, T.outbox, _outbox_rows(finished, now, published=relay))
        s.commit()
        if relay:
            _relay(deps, encoded + finished)
        _analyze_if_grown(deps)
        return "processed"


#: tables a bulk job grows, whose statistics the chunk's lookups depend on
_GROWING = ("trainees", "onboarding_members", "enrollments", "enrollment_history", "outbox")


def _analyze_if_grown(deps: Deps) -> None:
    """ANALYZE (PostgreSQL) the tables a bulk job has doubled since their last analyze. A job adds rows far
    faster than autovacuum's analyze catches up (or autovacuum is off); with statistics from when a table
    was small the planner picks sequential scans for the per-chunk lookups, which then cost more with every
    chunk. One cheap look at pg_stat per chunk; at most one analyzer at a time (advisory lock)."""
    if deps.engine.dialect.name != "postgresql":
        return
    try:
        with deps.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            grown = conn.execute(text(
                "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(:names) "
                "AND n_mod_since_analyze > GREATEST(5000, n_live_tup - n_mod_since_analyze)"),
                {"names": list(_GROWING)}).scalars().all()
            if grown and conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _ANALYZE_LOCK}).scalar():
                try:
                    conn.execute(text("ANALYZE " + ", ".join(f'"{n}"' for n in sorted(grown))))
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ANALYZE_LOCK})
    except Exception:  # noqa: BLE001 - statistics are an optimisation; the chunk is committed
        log.warning("bulk: ANALYZE of grown tables failed", exc_info=True)


_ANALYZE_LOCK = 0x62756C6B  # "bulk"


def _json(value) -> str:
    return wire.dumps(value)


def _in(s, column, values):
    """``column IN values``; on PostgreSQL ``= ANY(array)``: one parameter instead of one per value (a
    thousand-value IN list costs more to render and parse than the query costs to run)."""
    if dialect_name(s) == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


def _outbox_rows(encoded: list[wire.EncodedEnvelope], now: dt.datetime, *, published: bool) -> list[dict]:
    """Outbox rows for the chunk's events. With a broker they are written already marked published (the
    relay right after commit sends them) instead of marked by a second UPDATE of every row: delivery stays
    at-least-once through the receipts, since an event no subscriber receipted within
    ``OUTBOX_RECEIPT_TIMEOUT_SECONDS`` of ``published_at`` is re-sent by the outbox sweep whatever happened
    (the process died between commit and publish, or Redis dropped the message)."""
    return [{"event_id": e.id, "event_type": e.type, "source": e.envelope.source,
             "occurred_at": dt.datetime.fromisoformat(e.envelope.occurred_at),
             "correlation_id": e.envelope.correlation_id, "payload": RawJSON(e.envelope.payload, e.payload_json),
             "created_at": now, "published_at": now if published else None, "publish_attempts": 0}
            for e in encoded]


def _relay(deps: Deps, encoded: list[wire.EncodedEnvelope]) -> None:
    """Publish a committed chunk's events. Never raises: if the broker is unreachable the rows are handed back
    to the outbox sweep (published_at cleared); if even that fails, the receipt re-send covers them."""
    try:
        wire.publish_encoded(deps.celery, encoded)
        return
    except Exception:  # noqa: BLE001 - broker down or slow
        log.warning("bulk relay failed; %d events left for the outbox sweep", len(encoded), exc_info=True)
    ids = [e.id for e in encoded]
    try:
        with deps.engine.begin() as conn:
            for i in range(0, len(ids), 1000):
                conn.execute(update(T.outbox).where(T.outbox.c.event_id.in_(ids[i:i + 1000]),
                                                    T.outbox.c.receipted_at.is_(None)).values(published_at=None))
    except Exception:  # noqa: BLE001
        log.warning("could not hand %d events back to the sweep; the receipt re-send will send them", len(ids),
                    exc_info=True)


def _refs(s, course_ids: dict[str, int], session_ids: set[int]) -> tuple[dict, dict]:
    crefs = {r.id: payloads.course_ref(r) for r in s.execute(select(T.courses).where(
        T.courses.c.id.in_(list(course_ids.values()))))}
    srefs = {r.id: payloads.session_ref(r) for r in s.execute(select(T.sessions).where(
        _in(s, T.sessions.c.id, sorted(session_ids))))}
    return crefs, srefs


def _finish_if_complete(uow: UnitOfWork, job_id: str) -> None:
    res = uow.session.execute(update(J).where(J.c.id == job_id, J.c.state == "running", J.c.rows_total.isnot(None),
                                              J.c.chunks_done == J.c.chunks_total)
                              .values(state="done", finished_at=utcnow()))
    if res.rowcount == 1:
        _emit_finished(uow, job_id)


def _emit_finished(uow: UnitOfWork, job_id: str) -> None:
    job = uow.session.execute(select(J).where(J.c.id == job_id)).one()
    uow.emit(FINISHED_EVENT, {"job_id": job_id, "state": job.state, "rows_total": job.rows_total or 0,
                              "rows_done": job.rows_done, "rows_failed": job.rows_failed,
                              "enrollments_created": job.enrollments_created,
                              "trainees_created": job.trainees_created, "trainees_updated": job.trainees_updated,
                              "dry_run": job.dry_run})


# --- stalled work -------------------------------------------------------------------------

def redispatch(deps: Deps) -> dict:
    """Send again the chunks and file readers that made no progress for ``stall_seconds``."""
    cutoff = utcnow() - dt.timedelta(seconds=deps.stall_seconds)
    with deps.session_factory() as s:
        chunks = s.execute(select(C.c.job_id, C.c.seq).join(J, J.c.id == C.c.job_id).where(
            C.c.state == "pending", C.c.dispatched_at < cutoff, J.c.state == "running").limit(500)).all()
        readers = s.execute(select(J.c.id).where(
            J.c.state.in_(("queued", "running")), J.c.rows_total.is_(None),
            func.coalesce(J.c.heartbeat_at, J.c.created_at) < cutoff)).scalars().all()
        now = utcnow()
        for job_id, seq in chunks:
            s.execute(update(C).where(C.c.job_id == job_id, C.c.seq == seq).values(dispatched_at=now))
        for job_id in readers:
            s.execute(update(J).where(J.c.id == job_id).values(heartbeat_at=now))
        s.commit()
    for job_id, seq in chunks:
        deps.send(TASK_CHUNK, job_id, seq)
    for job_id in readers:
        deps.send(TASK_PREPARE, job_id)
    if chunks or readers:
        log.warning("bulk redispatch: %d chunks, %d readers", len(chunks), len(readers))
    return {"chunks": len(chunks), "readers": len(readers)}


# --- queries ------------------------------------------------------------------------------

def job_view(row, now: dt.datetime | None = None) -> dict:
    job = dict(row._mapping)
    now = now or utcnow()
    started, finished = _aware(job["started_at"]), _aware(job["finished_at"])
    processed = job["rows_done"] + job["rows_failed"]
    elapsed = ((finished or now) - started).total_seconds() if started else 0.0
    rate = processed / elapsed if elapsed > 0 else None
    total = job["rows_total"]
    eta = None
    if job["state"] == "running" and rate and total is not None:
        eta = max(0.0, (total - processed) / rate)
    percent = 100.0 if job["state"] in ("done", "failed") else (
        round(100.0 * processed / total, 1) if total else 0.0)
    return {"id": job["id"], "state": job["state"], "dry_run": job["dry_run"], "track_id": job["track_id"],
            "source_job_id": job["source_job_id"], "created_by": job["created_by"],
            "file_format": job["file_format"], "encoding": job["encoding"],
            "created_at": _aware(job["created_at"]), "started_at": started, "finished_at": finished,
            "progress": {"rows_total": total, "rows_read": job["rows_read"], "rows_done": job["rows_done"],
                         "rows_failed": job["rows_failed"], "percent": percent,
                         "chunks_total": job["chunks_total"], "chunks_done": job["chunks_done"],
                         "rate_rows_per_s": round(rate, 1) if rate else None,
                         "eta_seconds": round(eta, 1) if eta is not None else None,
                         "elapsed_seconds": round(elapsed, 2)},
            "trainees": {"created": job["trainees_created"], "updated": job["trainees_updated"],
                         "unchanged": job["trainees_unchanged"]},
            "enrollments": {"created": job["enrollments_created"], "existing": job["enrollments_existing"],
                            "confirmed": job["confirmed"], "waitlisted": job["waitlisted"]},
            "preview": job["preview"], "error": job["error"]}


def get_job(deps: Deps, job_id: str) -> dict:
    with deps.session_factory() as s:
        row = s.execute(select(J).where(J.c.id == job_id)).first()
        if row is None:
            raise not_found("일괄 등록 작업", "Bulk job", job_id)
        view = job_view(row)
        if view["preview"] is None:
            sample = s.execute(select(E).where(E.c.job_id == job_id).order_by(E.c.line, E.c.id).limit(20)).all()
            view["errors_sample"] = [{k: getattr(e, k) for k in ("line", "employee_no", "field", "reason_ko",
                                                                "reason_en", "value")} for e in sample]
        else:
            view["errors_sample"] = view["preview"].get("errors_sample", [])
    return view


def iter_errors(deps: Deps, job_id: str, page: int = 5000) -> Iterator[Any]:
    """Every rejected row of a job in line order, read page by page (keyset) so memory stays flat."""
    last = (0, 0)
    while True:
        with deps.session_factory() as s:
            rows = s.execute(select(E).where(E.c.job_id == job_id,
                                             (E.c.line > last[0]) | ((E.c.line == last[0]) & (E.c.id > last[1])))
                             .order_by(E.c.line, E.c.id).limit(page)).all()
        if not rows:
            return
        yield from rows
        last = (rows[-1].line, rows[-1].id)


def field_label(name: str | None) -> tuple[str, str]:
    return TRAINEE_FIELDS.get(name or "", (name or "", name or ""))
