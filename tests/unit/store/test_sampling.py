"""When partition samples are stored: the pure rule (``store.sampling``)."""

from __future__ import annotations

import math
import random

import pytest

from collectors.store.sampling import (
    PARTITION_ROWS_PER_S,
    auto_partition_interval_s,
    partition_sample_due,
)


def stored_cycles(times: list[float], interval_s: float, cycle_s: float) -> list[int]:
    """Indexes of the cycles (started at ``times``) whose partition rows are stored."""
    last: float | None = None
    stored = []
    for i, now in enumerate(times):
        if partition_sample_due(now, last, interval_s, cycle_s):
            stored.append(i)
            last = now
    return stored


def jittered(cycles: int, cycle_s: float, jitter_s: float, seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    return [1_000.0 + i * cycle_s + rng.uniform(-jitter_s, jitter_s) for i in range(cycles)]


def test_the_first_snapshot_is_always_stored() -> None:
    assert partition_sample_due(5.0, None, 60.0, 1.0)


def test_not_due_before_the_interval_due_after_it() -> None:
    assert not partition_sample_due(130.0, 100.0, 60.0, 1.0)
    assert not partition_sample_due(159.4, 100.0, 60.0, 1.0)
    assert partition_sample_due(160.0, 100.0, 60.0, 1.0)
    assert partition_sample_due(400.0, 100.0, 60.0, 1.0)  # after an outage: at once


def test_sixty_seconds_at_a_one_second_cycle_stores_every_sixtieth_cycle_despite_jitter() -> None:
    # Cycle starts wander by up to 0.3 s either way; the rule must neither skip to the
    # 61st cycle (drift) nor take the 59th (early).
    times = jittered(600, 1.0, 0.3)
    assert stored_cycles(times, 60.0, 1.0) == list(range(0, 600, 60))


def test_interval_equal_to_the_cycle_stores_every_cycle_despite_jitter() -> None:
    times = jittered(300, 1.0, 0.2)
    assert stored_cycles(times, 1.0, 1.0) == list(range(300))


def test_interval_of_a_few_cycles() -> None:
    times = jittered(100, 2.0, 0.5)
    assert stored_cycles(times, 10.0, 2.0) == list(range(0, 100, 5))


def test_interval_shorter_than_the_cycle_stores_every_cycle() -> None:
    # The default 60 s with a 120 s cycle: every snapshot keeps its partition rows.
    assert stored_cycles([0.0, 120.0, 240.0, 359.0], 60.0, 120.0) == [0, 1, 2, 3]


def test_a_clock_that_went_back_is_due_again() -> None:
    assert partition_sample_due(50.0, 100.0, 60.0, 1.0)
    times = [100.0, 101.0, 40.0, 41.0, 99.0, 100.5]  # NTP step back by 62 s
    assert stored_cycles(times, 60.0, 1.0) == [0, 2, 5]


@pytest.mark.parametrize("now", [math.nan, math.inf, -math.inf])
def test_a_non_finite_time_is_never_due(now: float) -> None:
    assert not partition_sample_due(now, None, 60.0, 1.0)
    assert not partition_sample_due(now, 100.0, 60.0, 1.0)


def test_auto_interval_follows_the_cluster_size() -> None:
    assert auto_partition_interval_s(0, 1.0) == 1.0  # nothing yet: every cycle
    assert auto_partition_interval_s(30, 1.0) == 1.0  # the demo: every cycle
    assert auto_partition_interval_s(100_000, 1.0) == 50.0
    assert auto_partition_interval_s(100_000, 120.0) == 120.0  # never below the cycle
    # Whatever the size beyond the budget, rows per day stay at the budget.
    for rows in (10_000, 100_000, 1_000_000):
        per_day = rows * 86_400 / auto_partition_interval_s(rows, 1.0)
        assert per_day == pytest.approx(PARTITION_ROWS_PER_S * 86_400)
