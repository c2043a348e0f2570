"""Read-side queries over the read model; the rules live in ``services.reporting.domain``.

Counters come from ``rm_rollups`` whenever the question is one dimension (the year, a course, an
organisation type…) with at most one filter on another dimension's own row, which is a handful of
primary-key reads. A question that crosses two trainee/catalogue dimensions (e.g. courses *for trainees
of districts*) is answered exactly from ``rm_enrollments`` with a GROUP BY: slower on millions of rows,
but never approximate. Planned figures always come from the catalogue tables (a few hundred rows).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields as dc_fields
from decimal import Decimal
from typing import Any

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from services.reporting.adapters import orm
from services.reporting.domain import reference
from services.reporting.domain.plan_vs_actual import (ActualMeasure, plan_vs_actual_by_area,
                                                      plan_vs_actual_by_course, plan_vs_actual_by_year)
from services.reporting.domain.rollup import CounterTotals, EnrollmentStatus, counters_for_status
from services.reporting.domain.training_summary import CoursePlanRow, build_training_summary
from services.reporting.domain.vocabulary import (CHANGE_TYPE_LABEL_KO, ChangeType, area_label_ko,
                                                  dimension_label, is_retired)

R, E, C, S = orm.rm_rollups, orm.rm_enrollments, orm.rm_courses, orm.rm_sessions

#: Legacy ``actual`` keys of /summary (kept for existing clients; ``counters`` has the full set).
LEGACY_ACTUAL = ("enrolled", "confirmed", "waitlisted", "pending_prerequisite", "attended", "completed",
                 "no_show", "failed", "cancelled")


@dataclass(frozen=True)
class Filters:
    """Report filters; ``None`` = not filtered. ``month`` is 1..12 (session start month)."""

    delivery: str | None = None
    area: str | None = None
    organisation_type: str | None = None
    grade: str | None = None
    job_series: str | None = None
    month: int | None = None
    course_id: int | None = None

    @classmethod
    def from_args(cls, args: dict) -> "Filters":
        return cls(**{f.name: args.get(f.name) for f in dc_fields(cls)})

    def dims(self, *names: str) -> dict[str, str]:
        """The given filters that are set, as rollup (dimension -> key)."""
        mapping = {"delivery": ("delivery", self.delivery), "area": ("competency_area", self.area),
                   "organisation_type": ("organisation_type", self.organisation_type),
                   "grade": ("grade", self.grade), "job_series": ("job_series", self.job_series),
                   "month": ("month", None if self.month is None else f"{int(self.month):02d}"),
                   "course_id": ("course", None if self.course_id is None else str(self.course_id))}
        out = {}
        for name in names:
            dim, value = mapping[name]
            if value not in (None, ""):
                out[dim] = str(value)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dc_fields(self) if getattr(self, f.name) is not None}


TRAINEE = ("organisation_type", "grade", "job_series")
ALL = ("delivery", "area", "organisation_type", "grade", "job_series", "month", "course_id")

# rm_enrollments column (as text) for each rollup dimension, for the GROUP BY fallback
_COLUMN = {"course": cast(E.c.course_id, String), "session": cast(E.c.session_id, String),
           "competency_area": E.c.competency_area, "delivery": E.c.delivery,
           "organisation_type": E.c.organisation_type, "grade": E.c.grade, "job_series": E.c.job_series,
           "month": E.c.month}


def _keyed(column):
    return func.coalesce(func.nullif(column, ""), "unknown")


def _count_exprs():
    statuses = list(EnrollmentStatus)
    out = []
    for name in orm.COUNTER_NAMES:
        if name == "satisfaction_sum_x100":
            out.append(func.coalesce(func.sum(E.c.satisfaction_x100), 0).label(name))
        elif name == "satisfaction_count":
            out.append(func.count(E.c.satisfaction_x100).label(name))
        else:
            counted = [s.value for s in statuses if name in {c.value for c in counters_for_status(s)}]
            out.append(func.coalesce(func.sum(case((E.c.status.in_(counted), 1), else_=0)), 0).label(name))
    return out


def _fallback(s: Session, year: int, group: str | None, active: dict[str, str]) -> dict[str, CounterTotals]:
    key = _keyed(_COLUMN[group]) if group else None
    cols = ([key.label("key")] if key is not None else []) + _count_exprs()
    q = select(*cols).where(E.c.year == year)
    for dim, value in active.items():
        col = _COLUMN[dim]
        if dim in ("course", "session"):
            q = q.where((E.c.course_id if dim == "course" else E.c.session_id) == int(value))
        elif value == "unknown":
            q = q.where(or_(col.is_(None), col == ""))
        else:
            q = q.where(col == value)
    if key is not None:
        q = q.group_by(key)
    out = {}
    for row in s.execute(q).mappings():
        out[row["key"] if key is not None else ""] = CounterTotals.from_mapping(row)
    return out


def totals(s: Session, year: int, group: str | None = None, active: dict[str, str] | None = None
           ) -> dict[str, CounterTotals]:
    """Counters for ``year`` grouped by rollup dimension ``group`` (None: one row keyed ""), filtered by
    ``active`` ({dimension: key}). Rollup rows when possible, the exact GROUP BY otherwise."""
    active = dict(active or {})
    if group is None and len(active) <= 1:
        dim, key = next(iter(active.items())) if active else ("total", "")
        row = s.execute(select(R).where(R.c.year == year, R.c.dimension == dim, R.c.key == key)).mappings().first()
        return {"": CounterTotals.from_mapping(row) if row else CounterTotals()}
    if group is not None and not active:
        rows = s.execute(select(R).where(R.c.year == year, R.c.dimension == group)).mappings()
        return {r["key"]: CounterTotals.from_mapping(r) for r in rows}
    return _fallback(s, year, group, active)


def totals_by_year(s: Session, active: dict[str, str]) -> dict[int, CounterTotals]:
    if len(active) <= 1:
        dim, key = next(iter(active.items())) if active else ("total", "")
        rows = s.execute(select(R).where(R.c.dimension == dim, R.c.key == key)).mappings()
        return {r["year"]: CounterTotals.from_mapping(r) for r in rows}
    years = s.execute(select(E.c.year).distinct()).scalars().all()
    return {y: _fallback(s, y, None, active).get("", CounterTotals()) for y in years}


# --- catalogue -------------------------------------------------------------------------------------

def course_rows(s: Session, years, filters: Filters | None = None):
    q = select(C).where(C.c.year.in_(list(years)))
    if filters is not None:
        if filters.delivery:
            q = q.where(C.c.delivery == filters.delivery)
        if filters.area:
            q = q.where(C.c.competency_area == filters.area)
    return s.execute(q.order_by(C.c.year, C.c.code)).mappings().all()


def _safe_status(status):
    try:
        is_retired(status)
        return status
    except ValueError:  # a status this report does not know is counted as continuing, not dropped
        return "continuing"


def plan_rows(rows) -> list[CoursePlanRow]:
    return [CoursePlanRow(year=r["year"], course_code=r["code"], delivery=r["delivery"], status=_safe_status(r["status"]),
                          planned_seats=max(0, r["planned_seats"]), planned_sessions=max(0, r["planned_sessions"] or 0),
                          name_ko=r["name_ko"], competency_area=r["competency_area"]) for r in rows]


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def counter_row(t: CounterTotals, planned_seats: int | None = None) -> dict[str, Any]:
    row = {k: _plain(v) for k, v in t.as_row().items()}
    if planned_seats is not None:
        row["planned_seats"] = planned_seats
    return row


def legacy_actual(t: CounterTotals) -> dict[str, int]:
    out = {k: getattr(t, k) for k in LEGACY_ACTUAL if k != "confirmed"}
    out["confirmed"] = t.enrolled - t.attended - t.no_show
    return {k: out[k] for k in LEGACY_ACTUAL}


# --- reports ---------------------------------------------------------------------------------------

def summary(s: Session, year: int, filters: Filters = Filters()) -> dict:
    """교육훈련 총괄표 + actual counters for one year."""
    catalogue = plan_rows(course_rows(s, (year, year - 1), filters))
    ts = build_training_summary(catalogue, year)
    if filters.delivery or filters.area:
        # The seed's figures are whole-catalogue figures: a filtered table is not compared with them.
        previous_known = any(r.year == year - 1 for r in catalogue)
        lines = ts.as_rows()
        if not previous_known:
            for ln in lines:
                ln.update(previous_courses=None, previous_seats=None, change_courses=None, change_seats=None)
        previous_source = ts.previous_source if previous_known else None
        differences: list[str] = []
        ref = None
    else:
        lines, previous_source, differences = ts.as_rows(), ts.previous_source, ts.reference_differences()
        ref = ts.reference
    plan = {("total" if ln["delivery"] == "total" else ln["delivery"]):
            {"courses": ln["courses"], "seats": ln["seats"]} for ln in lines}  # sessions: see ``lines``

    actual = totals(s, year, None, filters.dims(*ALL)).get("", CounterTotals())
    by_delivery_raw = totals(s, year, "delivery", filters.dims("area", "organisation_type", "grade", "job_series",
                                                                   "month", "course_id"))
    by_delivery = {d: by_delivery_raw.get(d, CounterTotals()) for d in ("classroom", "elearning")}
    if filters.delivery:
        by_delivery = {d: (t if d == filters.delivery else CounterTotals()) for d, t in by_delivery.items()}
    for ln in lines:
        t = actual if ln["delivery"] == "total" else by_delivery.get(ln["delivery"], CounterTotals())
        ln.update(enrolled=t.enrolled, completed=t.completed,
                  completion_rate=None if t.completion_rate is None else round(t.completion_rate * 100, 1))

    stated = reference.change_type_counts(year)
    change_types = []
    for row in ts.change_type_rows():
        kind = ChangeType(row["change_type"])
        ref_row = stated.get(kind)
        row = {**row, "source": "read_model", "reference_classroom": ref_row.classroom if ref_row else None,
               "reference_elearning": ref_row.elearning if ref_row else None,
               "reference_total": ref_row.total if ref_row else None}
        if (kind is ChangeType.MERGED_REPLACED_ABOLISHED and ref_row and not row["total"]
                and not (filters.delivery or filters.area)):
            # Retired courses are last year's: a catalogue that never announced them (the 2019 demo plan
            # only creates the 239 courses it runs) falls back to the plan document, like 2018 does.
            row.update(classroom=ref_row.classroom, elearning=ref_row.elearning, total=ref_row.total,
                       source=ref_row.source)
            differences = [d for d in differences if CHANGE_TYPE_LABEL_KO[kind] not in d]
        change_types.append(row)
    return {
        "year": year, "filters": filters.as_dict(), "plan": plan, "lines": lines,
        "previous_year": year - 1, "previous_source": previous_source,
        "change_types": change_types,
        "reference": None if ref is None else {
            "classroom": {"courses": ref.classroom.courses, "seats": ref.classroom.seats},
            "elearning": {"courses": ref.elearning.courses, "seats": ref.elearning.seats},
            "total": {"courses": ref.total.courses, "seats": ref.total.seats}, "source": ref.source},
        "reference_differences": differences,
        "actual": legacy_actual(actual),
        "counters": counter_row(actual, plan["total"]["seats"]),
        "actual_by_delivery": {d: legacy_actual(t) for d, t in by_delivery.items()},
    }


def plan_vs_actual(s: Session, year: int, by: str, measure: str, filters: Filters = Filters()) -> list[dict]:
    m = ActualMeasure(measure)
    if by == "year":
        years_known = s.execute(select(C.c.year).distinct()).scalars().all()
        catalogue = plan_rows(course_rows(s, years_known, filters))
        lines = plan_vs_actual_by_year(catalogue, totals_by_year(s, filters.dims("delivery", "area")), measure=m,
                                       include_history=not (filters.delivery or filters.area))
        return [ln.as_row() for ln in lines]
    catalogue = plan_rows(course_rows(s, (year,), filters))
    if by == "area":
        per_area = totals(s, year, "competency_area", filters.dims("delivery"))
        lines = plan_vs_actual_by_area(catalogue, per_area, year, measure=m)
        return [{**ln.as_row(), "label_en": dimension_label("competency_area", ln.key, True)} for ln in lines]
    # by course: rollup rows are keyed by course id; the domain keys courses by code
    codes = {str(r["course_id"]): r["code"] for r in course_rows(s, (year,), filters)}
    per_course = totals(s, year, "course")
    if filters.delivery or filters.area:
        per_course = {k: v for k, v in per_course.items() if k in codes}
    by_code = {codes.get(k, f"#{k}"): v for k, v in per_course.items()}
    return [ln.as_row() for ln in plan_vs_actual_by_course(catalogue, by_code, year, measure=m)]


def _page(items: list, page: int, per_page: int) -> dict:
    return {"items": items[(page - 1) * per_page: page * per_page], "total": len(items), "page": page,
            "per_page": per_page}


def courses(s: Session, year: int, filters: Filters, q: str | None = None) -> list[dict]:
    rows = course_rows(s, (year,), filters)
    if q:
        needle = q.lower()
        rows = [r for r in rows if needle in r["code"].lower() or needle in r["name_ko"].lower()
                or needle in (r["name_en"] or "").lower()]
    counts = totals(s, year, "course", filters.dims("organisation_type", "grade", "job_series", "month"))
    out = []
    for r in rows:
        t = counts.get(str(r["course_id"]), CounterTotals())
        planned = 0 if is_retired(_safe_status(r["status"])) else r["planned_seats"]
        out.append({"course_id": r["course_id"], "year": r["year"], "code": r["code"], "name_ko": r["name_ko"],
                    "name_en": r["name_en"], "delivery": r["delivery"], "competency_area": r["competency_area"],
                    "area_label": area_label_ko(r["competency_area"]), "status": r["status"],
                    "planned_sessions": r["planned_sessions"], **counter_row(t, planned)})
    return out


def _catalogue_filters(q, filters: Filters):
    """A session query (sessions joined to courses) narrowed by the delivery/area/course filters."""
    if filters.delivery:
        q = q.where(C.c.delivery == filters.delivery)
    if filters.area:
        q = q.where(C.c.competency_area == filters.area)
    if filters.course_id:
        q = q.where(S.c.course_id == filters.course_id)
    return q


def sessions(s: Session, year: int, filters: Filters) -> list[dict]:
    q = _catalogue_filters(select(S, C.c.code, C.c.name_ko, C.c.delivery, C.c.competency_area)
                           .join(C, C.c.course_id == S.c.course_id, isouter=True).where(S.c.year == year), filters)
    if filters.month:
        first = dt.date(year, int(filters.month), 1)
        nxt = dt.date(year + (first.month == 12), first.month % 12 + 1, 1)
        q = q.where(and_(S.c.starts_on >= first, S.c.starts_on < nxt))
    rows = s.execute(q.order_by(S.c.starts_on, S.c.session_id)).mappings().all()
    counts = totals(s, year, "session", filters.dims(*TRAINEE))
    out = []
    for r in rows:
        t = counts.get(str(r["session_id"]), CounterTotals())
        out.append({"session_id": r["session_id"], "course_id": r["course_id"], "code": r["code"],
                    "name_ko": r["name_ko"], "delivery": r["delivery"], "competency_area": r["competency_area"],
                    "seq_no": r["seq_no"], "starts_on": r["starts_on"].isoformat(),
                    "ends_on": r["ends_on"].isoformat(), "capacity": r["capacity"], "venue": r["venue"],
                    "status": r["status"], **counter_row(t, r["capacity"])})
    return out


GROUPS = {"organisation_type": TRAINEE, "grade": TRAINEE, "job_series": TRAINEE}


def organisations(s: Session, year: int, group_by: str, filters: Filters, english: bool = False) -> list[dict]:
    active = filters.dims("delivery", "area", "month", "course_id", *[t for t in TRAINEE if t != group_by])
    counts = totals(s, year, group_by, active)
    return [{"group_by": group_by, "key": k, "label": dimension_label(group_by, k, english), **counter_row(t)}
            for k, t in sorted(counts.items())]


def months(s: Session, year: int, filters: Filters) -> list[dict]:
    counts = totals(s, year, "month", filters.dims("delivery", "area", "course_id", *TRAINEE))
    q = (select(func.extract("month", S.c.starts_on).label("m"), func.coalesce(func.sum(S.c.capacity), 0),
                func.count()).join(C, C.c.course_id == S.c.course_id, isouter=True)
         .where(S.c.year == year, S.c.status != "cancelled"))
    q = _catalogue_filters(q, filters)
    capacity = {int(m): (int(cap), int(n)) for m, cap, n in s.execute(q.group_by("m")).all() if m is not None}
    out = []
    for m in range(1, 13):
        key = f"{m:02d}"
        cap, n = capacity.get(m, (0, 0))
        out.append({"month": m, "key": key, "label": f"{m}월", "sessions": n,
                    **counter_row(counts.get(key, CounterTotals()), cap)})
    if "unknown" in counts:
        out.append({"month": None, "key": "unknown", "label": "미상", "sessions": 0,
                    **counter_row(counts["unknown"], 0)})
    return out


def years_known(s: Session) -> list[int]:
    a = set(s.execute(select(C.c.year).distinct()).scalars())
    b = set(s.execute(select(R.c.year).where(R.c.dimension == "total").distinct()).scalars())
    return sorted(a | b)


__all__ = ["Filters", "summary", "plan_vs_actual", "courses", "sessions", "organisations", "months", "_page",
           "CHANGE_TYPE_LABEL_KO"]
