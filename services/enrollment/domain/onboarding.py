"""The onboarding track for new hires (신규임용자 교육 트랙), as data, and how a new hire is placed in it.

A track is a versioned definition (``parse_track`` reads it from a plain mapping, e.g. JSON) of ordered
stages whose dates are relative to the trainee's appointment date ``A`` (임용예정일):

==  ===================  =====  =======================================================
1   pre_elearning        pre    e-learning, 3 weeks, ideally from A-49
2   pre_classroom        pre    classroom (7~9급 신입자), 4 weeks, ideally from A-28
3   adaptation           post   department adaptation, 2 weeks from A, no enrollment
4   post_classroom       post   classroom, 1 week from A+14; the course depends on the
                                trainee's job-series group (행정직군 / 기술직군)
==  ===================  =====  =======================================================

Placement (``Planner.place``) walks the enrolling stages in order. For each one the candidate sessions
are those of the stage's course that

* start inside the stage's window around the ideal start (``window_before_days``/``window_after_days``),
* respect the phase: a ``pre`` stage's session ends before ``A``, a ``post`` stage's starts on/after ``A``,
* are gated on the previous enrolling stage's placed session: start after its start (``gate_from
  ='start'``) or at least ``gate_days`` after its end (``gate_from='end'``),

closest to the ideal start first. The first candidate with a free seat is taken (confirmed); when every
candidate is full the trainee is waitlisted on the closest one, so later stages stay consistent with the
dates of the waitlisted session. No candidate at all is a refusal naming the stage. A stage the trainee
is already enrolled in (same course, e.g. from an earlier upload) keeps that enrollment and gates the
next stage on its session: uploading a file twice places nobody twice.

Pure Python (no I/O), so every rule is unit-tested without a database.
"""
from __future__ import annotations

import functools

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from .errors import Refusal, RowError
from .model import Trainee
from .vocabulary import normalise_job_series

ANY_GROUP = "*"
PHASES = ("pre", "post")
GATES = ("start", "end")


class TrackDefinitionError(ValueError):
    """The track definition itself is inconsistent (a programming or data-entry error)."""


@dataclass(frozen=True)
class Stage:
    seq: int
    key: str
    name_ko: str
    name_en: str
    phase: str                      # "pre" | "post" (relative to the appointment date)
    enrolls: bool                   # False: on the timeline only (department adaptation)
    offset_days: int                # ideal start relative to the appointment date
    duration_days: int
    window_before_days: int = 0     # a session may start this much before the ideal start
    window_after_days: int = 0      # ... or this much after
    gate_from: str | None = None    # previous enrolling stage's session "start" | "end"
    gate_days: int = 0
    courses: Mapping[str, str] = field(default_factory=dict)  # series group or "*" -> course name

    def course_for(self, group: str) -> str | None:
        return self.courses.get(group) or self.courses.get(ANY_GROUP)

    def ideal_start(self, appointed_on: date) -> date:
        return appointed_on + timedelta(days=self.offset_days)

    def planned(self, appointed_on: date) -> tuple[date, date]:
        start = self.ideal_start(appointed_on)
        return start, start + timedelta(days=self.duration_days - 1)

    def as_dict(self) -> dict:
        return {"seq": self.seq, "key": self.key, "name_ko": self.name_ko, "name_en": self.name_en,
                "phase": self.phase, "enrolls": self.enrolls, "offset_days": self.offset_days,
                "duration_days": self.duration_days, "window_before_days": self.window_before_days,
                "window_after_days": self.window_after_days, "gate_from": self.gate_from,
                "gate_days": self.gate_days, "courses": dict(self.courses)}


