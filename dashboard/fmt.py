"""Formatting for people on call: durations, counts, times, bytes (pure)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MISSING = "—"


def _missing(value: float | None) -> bool:
    """None, NaN and ±inf are unknown (tables use +inf: shown "—", sorts as the largest)."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def seconds(value: float | None) -> str:
    """``0.012`` -> ``12 ms``, ``1.23`` -> ``1.2 s``, ``184`` -> ``3 min 4 s``,
    ``7300`` -> ``2 h 1 min``, ``200000`` -> ``2 d 7 h``; None/NaN -> ``—``.

    Negative values keep their sign (they do not occur for staleness, but do for
    clock skew).
    """
    if _missing(value):
        return MISSING
    v = float(value)
    if v < 0:
        return "-" + seconds(-v)
    if v == 0:
        return "0 s"
    if v < 1:
        return f"{v * 1000:.0f} ms"
    if v < 10:
        return f"{v:.1f} s"
    if v < 60:
        return f"{v:.0f} s"
    total = round(v)
    if total < 3600:
        m, s = divmod(total, 60)
        return f"{m} min {s} s" if s else f"{m} min"
    if total < 86400:
        h, rest = divmod(total, 3600)
        m = rest // 60
        return f"{h} h {m} min" if m else f"{h} h"
    d, rest = divmod(total, 86400)
    h = rest // 3600
    return f"{d} d {h} h" if h else f"{d} d"


def count(value: float | None) -> str:
    """``1234567`` -> ``1,234,567``; None -> ``—``."""
    if _missing(value):
        return MISSING
    return f"{round(value):,}"


def rate(value: float | None) -> str:
    """Offsets per second: ``12.34`` -> ``12.3 /s``."""
    if _missing(value):
        return MISSING
    return f"{value:,.1f} /s" if value < 1000 else f"{value:,.0f} /s"


def percent(value: float | None, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage: ``0.9912`` -> ``99.1 %``."""
    if _missing(value):
        return MISSING
    return f"{value * 100:.{digits}f} %"


def error_budget(remaining: float | None) -> str:
    """The share of an SLO's error budget left: ``0.5`` -> ``50.0 %``. An overspent
    budget (below 0) reads as how many times over it was spent, not as a large negative
    percentage: ``-99`` (every observation bad under a 0.99 objective) -> ``none left
    (100x spent)``, ``-0.5`` -> ``none left (1.5x spent)``. None/NaN -> ``—``."""
    if _missing(remaining):
        return MISSING
    if remaining >= 0:
        return percent(remaining)
    spent = 1.0 - remaining  # the budget spent, in budgets
    times = f"{spent:.1f}" if spent < 10 else f"{spent:,.0f}"
    return f"none left ({times}x spent)"


def size(value: float | None) -> str:
    """Bytes: ``1536`` -> ``1.5 KiB``."""
    if _missing(value):
        return MISSING
    v = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if v < 1024 or unit == "GiB":
            return f"{v:.0f} {unit}" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1024
    return MISSING  # unreachable


def zone(name: str | None) -> ZoneInfo:
    """The viewer's zone by IANA name; UTC when unknown or invalid."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def clock(epoch_s: float | None, tz: ZoneInfo) -> str:
    """``2026-11-27 18:00:05`` in ``tz``; None -> ``—``."""
    if _missing(epoch_s):
        return MISSING
    return datetime.fromtimestamp(epoch_s, tz).strftime("%Y-%m-%d %H:%M:%S")


def utc(epoch_s: float | None) -> str:
    """``2026-11-27 18:00:05 UTC``; None -> ``—``."""
    if _missing(epoch_s):
        return MISSING
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
