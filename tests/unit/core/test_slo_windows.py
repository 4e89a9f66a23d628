"""Windowed SLO math over per-minute counts (``core.slo``)."""

from __future__ import annotations

import numpy as np
import pytest

from collectors.core.model import SloState
from collectors.core.slo import all_windows, bucket_end, deltas, window_stats


def test_bucket_end_puts_a_boundary_time_in_the_bucket_it_ends() -> None:
    assert bucket_end(120.0) == 120.0
    assert bucket_end(120.001) == 180.0
    assert bucket_end(60.0 * 7 + 59) == 480.0


def test_window_counts_the_last_minutes_including_the_open_one() -> None:
    ends = np.arange(60.0, 60.0 * 11, 60.0)  # minutes ending 60 .. 600
    good = np.array([6] * 10)
    total = np.array([6] * 10)
    good[-1] = 0  # the minute ending at 600 is all bad
    at_boundary = window_stats(ends, good, total, 600.0, 300.0, 0.99)
    assert at_boundary.observations == 30 and at_boundary.good == 24
    assert at_boundary.compliance == pytest.approx(0.8)
    assert at_boundary.burn_rate == pytest.approx(20.0)
    assert at_boundary.error_budget_remaining == pytest.approx(-19.0)
    # Mid-minute: the open minute (ending 600) counts, plus four complete ones.
    assert window_stats(ends, good, total, 570.0, 300.0, 0.99).observations == 30
    # After the bad minute left the window, compliance is back to 1.
    later = window_stats(ends, good, total, 900.0, 300.0, 0.99)
    assert later.observations == 0 and later.compliance is None and later.burn_rate is None


def test_all_windows_include_the_period() -> None:
    ends = np.array([60.0 * k for k in range(1, 400)])
    ones = np.ones(len(ends), dtype=np.int64)
    state = SloState("c", "g", 2.0, 0.99, 0, 0, period_s=7200.0)
    windows = all_windows(ends, ones, ones, ends[-1], state)
    assert set(windows) == {"5m", "30m", "1h", "6h", "period"}
    assert windows["5m"].observations == 5
    assert windows["period"].observations == 120
    assert windows["6h"].observations == 360
    assert windows["1h"].burn_rate == 0.0


def test_deltas_since_last_written_and_after_a_reset() -> None:
    s1 = SloState("c", "g", 2.0, 0.99, 10, 8)
    assert deltas({}, [s1]) == [("c", "g", 8, 10)]
    s2 = SloState("c", "g", 2.0, 0.99, 12, 9)
    assert deltas({("c", "g"): (8, 10)}, [s2]) == [("c", "g", 1, 2)]
    assert deltas({("c", "g"): (9, 12)}, [s2]) == []
    restarted = SloState("c", "g", 2.0, 0.99, 1, 1)
    assert deltas({("c", "g"): (9, 12)}, [restarted]) == [("c", "g", 1, 1)]