@dataclass(frozen=True)
class Track:
    code: str
    version: int
    year: int
    name_ko: str
    name_en: str
    grades: frozenset[str]
    series_groups: Mapping[str, frozenset[str]]
    stages: tuple[Stage, ...]

    @functools.cached_property  # asked for every row placed; a frozen track never changes
    def enrolling_stages(self) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.enrolls)

    def course_names(self) -> set[str]:
        return {name for s in self.enrolling_stages for name in s.courses.values()}

    def series_group(self, job_series: str | None) -> str | None:
        """'행정' → '행정직군'; a group name is itself; unknown → None."""
        series = normalise_job_series(job_series)
        if not series:
            return None
        if series in self.series_groups:
            return series
        for group, members in self.series_groups.items():
            if series in members:
                return group
        return None


def parse_track(data: Mapping) -> Track:
    """Build a ``Track`` from its data form (see ``services/enrollment/bulk/tracks/*.json``)."""
    try:
        groups = {str(g): frozenset(normalise_job_series(s) for s in members)
                  for g, members in (data.get("series_groups") or {}).items()}
        stages = tuple(Stage(
            seq=int(s["seq"]), key=str(s["key"]), name_ko=str(s["name_ko"]), name_en=str(s["name_en"]),
            phase=str(s["phase"]), enrolls=bool(s.get("enrolls", True)), offset_days=int(s["offset_days"]),
            duration_days=int(s["duration_days"]), window_before_days=int(s.get("window_before_days", 0)),
            window_after_days=int(s.get("window_after_days", 0)), gate_from=s.get("gate_from"),
            gate_days=int(s.get("gate_days", 0)), courses=dict(s.get("courses") or {}),
        ) for s in data["stages"])
        track = Track(code=str(data["code"]), version=int(data["version"]), year=int(data["year"]),
                      name_ko=str(data["name_ko"]), name_en=str(data["name_en"]),
                      grades=frozenset(data.get("grades") or ()), series_groups=groups, stages=stages)
    except (KeyError, TypeError, ValueError) as exc:
        raise TrackDefinitionError(f"invalid track definition: {exc!r}") from exc
    _check_track(track)
    return track


def _check_track(track: Track) -> None:
    seqs = [s.seq for s in track.stages]
    if not track.stages or seqs != sorted(set(seqs)):
        raise TrackDefinitionError("stages must be listed in strictly increasing seq order")
    if len({s.key for s in track.stages}) != len(track.stages):
        raise TrackDefinitionError("stage keys must be unique")
    for s in track.stages:
        if s.phase not in PHASES:
            raise TrackDefinitionError(f"stage {s.key}: phase must be one of {PHASES}")
        if s.gate_from not in (None, *GATES):
            raise TrackDefinitionError(f"stage {s.key}: gate_from must be one of {GATES} or null")
        if s.duration_days < 1 or s.window_before_days < 0 or s.window_after_days < 0:
            raise TrackDefinitionError(f"stage {s.key}: durations and windows must be positive")
        if s.enrolls and not s.courses:
            raise TrackDefinitionError(f"stage {s.key}: an enrolling stage needs a course")
        if not s.enrolls and s.courses:
            raise TrackDefinitionError(f"stage {s.key}: a timeline-only stage has no course")
        for group in s.courses:
            if group != ANY_GROUP and group not in track.series_groups:
                raise TrackDefinitionError(f"stage {s.key}: unknown series group {group!r}")
        if s.enrolls and ANY_GROUP not in s.courses and set(s.courses) != set(track.series_groups):
            raise TrackDefinitionError(f"stage {s.key}: needs a course for every series group")


# --- who may enter the track ------------------------------------------------------

def _row_error(line: int, fld: str, ko: str, en: str, value=None) -> RowError:
    return RowError(line, fld, ko, en, None if value is None else str(value))


