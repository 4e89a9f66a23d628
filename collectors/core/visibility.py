"""Visibility latency (the consistency window), pure: samples, exact statistics, curves.

Definitions (brief, "Visibility latency" and "t-visibility"):

- **Passive sample.** When a partition's committed offset moves from ``c0`` (seen at
  ``t0``) to ``c1`` (seen at ``t1``), the record at ``c1 - 1`` became visible in the read
  model within ``(t0, t1]``; the sample is ``t1 - ts(c1 - 1)`` with resolution
  ``t1 - t0``. It is an upper bound of that record's true latency, by at most the
  resolution. Samples taken while the slot is in REWIND are flagged ``replay`` and kept
  apart: a replay is not user-facing latency.
- **Active sample (probe).** A real command and polls of the query side until its
  effect shows; latency = first read that saw it minus the command's acceptance.
- **t-visibility curve.** For each ``t``, the share of writes whose effect a read issued
  ``t`` seconds after acceptance sees (Bailis et al., PBS): the empirical distribution
  function of the latencies, with probes that timed out counted as never visible.

Every function takes its data (and ``now``) as arguments; no clock, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from collectors.core.consistency import CumulativeHistogram
from collectors.core.kernels import CODE, NONE, Bools, Floats, Ints
from collectors.core.model import Status
from collectors.core.partition_table import PartitionKeys
from collectors.core.slots import Layout, Slots

# Histogram bucket upper bounds (seconds) shared by the API and /metrics.
BOUNDS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    120.0, 300.0, 600.0, 1800.0, 3600.0,
)  # fmt: skip
QUANTILES: tuple[tuple[str, float], ...] = (
    ("p50", 0.5),
    ("p90", 0.9),
    ("p99", 0.99),
    ("p999", 0.999),
)
CURVE_POINTS = 200  # at most this many points per t-visibility curve
_REWIND = CODE[Status.REWIND]


# --- passive samples ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class PassiveSamples:
    """One cycle's passive samples: ``rows`` index the cycle's slots (group-partitions)."""

    observed_at: float  # t1
    rows: Ints
    committed: Ints  # c1
    latency_s: Floats  # t1 - ts(c1 - 1), clamped at 0 (a record stamped in the future)
    resolution_s: Floats  # t1 - t0
    replay: Bools  # taken while the slot was in REWIND

    def __len__(self) -> int:
        return len(self.rows)


def passive_samples(
    now: float,
    previous_at: float,
    previous: Ints,
    committed: Ints,
    last_ts: Floats,
    times_valid: Bools,
    rewinding: Bools,
) -> PassiveSamples:
    """The samples of every slot whose committed offset moved forward since the last
    observation (all arguments are per-slot columns, ``NONE``/NaN for unknown).

    ``previous``: each slot's committed offset at ``previous_at`` (the last cycle);
    ``last_ts``: the timestamp (s) of the record at ``committed - 1``, valid where
    ``times_valid`` (read for exactly this committed offset).

    Edge cases, each giving no sample: no previous observation (NaN ``previous_at``, or
    ``previous`` NONE: a first commit, or a cycle in which the group was unreadable, so
    the move is not bracketed); no commit now; the offset did not move or went back (a
    rewind starts: nothing became visible); the record timestamp is unknown (read failed,
    or not read for this offset). A record timestamp later than ``now`` (clock skew)
    gives latency 0.
    """
    if not math.isfinite(previous_at) or not len(committed):
        return _no_samples(now)
    moved = (previous != NONE) & (committed != NONE) & (committed > previous)
    moved &= times_valid & ~np.isnan(last_ts)
    rows = np.flatnonzero(moved)
    latency = np.maximum(now - last_ts[rows], 0.0)
    return PassiveSamples(
        observed_at=now,
        rows=rows,
        committed=committed[rows],
        latency_s=latency,
        resolution_s=np.full(len(rows), now - previous_at),
        replay=rewinding[rows],
    )


def _no_samples(now: float) -> PassiveSamples:
    empty = np.zeros(0)
    return PassiveSamples(
        now, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), empty, empty,
        np.zeros(0, dtype=bool),
    )  # fmt: skip


# --- exact statistics -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LatencyStats:
    """Exact order statistics of a set of latencies (seconds); None when empty."""

    count: int
    p50: float | None
    p90: float | None
    p99: float | None
    p999: float | None
    max: float | None


def quantile(sorted_values: Floats, q: float) -> float | None:
    """Nearest-rank quantile: the smallest sample ``x`` with at least ``q`` of all samples
    at or below it (so it is always one of the samples; p100 is the max). None when
    empty. ``sorted_values`` must be ascending."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = max(1, math.ceil(q * n - 1e-9))  # 1e-9: q * n is exact in intent (0.99 * 100)
    return float(sorted_values[min(rank, n) - 1])


