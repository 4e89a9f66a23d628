"""The committed-offset history stored as changes answers exactly as dense columns do.

A reference model keeps every point as a whole column (what ``Slots`` stored before
the change ring); random cycles of commits, gaps (``NONE``) and relayouts (rows gone,
new, moved) run through both, and every answer is compared: the columns at every
point, the previous column, and the rates the cycle computes from them.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from collectors.core import kernels
from collectors.core.change_ring import ChangeRing
from collectors.core.kernels import NONE

SEEDS = range(25)


class _Dense:
    """The reference: ``size`` whole columns in a ring, as ``Slots`` kept them."""

    def __init__(self, size: int, rows: int) -> None:
        self.columns = np.full((size, rows), NONE, dtype=np.int64)

    def advance(self, position: int, values: np.ndarray) -> None:
        self.columns[position] = values

    def moved(self, src: np.ndarray, dst: np.ndarray, rows: int) -> _Dense:
        out = _Dense(len(self.columns), rows)
        out.columns[:, dst] = self.columns[:, src]
        return out


def _commits(rng: random.Random, old: np.ndarray, changing: float) -> np.ndarray:
    """Mostly unchanged; some rows commit further, a few lose their value or get one."""
    out = old.copy()
    for i in range(len(out)):
        r = rng.random()
        if r < changing:
            out[i] = (max(out[i], 0) + rng.randint(0, 5)) if rng.random() < 0.9 else NONE
        elif r < changing * 1.2 and out[i] == NONE:
            out[i] = rng.randint(0, 50)
    return out


def _relayout(rng: random.Random, rows: int) -> tuple[np.ndarray, np.ndarray, int]:
    """A random surviving-rows map: some rows gone, some new, order shuffled."""
    new_rows = max(1, rows + rng.randint(-3, 3))
    survivors = rng.sample(range(rows), min(rows, new_rows, rng.randint(0, rows)))
    targets = rng.sample(range(new_rows), len(survivors))
    return (
        np.array(survivors, dtype=np.int64),
        np.array(targets, dtype=np.int64),
        new_rows,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_the_change_ring_answers_as_the_dense_columns(seed: int) -> None:
    rng = random.Random(seed)
    size, rows = rng.randint(2, 8), rng.randint(1, 30)
    ring, dense = ChangeRing.empty(size, rows), _Dense(size, rows)
    times = np.full(size, np.nan)
    cursor, values = 0, np.full(rows, NONE, dtype=np.int64)
    for step in range(40):
        if rng.random() < 0.15:
            src, dst, rows = _relayout(rng, rows)
            ring, dense = ring.moved(src, dst, rows), dense.moved(src, dst, rows)
            values = ring.current.copy()
            assert values.tolist() == dense.columns[cursor].tolist()
        cursor = (cursor + 1) % size
        times[cursor] = float(step)
        values = _commits(rng, values, rng.choice([0.05, 0.3, 1.0]))
        ring.advance(cursor, values)
        dense.advance(cursor, values)

        order = [(cursor + 1 + j) % size for j in range(size)]
        order = [k for k in order if times[k] == times[k]]
        want = [dense.columns[k] for k in order]
        assert [c.tolist() for c in ring.dense(order)] == [c.tolist() for c in want]
        prev = (cursor - 1) % size
        assert ring.previous(cursor).tolist() == dense.columns[prev].tolist()

        moving, moving_values = ring.history(order)
        assert moving.tolist() == sorted(set(moving.tolist()))
        for column, got in zip(want, moving_values, strict=True):
            assert got.tolist() == column[moving].tolist()
        steady = np.setdiff1d(np.arange(rows), moving)
        for column in want:  # every row not moving has its newest value at every point
            assert column[steady].tolist() == ring.current[steady].tolist()

        now, window = float(step) + rng.uniform(0, 3), rng.choice([2.0, 5.0, 100.0])
        point_times = [float(times[k]) for k in order]
        dense_rates = kernels.rates(list(zip(point_times, want, strict=True)), rows, now, window)
        ring_rates = kernels.rates_of_moving(
            point_times, ring.current, moving, moving_values, now, window
        )
        np.testing.assert_array_equal(ring_rates, dense_rates)


def test_memory_follows_the_changes_not_the_rows() -> None:
    ring = ChangeRing.empty(30, 100_000)
    values = np.arange(100_000, dtype=np.int64)
    for position in range(30):
        values = values.copy()
        values[position * 10 : position * 10 + 10] += 1  # 10 rows commit per point
        ring.advance(position, values)
    # The newest column, plus 10 rows and 10 values a point (the first point: all rows,
    # from NONE; it falls out of the ring with the next lap).
    assert ring.nbytes() == 100_000 * 8 + 29 * 10 * 16 + 100_000 * 16
    ring.advance(0, values)  # overwrites the first point: no row changed
    assert ring.nbytes() == 100_000 * 8 + 29 * 10 * 16
