"""Enums whose members carry a Korean and an English label and can be parsed
from what people actually type in a spreadsheet (Korean labels, English codes,
common spellings).  Matching ignores case, spaces and the separators ``·-_./``.
"""
from __future__ import annotations

import re
from enum import Enum
from typing import TypeVar

_E = TypeVar("_E", bound="LabelledEnum")
_SEPARATORS = re.compile(r"[\s·ㆍ・\-_./]+")


def label_key(text: str) -> str:
    """Normalise a label for lookup: '투자·출연 기관' and '투자출연기관' are the same key."""
    return _SEPARATORS.sub("", text).casefold()


class LabelledEnum(str, Enum):
    """``str`` enum: the value is the stable code stored in databases and APIs."""

    def __new__(cls, code: str, label_ko: str, label_en: str, *aliases: str):
        member = str.__new__(cls, code)
        member._value_ = code
        member.label_ko = label_ko  # type: ignore[attr-defined]
        member.label_en = label_en  # type: ignore[attr-defined]
        member.aliases = aliases  # type: ignore[attr-defined]
        return member

    def __str__(self) -> str:
        return self.value

    @classmethod
    def _lookup(cls) -> dict[str, "LabelledEnum"]:
        table = cls.__dict__.get("_label_table")
        if table is None:
            table = {}
            for member in cls:
                for text in (member.value, member.label_ko, member.label_en, *member.aliases):
                    table[label_key(text)] = member
            setattr(cls, "_label_table", table)
        return table

    @classmethod
    def parse(cls: type[_E], text: str) -> _E:
        """Return the member named by ``text`` or raise ``ValueError``."""
        member = cls._lookup().get(label_key(str(text)))
        if member is None:
            raise ValueError(f"unknown {cls.__name__}: {text!r}")
        return member  # type: ignore[return-value]

    @classmethod
    def choices_ko(cls) -> str:
        """'집합, 이러닝' - used in validation messages."""
        return ", ".join(m.label_ko for m in cls)

    @classmethod
    def choices_en(cls) -> str:
        return ", ".join(m.value for m in cls)