def latency_stats(values: Floats) -> LatencyStats:
    """count, p50, p90, p99, p99.9 (nearest rank) and max of ``values`` (NaN ignored)."""
    data = np.sort(values[~np.isnan(values)])
    qs = {name: quantile(data, q) for name, q in QUANTILES}
    return LatencyStats(
        count=len(data),
        max=float(data[-1]) if len(data) else None,
        **qs,
    )


@dataclass(frozen=True, slots=True)
class Histogram:
    """``counts[i]`` samples in ``(bounds[i-1], bounds[i]]`` (``[0, bounds[0]]`` for
    i = 0). The bounds are ``BOUNDS`` cut after the first one at or above the largest
    sample, plus that sample when it exceeds the last of ``BOUNDS``: every sample counted."""

    bounds: tuple[float, ...]
    counts: tuple[int, ...]


def histogram(values: Floats, ladder: Sequence[float] = BOUNDS) -> Histogram:
    """Counts per latency bucket; empty (no bounds) when there are no samples."""
    data = values[~np.isnan(values)]
    if not len(data):
        return Histogram((), ())
    top = float(data.max())
    bounds = [b for b in ladder if b < top]
    bounds.append(next((b for b in ladder if b >= top), top))
    edges = np.array(bounds)
    index = np.searchsorted(edges, data, side="left")  # value == bound goes to that bucket
    counts = np.bincount(index, minlength=len(edges))[: len(edges)]
    return Histogram(tuple(bounds), tuple(int(c) for c in counts))


@dataclass(frozen=True, slots=True)
class CurvePoint:
    t: float  # seconds after acceptance (probes) or after the record's timestamp (passive)
    p: float  # share visible to a read issued at t, in [0, 1]


def t_visibility(latencies: Floats, never_visible: int = 0) -> list[CurvePoint]:
    """The t-visibility curve: ``p(t)`` = share of writes with latency at most ``t``.

    ``never_visible``: writes whose effect was never seen (probes that timed out); they
    count in the denominator only, so the curve tops out below 1. A step function,
    given at up to ``CURVE_POINTS`` of its steps (always the first and the last), with
    ``t`` ascending and ``p`` non-decreasing. Empty when there is nothing to count.
    """
    data = np.sort(latencies[~np.isnan(latencies)])
    total = len(data) + never_visible
    if total == 0 or not len(data):
        return []
    # Step at each distinct value: p = (last index of that value + 1) / total.
    last = np.flatnonzero(np.append(data[1:] != data[:-1], True))
    if len(last) > CURVE_POINTS:
        pick = np.unique(np.linspace(0, len(last) - 1, CURVE_POINTS).round().astype(np.int64))
        last = last[pick]
    return [CurvePoint(float(data[i]), (int(i) + 1) / total) for i in last]


# --- per time bucket ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BucketStats:
    t: float  # bucket start (epoch s)
    p50: float | None
    p99: float | None
    count: int


