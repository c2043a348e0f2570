"""Errors and refusals that carry a stable code plus Korean and English text.

Korean is the primary language of the platform's users; English is kept next to
it so that logs, API clients and non-Korean operators get the same information.
"""
from __future__ import annotations

from dataclasses import dataclass


class LocalizedError(Exception):
    """Base for every error we show to a person: ``code`` is stable, texts are not."""

    code: str = "ERROR"

    def __init__(self, message_ko: str, message_en: str, *, code: str | None = None) -> None:
        super().__init__(message_en)
        if code is not None:
            self.code = code
        self.message_ko = message_ko
        self.message_en = message_en

    def __str__(self) -> str:  # Korean first, as the UI shows it
        return f"[{self.code}] {self.message_ko} / {self.message_en}"

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message_ko": self.message_ko, "message_en": self.message_en}


class DomainError(LocalizedError):
    """A business rule was broken."""

    code = "DOMAIN_ERROR"


class IllegalTransition(DomainError):
    code = "ENROLLMENT_ILLEGAL_TRANSITION"


@dataclass(frozen=True)
class Refusal:
    """Why a request is turned down (eligibility, conflict, prerequisite...).

    A value rather than an exception because refusing is a normal outcome of a
    rule, not a failure; ``to_error`` converts it when a caller wants to raise.
    """

    code: str
    reason_ko: str
    reason_en: str

    def to_error(self) -> DomainError:
        return DomainError(self.reason_ko, self.reason_en, code=self.code)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "reason_ko": self.reason_ko, "reason_en": self.reason_en}


@dataclass(frozen=True)
class RowError:
    """One problem in one cell (or row, when ``field`` is empty) of an imported file.

    ``line`` is the spreadsheet row number as Excel shows it (header row = 1 when
    the header is on the first row), so an administrator can find it directly.
    """

    line: int
    field: str
    reason_ko: str
    reason_en: str
    value: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "field": self.field,
            "reason_ko": self.reason_ko,
            "reason_en": self.reason_en,
            "value": self.value,
        }
