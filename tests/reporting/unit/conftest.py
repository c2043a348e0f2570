"""A synthetic catalogue shaped like the 2019 plan: 239 courses / 198,999 seats, and 2019 change types."""

from __future__ import annotations

import pytest

from services.reporting.domain.training_summary import CoursePlanRow


def split(total: int, parts: int) -> list[int]:
    """``parts`` positive integers summing exactly to ``total`` (the first ones get the remainder)."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def synthetic_plan(year: int, delivery: str, statuses: dict[str, int], seats: int, prefix: str) -> list[CoursePlanRow]:
    """Active courses share ``seats``; retired ones ("abolished") carry last year's seats, never counted."""
    active = [s for s, n in statuses.items() for _ in range(n) if s != "abolished"]
    rows = [
        CoursePlanRow(year, f"{prefix}{i:03d}", delivery, status, seat, planned_sessions=1, competency_area="job")
        for i, (status, seat) in enumerate(zip(active, split(seats, len(active))))
    ]
    rows += [
        CoursePlanRow(year, f"{prefix}X{i:02d}", delivery, "abolished", 999, planned_sessions=1)
        for i in range(statuses.get("abolished", 0))
    ]
    return rows


@pytest.fixture
def plan_2019() -> list[CoursePlanRow]:
    classroom = synthetic_plan(2019, "classroom", {"new": 22, "improved": 81, "continuing": 22, "abolished": 20}, 22_829, "C")
    elearning = synthetic_plan(2019, "elearning", {"new": 24, "improved": 13, "unknown": 77, "abolished": 16}, 176_170, "E")
    return classroom + elearning


@pytest.fixture
def make_plan():
    """The ``synthetic_plan`` factory, as a fixture so tests never import conftest by name."""
    return synthetic_plan