def bucket_series(times: Floats, values: Floats, start: float, step: float) -> list[BucketStats]:
    """p50/p99/count of ``values`` per ``step``-wide bucket from ``start`` (buckets with
    samples only, ascending). ``step`` must be positive."""
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    keep = ~np.isnan(values)
    times, values = times[keep], values[keep]
    if not len(values):
        return []
    index = np.floor((times - start) / step).astype(np.int64)
    order = np.lexsort((values, index))
    index, values = index[order], values[order]
    cuts = np.flatnonzero(np.diff(index)) + 1
    out = []
    for chunk_index, chunk in zip(np.split(index, cuts), np.split(values, cuts), strict=True):
        out.append(
            BucketStats(
                t=start + int(chunk_index[0]) * step,
                p50=quantile(chunk, 0.5),
                p99=quantile(chunk, 0.99),
                count=len(chunk),
            )
        )
    return out


# --- cumulative histograms for /metrics -----------------------------------------------


@dataclass(slots=True)
class HistogramSet:
    """Cumulative latency histograms by key (e.g. (cluster, group) or probe name), for
    ``lagwatch_visibility_seconds`` and ``lagwatch_probe_visibility_seconds``."""

    _counts: dict[tuple[str, ...], list[int]] = field(default_factory=dict)
    _sums: dict[tuple[str, ...], float] = field(default_factory=dict)

    def observe(self, key: tuple[str, ...], values: Floats) -> None:
        """Add ``values`` (NaN ignored) under ``key``; a key with no value still
        appears (with zero counts) once observed."""
        data = values[~np.isnan(values)]
        counts = self._counts.setdefault(key, [0] * (len(BOUNDS) + 1))
        self._sums[key] = self._sums.get(key, 0.0) + float(data.sum())
        if len(data):
            per = np.bincount(
                np.searchsorted(np.array(BOUNDS), data, side="left"), minlength=len(BOUNDS) + 1
            )
            for i, n in enumerate(per.tolist()):
                counts[i] += n

    def observe_grouped(self, keys: Sequence[tuple[str, ...]], index: Ints, values: Floats) -> None:
        """``values[i]`` under ``keys[index[i]]``: one pass per distinct key present."""
        if not len(values):
            return
        order = np.argsort(index, kind="stable")
        sorted_index = index[order]
        cuts = np.flatnonzero(np.diff(sorted_index)) + 1
        for chunk in np.split(order, cuts):
            self.observe(keys[int(index[chunk[0]])], values[chunk])

    def freeze(self) -> dict[tuple[str, ...], CumulativeHistogram]:
        out = {}
        for key, counts in self._counts.items():
            cumulative = np.cumsum(counts).tolist()
            out[key] = CumulativeHistogram(tuple(cumulative), self._sums[key], cumulative[-1])
        return out


@dataclass(frozen=True, slots=True, eq=False)
class VisibilityBatch:
    """One cluster's passive samples of one cycle, with what names their rows."""

    cluster: str
    keys: PartitionKeys  # the cycle's slot keys (samples.rows index them)
    groups: Sequence[str]  # group names by group index
    group_index: Ints  # per sample: index into ``groups``
    samples: PassiveSamples

    def __len__(self) -> int:
        return len(self.samples)


def cycle_samples(
    cluster: str, layout: Layout, slots: Slots, now: float, committed: Ints, status: Ints
) -> VisibilityBatch:
    """The passive samples of the cycle just observed at ``now``, read from the slot
    history after ``Slots.advance``: the previous cycle's commits and time are the
    rate ring's previous point, ``last_ts`` the cached timestamp of ``committed - 1``
    (no extra fetch: the same cache exact staleness uses)."""
    previous_at, previous = slots.previous_commits()
    samples = passive_samples(
        now,
        previous_at,
        previous,
        committed,
        slots.last_ts,
        slots.t_have & (slots.t_commit == committed),
        status == _REWIND,
    )
    return VisibilityBatch(
        cluster, layout.keys, layout.groups, layout.slot_group[samples.rows], samples
    )
