"""Passive samples, exact statistics, histogram and t-visibility curve (pure)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from collectors.core.kernels import NONE
from collectors.core.visibility import (
    BOUNDS,
    HistogramSet,
    bucket_series,
    histogram,
    latency_stats,
    passive_samples,
    quantile,
    t_visibility,
)


def ints(*v: int) -> np.ndarray:
    return np.array(v, dtype=np.int64)


def test_passive_sample_is_t1_minus_ts_of_c1_minus_1_with_resolution() -> None:
    # slots: moved; not moved; went back; first commit; no commit now; ts unknown;
    # ts not read for this offset; rewinding; record from the future
    prev = ints(10, 10, 10, NONE, 10, 10, 10, 10, 10)
    now_c = ints(15, 10, 5, 3, NONE, 12, 12, 20, 11)
    last_ts = np.array([97.5, 90, 90, 90, 90, np.nan, 95, 96, 101.0])
    valid = np.array([True, True, True, True, True, True, False, True, True])
    rewind = np.array([False] * 7 + [True, False])
    s = passive_samples(100.0, 99.0, prev, now_c, last_ts, valid, rewind)
    assert s.rows.tolist() == [0, 7, 8]
    assert s.latency_s.tolist() == [2.5, 4.0, 0.0]  # future timestamp clamps at 0
    assert s.resolution_s.tolist() == [1.0, 1.0, 1.0]
    assert s.committed.tolist() == [15, 20, 11]
    assert s.replay.tolist() == [False, True, False]


def test_no_previous_cycle_gives_no_samples() -> None:
    s = passive_samples(
        100.0, math.nan, ints(1), ints(2), np.array([99.0]), np.array([True]), np.array([False])
    )
    assert len(s) == 0


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 0.5, None),
        ([3.0], 0.99, 3.0),
        ([1.0, 2.0], 0.5, 1.0),  # nearest rank: ceil(0.5 * 2) = 1st
        ([1.0, 2.0, 3.0], 0.5, 2.0),
        (list(range(1, 101)), 0.99, 99),
        (list(range(1, 101)), 0.999, 100),
        (list(range(1, 1001)), 0.999, 999),
    ],
)
def test_nearest_rank_quantile(values, q, expected) -> None:
    assert quantile(np.array(values, dtype=float), q) == expected


def test_latency_stats_ignore_nan_and_say_none_when_empty() -> None:
    stats = latency_stats(np.array([np.nan, 0.2, 0.1, 0.3]))
    assert (stats.count, stats.p50, stats.max) == (3, 0.2, 0.3)
    empty = latency_stats(np.array([]))
    assert empty.count == 0 and empty.p50 is None and empty.max is None


def test_histogram_counts_every_sample_in_left_open_buckets() -> None:
    h = histogram(np.array([0.0, 0.005, 0.006, 0.5, 0.7, 5000.0]))
    assert h.bounds[: len(BOUNDS)] == BOUNDS and h.bounds[-1] == 5000.0
    assert sum(h.counts) == 6
    assert h.counts[0] == 2  # [0, 0.005]
    assert h.counts[1] == 1  # (0.005, 0.01]
    assert h.counts[h.bounds.index(0.5)] == 1
    assert h.counts[h.bounds.index(1.0)] == 1
    assert h.counts[-1] == 1
    small = histogram(np.array([0.02]))
    assert small.bounds == (0.005, 0.01, 0.025) and small.counts == (0, 0, 1)
    assert histogram(np.array([])).bounds == ()


def test_t_visibility_is_the_distribution_function_with_timeouts_never_visible() -> None:
    curve = t_visibility(np.array([0.3, 0.1, 0.1, 0.2]), never_visible=1)
    assert [(p.t, p.p) for p in curve] == [(0.1, 0.4), (0.2, 0.6), (0.3, 0.8)]
    assert t_visibility(np.array([])) == []
    many = t_visibility(np.random.default_rng(1).exponential(0.2, 10_000))
    assert len(many) <= 200
    assert all(a.t < b.t and a.p <= b.p for a, b in itertools.pairwise(many))
    assert many[-1].p == 1.0


def test_bucket_series_percentiles_per_bucket() -> None:
    times = np.array([0.5, 1.5, 1.6, 1.7, 5.0])
    values = np.array([1.0, 3.0, 1.0, 2.0, 9.0])
    out = bucket_series(times, values, start=0.0, step=1.0)
    assert [(b.t, b.p50, b.p99, b.count) for b in out] == [
        (0.0, 1.0, 1.0, 1),
        (1.0, 2.0, 3.0, 3),
        (5.0, 9.0, 9.0, 1),
    ]


def test_histogram_set_is_cumulative_per_key() -> None:
    hs = HistogramSet()
    keys = [("c", "a"), ("c", "b")]
    hs.observe_grouped(keys, ints(0, 1, 0), np.array([0.001, 2.0, 100000.0]))
    hs.observe_grouped(keys, ints(1), np.array([0.004]))
    frozen = hs.freeze()
    a, b = frozen[("c", "a")], frozen[("c", "b")]
    assert a.count == 2 and a.buckets[0] == 1 and a.buckets[-2] == 1 and a.buckets[-1] == 2
    assert b.count == 2 and b.total == pytest.approx(2.004)
    assert len(a.buckets) == len(BOUNDS) + 1
