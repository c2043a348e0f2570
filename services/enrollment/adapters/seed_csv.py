"""Read the seed catalogue (``data/courses-2019.csv``) and build the demo plan."""
from __future__ import annotations

import csv
from pathlib import Path

from ..domain.demo_plan import DemoPlan, build_demo_plan

SEED_CSV = Path(__file__).resolve().parent.parent / "data" / "courses-2019.csv"


def read_seed_rows(path: Path = SEED_CSV) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def load_demo_plan(path: Path = SEED_CSV) -> DemoPlan:
    """The 2019 demo plan (deterministic; about 0.1 s)."""
    return build_demo_plan(read_seed_rows(path))