def check_new_hire(track: Track, line: int, trainee: Trainee) -> str | list[RowError]:
    """The trainee's series group, or why the row cannot enter the track."""
    errors: list[RowError] = []
    if trainee.appointment_date is None:
        errors.append(_row_error(line, "appointment_date", "임용(예정)일: 값이 없습니다.",
                                 "Appointment date: is required"))
    elif not (track.year - 1 <= trainee.appointment_date.year <= track.year + 1):
        errors.append(_row_error(line, "appointment_date",
                                 f"임용(예정)일: {track.year}년 트랙의 기간이 아닙니다.",
                                 f"Appointment date: outside the {track.year} track",
                                 trainee.appointment_date.isoformat()))
    if track.grades and trainee.grade not in track.grades:
        allowed = ", ".join(sorted(track.grades))
        errors.append(_row_error(line, "grade", f"직급: 이 트랙의 대상({allowed})이 아닙니다.",
                                 f"Grade: not a target of this track ({allowed})", trainee.grade))
    group = None
    if not trainee.job_series:
        errors.append(_row_error(line, "job_series", "직렬: 값이 없습니다 (직렬별 교육 배정에 필요).",
                                 "Job series: is required (the post-appointment course depends on it)"))
    else:
        group = track.series_group(trainee.job_series)
        if group is None:
            names = ", ".join(sorted(track.series_groups))
            errors.append(_row_error(line, "job_series", f"직렬: 직군({names})을 알 수 없는 직렬입니다.",
                                     f"Job series: not in a known group ({names})", trainee.job_series))
    return errors if errors else group  # type: ignore[return-value]


# --- placement --------------------------------------------------------------------

@dataclass
class Slot:
    """A session as the planner sees it; ``taken`` counts seats as the plan fills them."""

    id: int
    course: str          # course name (as the track names it)
    seq_no: int
    starts_on: date
    ends_on: date
    capacity: int
    taken: int
    cancelled: bool = False

    @property
    def free(self) -> int:
        return self.capacity - self.taken


@dataclass(frozen=True)
class Placement:
    stage: str
    course: str
    session_id: int
    status: str          # "confirmed" | "waitlisted" (existing: whatever the enrollment's status is)
    existing: bool = False


@dataclass(frozen=True)
class StageRefusal:
    stage: Stage
    refusal: Refusal

    def to_row_error(self, line: int) -> RowError:
        return RowError(line, "appointment_date", self.refusal.reason_ko, self.refusal.reason_en)


class Planner:
    """Places new hires stage by stage; seat counts live in the ``Slot`` objects it was given."""

    def __init__(self, track: Track, slots: Iterable[Slot]):
        self.track = track
        self.by_course: dict[str, list[Slot]] = {}
        self.by_id: dict[int, Slot] = {}
        for slot in slots:
            self.by_course.setdefault(slot.course, []).append(slot)
            self.by_id[slot.id] = slot

    def missing_courses(self) -> list[str]:
        return sorted(self.track.course_names() - set(self.by_course))

    def place(self, appointed_on: date, group: str,
              existing: Mapping[str, tuple[int, str]] | None = None) -> list[Placement] | StageRefusal:
        """Placements for every enrolling stage, or the first stage that has no fitting session.

        ``existing`` maps course name → (session id, status) of enrollments the trainee already has.
        On a refusal no seat is kept.
        """
        existing = existing or {}
        out: list[Placement] = []
        taken: list[Slot] = []
        prev: Slot | None = None
        for stage in self.track.enrolling_stages:
            course = stage.course_for(group)
            if course is None:  # cannot happen for a checked track
                raise TrackDefinitionError(f"stage {stage.key}: no course for group {group!r}")
            if course in existing:
                session_id, status = existing[course]
                prev = self.by_id.get(session_id, prev)
                out.append(Placement(stage.key, course, session_id, status, existing=True))
                continue
            candidates = self.candidates(stage, course, appointed_on, prev)
            if not candidates:
                for slot in taken:
                    slot.taken -= 1
                return self._refusal(stage, appointed_on)
            chosen = next((s for s in candidates if s.free > 0), None)
            if chosen is not None:
                chosen.taken += 1
                taken.append(chosen)
                out.append(Placement(stage.key, course, chosen.id, "confirmed"))
            else:
                chosen = candidates[0]
                out.append(Placement(stage.key, course, chosen.id, "waitlisted"))
            prev = chosen
        return out

    def candidates(self, stage: Stage, course: str, appointed_on: date, prev: Slot | None) -> list[Slot]:
        ideal = stage.ideal_start(appointed_on)
        lo = ideal - timedelta(days=stage.window_before_days)
        hi = ideal + timedelta(days=stage.window_after_days)
        out = []
        for slot in self.by_course.get(course, ()):
            if slot.cancelled or not (lo <= slot.starts_on <= hi):
                continue
            if stage.phase == "pre" and slot.ends_on >= appointed_on:
                continue
            if stage.phase == "post" and slot.starts_on < appointed_on:
                continue
            if prev is not None and stage.gate_from == "start" and slot.starts_on < prev.starts_on + timedelta(
                    days=stage.gate_days):
                continue
            if prev is not None and stage.gate_from == "end" and slot.starts_on < prev.ends_on + timedelta(
                    days=stage.gate_days):
                continue
            out.append(slot)
        out.sort(key=lambda s: (abs((s.starts_on - ideal).days), s.starts_on, s.id))
        return out

    @staticmethod
    def _refusal(stage: Stage, appointed_on: date) -> StageRefusal:
        ideal = stage.ideal_start(appointed_on).isoformat()
        return StageRefusal(stage, Refusal(
            "ONBOARDING_NO_SESSION",
            f"임용(예정)일 {appointed_on.isoformat()}에 맞는 '{stage.name_ko}' 회차가 없습니다 "
            f"(권장 시작일 {ideal}).",
            f"No session of '{stage.name_en}' fits the appointment date {appointed_on.isoformat()} "
            f"(ideal start {ideal})."))


