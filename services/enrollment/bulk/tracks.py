"""Onboarding track definitions: bundled JSON files (data, versioned) loaded into tables.

``install_bundled`` inserts every ``tracks/*.json`` whose (code, version) is not in the database yet; a
changed definition is a new version (the old one stays for the jobs that used it). It runs on first use
(upload, track list) and through ``flask --app services.enrollment.app:create_app bulk install-tracks``.
"""
from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from services.enrollment.adapters import bulk_orm as B
from services.enrollment.adapters import orm as T
from services.enrollment.domain.onboarding import Slot, Track, parse_track

TRACKS_DIR = Path(__file__).resolve().parent / "tracks"


def bundled_definitions() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(TRACKS_DIR.glob("*.json"))]


def install(session, data: dict) -> tuple[int, bool]:
    """Install one definition (idempotent). Returns (track id, created)."""
    track = parse_track(data)
    row = session.execute(select(B.onboarding_tracks.c.id).where(
        B.onboarding_tracks.c.code == track.code, B.onboarding_tracks.c.version == track.version)).first()
    if row is not None:
        return row.id, False
    # a newer version supersedes the older ones of the same code
    session.execute(update(B.onboarding_tracks).where(B.onboarding_tracks.c.code == track.code,
                                                      B.onboarding_tracks.c.version < track.version)
                    .values(active=False))
    track_id = session.execute(B.onboarding_tracks.insert().values(
        code=track.code, version=track.version, year=track.year, name_ko=track.name_ko, name_en=track.name_en,
        grades=sorted(track.grades), series_groups={g: sorted(m) for g, m in track.series_groups.items()},
        definition=data, active=True, created_at=dt.datetime.now(dt.timezone.utc))).inserted_primary_key[0]
    session.execute(B.onboarding_stages.insert(), [
        {"track_id": track_id, **{k: v for k, v in s.as_dict().items()}} for s in track.stages])
    return track_id, True


def install_bundled(session_factory) -> int:
    """Install the bundled definitions that are missing; returns how many were added."""
    with session_factory() as s:
        have = {(r.code, r.version) for r in s.execute(select(B.onboarding_tracks.c.code,
                                                              B.onboarding_tracks.c.version))}
    missing = [d for d in bundled_definitions() if (d["code"], int(d["version"])) not in have]
    if not missing:
        return 0
    added = 0
    try:
        with session_factory() as s:
            for data in missing:
                added += install(s, data)[1]
            s.commit()
    except IntegrityError:  # a concurrent request installed them first
        return 0
    return added


@lru_cache(maxsize=32)
def _parse_cached(definition_json: str) -> Track:
    return parse_track(json.loads(definition_json))


def load_track(session, track_id: int) -> Track | None:
    """A stored definition as a domain ``Track`` (definitions are immutable: cached by content)."""
    row = session.execute(select(B.onboarding_tracks.c.definition).where(B.onboarding_tracks.c.id == track_id)).first()
    if row is None:
        return None
    return _parse_cached(json.dumps(row.definition, sort_keys=True, ensure_ascii=False))


def resolve_track_id(session, code: str | None = None, track_id: int | None = None) -> int | None:
    q = select(B.onboarding_tracks.c.id)
    if track_id is not None:
        q = q.where(B.onboarding_tracks.c.id == track_id)
    elif code:
        q = q.where(B.onboarding_tracks.c.code == code, B.onboarding_tracks.c.active.is_(True))
    else:
        q = q.where(B.onboarding_tracks.c.active.is_(True)).order_by(B.onboarding_tracks.c.year.desc(),
                                                                      B.onboarding_tracks.c.id.desc())
    row = session.execute(q.limit(1)).first()
    return row.id if row else None


def course_ids(session, track: Track) -> dict[str, int]:
    """Course name → id for the track's courses in the track's year."""
    rows = session.execute(select(T.courses.c.id, T.courses.c.name_ko).where(
        T.courses.c.year == track.year, T.courses.c.name_ko.in_(sorted(track.course_names()))))
    return {r.name_ko: r.id for r in rows}


def load_slots(session, track: Track, ids: dict[str, int] | None = None) -> tuple[list[Slot], dict[str, int]]:
    """The sessions of the track's courses with their current seat counts."""
    ids = course_ids(session, track) if ids is None else ids
    if not ids:
        return [], ids
    name_of = {v: k for k, v in ids.items()}
    rows = session.execute(select(T.sessions.c.id, T.sessions.c.course_id, T.sessions.c.seq_no,
                                  T.sessions.c.starts_on, T.sessions.c.ends_on, T.sessions.c.capacity,
                                  T.sessions.c.seats_taken, T.sessions.c.status)
                           .where(T.sessions.c.course_id.in_(list(ids.values()))).order_by(T.sessions.c.id))
    return [Slot(r.id, name_of[r.course_id], r.seq_no, r.starts_on, r.ends_on, r.capacity, r.seats_taken,
                 r.status == "cancelled") for r in rows], ids
