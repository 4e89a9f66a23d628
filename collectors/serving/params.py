"""Query-parameter parsing for the collector API: every bad value is a ``BadParameter``
that names the parameter and says what would be right (the app turns it into a 400).
"""

from __future__ import annotations

import math
from datetime import datetime


class BadParameter(ValueError):
    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"invalid parameter '{parameter}': {problem}")
        self.parameter = parameter


def parse_time(name: str, text: str | None, default: float) -> float:
    """Epoch seconds or ISO-8601 (``2026-11-27T18:00:00Z``); NaN and infinities are
    not times (a 400 naming ``name``)."""
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(value):
            raise BadParameter(name, f"expected a finite time, got {text!r}")
        return value
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise BadParameter(name, "expected epoch seconds or an ISO-8601 time") from None


def parse_float(name: str, text: str | None) -> float | None:
    if text is None or text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise BadParameter(name, "expected a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise BadParameter(name, f"must be a positive, finite number of seconds, got {text!r}")
    return value


def parse_int(name: str, text: str | None) -> int | None:
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise BadParameter(name, "expected a non-negative integer") from None
    if value < 0:
        raise BadParameter(name, "expected a non-negative integer")
    return value