# --- timeline ---------------------------------------------------------------------

@dataclass(frozen=True)
class TimelineEntry:
    stage: Stage
    planned_start: date
    planned_end: date
    start: date
    end: date
    session_id: int | None = None
    enrollment_id: int | None = None
    status: str | None = None       # enrollment status; "planned" for a timeline-only stage; None: not placed


def timeline(track: Track, appointed_on: date, placed: Mapping[str, tuple[Slot, int, str]]) -> list[TimelineEntry]:
    """The trainee's track in date order. ``placed`` maps stage key → (session, enrollment id, status).

    A timeline-only stage (department adaptation) runs from the day after the previous placed session
    (not before the appointment date) to the day before the next placed session.
    """
    entries: list[TimelineEntry] = []
    stages = track.stages
    for i, stage in enumerate(stages):
        p_start, p_end = stage.planned(appointed_on)
        if stage.enrolls:
            if stage.key in placed:
                slot, enrollment_id, status = placed[stage.key]
                entries.append(TimelineEntry(stage, p_start, p_end, slot.starts_on, slot.ends_on, slot.id,
                                             enrollment_id, status))
            else:
                entries.append(TimelineEntry(stage, p_start, p_end, p_start, p_end))
            continue
        prev = next((placed[s.key][0] for s in reversed(stages[:i]) if s.key in placed), None)
        nxt = next((placed[s.key][0] for s in stages[i + 1:] if s.key in placed), None)
        start = max(appointed_on if stage.phase == "post" else p_start,
                    prev.ends_on + timedelta(days=1) if prev else p_start)
        end = nxt.starts_on - timedelta(days=1) if nxt else p_end
        entries.append(TimelineEntry(stage, p_start, p_end, start, max(start, end), status="planned"))
    return entries


def stage_counts(placements: Sequence[Placement]) -> dict[tuple[str, int, str], int]:
    """(stage, session id, status) → number of new placements (for previews and job statistics)."""
    counts: dict[tuple[str, int, str], int] = {}
    for p in placements:
        if not p.existing:
            key = (p.stage, p.session_id, p.status)
            counts[key] = counts.get(key, 0) + 1
    return counts
