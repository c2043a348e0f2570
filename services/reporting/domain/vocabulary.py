"""Catalogue vocabulary the reports group by: delivery mode (교육방법) and change type (개편 유형).

The enrollment service owns the catalogue; these parsers accept its values (and the Korean
words an imported plan may carry) and refuse anything else rather than guess.
"""

from __future__ import annotations

from enum import StrEnum


class Delivery(StrEnum):
    """교육방법. Values match the enrollment catalogue and courses-2019.csv."""

    CLASSROOM = "classroom"  # 집합
    ELEARNING = "elearning"  # e-러닝


DELIVERY_LABEL_KO: dict[Delivery, str] = {Delivery.CLASSROOM: "집합", Delivery.ELEARNING: "e-러닝"}
TOTAL_LABEL_KO = "계"

_DELIVERY_ALIASES: dict[str, Delivery] = {
    "classroom": Delivery.CLASSROOM,
    "집합": Delivery.CLASSROOM,
    "elearning": Delivery.ELEARNING,
    "e-learning": Delivery.ELEARNING,
    "e_learning": Delivery.ELEARNING,
    "e-러닝": Delivery.ELEARNING,
    "이러닝": Delivery.ELEARNING,
}


def parse_delivery(value: Delivery | str) -> Delivery:
    if isinstance(value, Delivery):
        return value
    key = value.strip().lower().replace(" ", "") if isinstance(value, str) else value
    try:
        return _DELIVERY_ALIASES[key]
    except (KeyError, TypeError):
        raise ValueError(f"unknown delivery mode: {value!r}") from None


class ChangeType(StrEnum):
    """The plan's three change categories (과정 개편 유형), plus courses carried over unchanged."""

    NEW = "new"  # 신설
    MERGED_REPLACED_ABOLISHED = "merged_replaced_abolished"  # 통합·대체·폐지
    IMPROVED = "improved"  # 개선
    CONTINUING = "continuing"  # 계속: not a category of the seed, the inferred remainder


CHANGE_TYPE_LABEL_KO: dict[ChangeType, str] = {
    ChangeType.NEW: "신설",
    ChangeType.MERGED_REPLACED_ABOLISHED: "통합·대체·폐지",
    ChangeType.IMPROVED: "개선",
    ChangeType.CONTINUING: "계속",
}

# Catalogue statuses (issue 3: new/improved/continuing/merged/abolished; courses-2019.csv also has
# merged_or_replaced and unknown). "unknown"/empty means the plan does not say the course changed,
# so it is counted as continuing, never as one of the three stated categories.
_STATUS_TO_CHANGE_TYPE: dict[str, ChangeType] = {
    "new": ChangeType.NEW,
    "신설": ChangeType.NEW,
    "improved": ChangeType.IMPROVED,
    "개선": ChangeType.IMPROVED,
    "continuing": ChangeType.CONTINUING,
    "계속": ChangeType.CONTINUING,
    "unknown": ChangeType.CONTINUING,
    "": ChangeType.CONTINUING,
    **{
        word: ChangeType.MERGED_REPLACED_ABOLISHED
        for word in (
            "merged", "replaced", "integrated", "abolished", "merged_or_replaced",
            "merged_replaced_abolished", "통합", "대체", "폐지", "통합·대체·폐지",
        )
    },
}


def change_type_of(status: ChangeType | str | None) -> ChangeType:
    """Map a catalogue course status to the plan's change type."""
    if isinstance(status, ChangeType):
        return status
    key = (status or "").strip().lower()
    try:
        return _STATUS_TO_CHANGE_TYPE[key]
    except KeyError:
        raise ValueError(f"unknown course status: {status!r}") from None


def is_retired(status: ChangeType | str | None) -> bool:
    """Merged/replaced/abolished courses are listed in the plan year but not run in it.

    The seed's arithmetic proves it: 123 + 22 − 20 = 125 classroom courses in 2019.
    """
    return change_type_of(status) is ChangeType.MERGED_REPLACED_ABOLISHED


# 교육체계 4대 분야 (competency areas), as the enrollment catalogue spells them.
AREA_LABEL_KO: dict[str, str] = {
    "basic": "기본역량",
    "leadership": "리더십역량",
    "job": "직무역량",
    "it": "IT역량",
}


def area_label_ko(area: str | None) -> str:
    """Korean label of a competency area; an unknown area keeps its own name, a missing one is 미상."""
    if not area or area == "unknown":
        return "미상"
    return AREA_LABEL_KO.get(area, area)

AREA_LABEL_EN: dict[str, str] = {"basic": "Basic competency", "leadership": "Leadership", "job": "Job competency",
                                 "it": "IT competency"}
DELIVERY_LABEL_EN: dict[Delivery, str] = {Delivery.CLASSROOM: "Classroom", Delivery.ELEARNING: "E-learning"}

# 소속 구분 (organisation types), as the enrollment service spells them in trainee data.
ORGANISATION_TYPE_LABELS: dict[str, tuple[str, str]] = {
    "city_hq": ("시 본청", "City HQ"),
    "district": ("자치구", "Autonomous district"),
    "invested_institution": ("투자·출연기관", "Invested/funded institution"),
    "other_city": ("타 시도", "Other city/province"),
    "foreign": ("해외", "Foreign"),
    "other": ("기타", "Other"),
    "unknown": ("미상", "Unknown"),
}


def dimension_label(dimension: str, value: str, english: bool = False) -> str:
    """Display label of a read-model key (organisation type, area, delivery); other values as they are."""
    if dimension == "organisation_type" and value in ORGANISATION_TYPE_LABELS:
        return ORGANISATION_TYPE_LABELS[value][1 if english else 0]
    if dimension == "competency_area":
        return (AREA_LABEL_EN.get(value, value) if english else area_label_ko(value))
    if dimension == "delivery" and value in Delivery._value2member_map_:
        d = Delivery(value)
        return DELIVERY_LABEL_EN[d] if english else DELIVERY_LABEL_KO[d]
    if value == "unknown":
        return "Unknown" if english else "미상"
    return value
