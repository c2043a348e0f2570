"""Korean mobile numbers as SMS providers want them: digits only, domestic form (01012345678)."""
from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().]")
_KR_MOBILE = re.compile(r"^01[016789]\d{7,8}$")


def normalize_kr_mobile(raw: str) -> str | None:
    """'010-1234-5678' / '+82 10 1234 5678' -> '01012345678'; None if it is not a KR mobile."""
    digits = _SEPARATORS.sub("", raw or "")
    if digits.startswith("+82"):
        digits = "0" + digits[3:]
    elif digits.startswith("82") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return digits if _KR_MOBILE.match(digits) else None
