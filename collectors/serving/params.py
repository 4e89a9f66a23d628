"""Query-parameter parsing for the collector API: every bad value is a ``BadParameter``
that names the parameter and says what would be right (the app turns it into a 400).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
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


def parse_range(
    params: Mapping[str, str], now: float, default_span_s: float, allow_empty: bool = False
) -> tuple[float, float]:
    """``start``/``end`` (epoch seconds or ISO-8601): ``end`` defaults to ``now``,
    ``start`` to ``default_span_s`` before it. ``start`` must come before ``end`` (or
    equal it, with ``allow_empty``); otherwise a ``BadParameter`` naming ``start``."""
    end = parse_time("end", params.get("end"), now)
    start = parse_time("start", params.get("start"), end - default_span_s)
    if start > end or (start == end and not allow_empty):
        problem = "must not be after 'end'" if allow_empty else "must be before 'end'"
        raise BadParameter("start", problem)
    return start, end
