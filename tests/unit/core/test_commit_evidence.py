"""The commit log's stillness evidence: a consumer that died long before the collector
started reads STOPPED at the first cycle, not OK for a stall threshold's time."""

from __future__ import annotations

import numpy as np

from collectors.core import kernels
from collectors.core.commit_evidence import seed_stillness, since_column
from collectors.core.kernels import CODE, StatusInputs, StatusState
from collectors.core.model import Status
from collectors.core.slots import build_layout
from collectors.core.status import StatusParams

NOW = 1_700_000_000.0
PARAMS = StatusParams()  # stall threshold 60 s until a cadence is learned


def first_cycle(since: np.ndarray, members: int = 0, staleness: float = 3600.0) -> str:
    """The status of one pending row at the collector's first cycle."""
    state = StatusState.empty(1, PARAMS.warn_points)
    seed_stillness(state, since, NOW)
    inputs = StatusInputs(
        committed=np.array([100]), log_end=np.array([142]), lag=np.array([42]),
        staleness_s=np.array([staleness]), exact=np.array([True]),
        clock_skew=np.array([False]), members=np.array([members]),
    )  # fmt: skip
    code = kernels.step_status(NOW, state, inputs, PARAMS).status[0]
    return next(s.value for s in Status if CODE[s] == code)


def test_a_consumer_dead_for_an_hour_is_stopped_at_the_first_cycle() -> None:
    assert first_cycle(np.array([NOW - 3600])) == "STOPPED"
    assert first_cycle(np.array([NOW - 3600]), members=2) == "STALL"


def test_without_the_evidence_or_with_a_recent_commit_it_waits_for_the_threshold() -> None:
    assert first_cycle(np.array([np.nan])) == "OK"  # Admin API: unknown since when
    assert first_cycle(np.array([NOW - 10])) == "OK"  # still for 10 s only
    assert first_cycle(np.array([NOW - 3600]), staleness=10.0) == "OK"  # records are new


def test_seeding_lowers_first_seen_only_for_rows_never_seen_moving() -> None:
    state = StatusState.empty(4, PARAMS.warn_points)
    state.first_seen[:] = [NOW - 5, NOW - 5, np.nan, NOW - 5]
    state.moved_at[:] = [np.nan, NOW - 2, np.nan, np.nan]
    since = np.array([NOW - 100, NOW - 100, NOW + 30, np.nan])  # +30: broker clock ahead
    assert seed_stillness(state, since, NOW) == 2
    assert list(state.first_seen[:3]) == [NOW - 100, NOW - 5, NOW]  # a future time: now
    assert state.first_seen[3] == NOW - 5  # nothing known: unchanged
    assert seed_stillness(state, since, NOW) == 0  # idempotent


def test_since_column_follows_the_layout_and_leaves_unknowns_nan() -> None:
    wanted = {"b": {("t", 0): 1, ("t", 1): 2}, "a": {("u", 0): 3}}
    layout = build_layout("c", wanted, lambda group: False)
    column = since_column(layout, {"b": {("t", 1): 7.0}, "a": None})
    keys = layout.keys.keys
    by_key = {(k.group, k.topic, k.partition): v for k, v in zip(keys, column, strict=True)}
    assert by_key[("b", "t", 1)] == 7.0
    assert np.isnan(by_key[("b", "t", 0)]) and np.isnan(by_key[("a", "u", 0)])
