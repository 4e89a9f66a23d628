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
    """Epoch seconds or ISO-8601 (``2026-11-27T18:00:00Z``)."""
    if text is None or text == "":
        return default
    try:
        return float(text)
    except ValueError:
        pass
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
    if not value > 0 or math.isinf(value):
        raise BadParameter(name, "must be a positive number of seconds")
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
