"""Table-driven tests of the sliding-window status rules, one block per rule."""

from __future__ import annotations

import pytest

from collectors.core import status
from collectors.core.model import Observation, Status


def o(
    committed: int | None,
    log_end: int | None,
    members: int = 1,
    staleness: float | None = None,
) -> Observation:
    """One observation; its lag is ``log_end - committed`` (``log_end`` with no commit,
    None with no log end), as ``lag.offset_lag`` computes it for a log starting at 0."""
    offset_lag = None if log_end is None else log_end - (committed or 0)
    return Observation(
        observed_at=0.0,
        committed=committed,
        log_end=log_end,
        offset_lag=offset_lag,
        staleness_s=staleness,
        members=members,
    )


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        # Rule 1: ERROR
        pytest.param([], Status.ERROR, id="1-empty-window"),
        pytest.param([o(10, 20), o(10, 20), o(10, None)], Status.ERROR, id="1-log-end-unknown"),
        pytest.param([o(100, 120), o(50, None)], Status.ERROR, id="1-error-before-rewind"),
        # Rule 2: REWIND, never WARN (lags 10, 20, 150 would otherwise be WARN)
        pytest.param([o(100, 110), o(110, 130), o(50, 200)], Status.REWIND, id="2-replay-not-warn"),
        pytest.param(
            [o(100, 100), o(50, 100), o(100, 100)], Status.REWIND, id="2-rewind-then-caught-up"
        ),
        pytest.param(
            [o(100, 120), o(None, 120), o(50, 120)], Status.REWIND, id="2-rewind-across-no-commit"
        ),
        pytest.param(
            [o(10, 20, members=0), o(5, 20, members=0)], Status.REWIND, id="2-before-few-obs"
        ),
        pytest.param(
            [o(None, 100), o(None, 100), o(10, 100)], Status.OK, id="2-first-commit-not-rewind"
        ),
        # Rule 3: caught up -> IDLE (no traffic) or OK
        pytest.param([o(50, 50), o(50, 50), o(50, 50)], Status.IDLE, id="3-idle-topic"),
        pytest.param([o(50, 50), o(50, 50)], Status.IDLE, id="3-idle-two-observations"),
        pytest.param(
            [o(50, 50, members=0)] * 3, Status.IDLE, id="3-idle-without-members-not-stopped"
        ),
        pytest.param([o(50, 50)], Status.OK, id="3-single-observation-ok"),
        pytest.param([o(40, 50), o(60, 60)], Status.OK, id="3-caught-up-with-traffic"),
        pytest.param(
            [o(98, 100, staleness=0.0), o(98, 100, staleness=0.0)],
            Status.IDLE,
            id="3-transaction-markers-idle",
        ),
        pytest.param(
            [o(90, 100), o(98, 100, staleness=0.0), o(108, 110, staleness=0.0)],
            Status.OK,
            id="3-transaction-markers-with-traffic",
        ),
        pytest.param([o(10, None), o(50, 50), o(50, 50)], Status.OK, id="3-log-end-was-unknown"),
        # Rule 4: not enough evidence, except nobody ever consumed
        pytest.param([o(10, 50)], Status.OK, id="4-one-observation"),
        pytest.param([o(10, 50), o(10, 60)], Status.OK, id="4-two-observations"),
        pytest.param([o(10, 50, members=0)], Status.OK, id="4-no-members-but-committed"),
        pytest.param([o(None, 50, members=0)], Status.STOPPED, id="4-never-consumed-early"),
        pytest.param([o(None, 50, members=1)], Status.OK, id="4-no-commit-with-members"),
        # Rule 5: committed unchanged while lagging
        pytest.param([o(10, 50), o(10, 60), o(10, 70)], Status.STALL, id="5-stall"),
        pytest.param([o(10, 50)] * 3, Status.STALL, id="5-stall-flat-lag"),
        pytest.param(
            [o(10, 50, members=0), o(10, 60, members=0), o(10, 70, members=0)],
            Status.STOPPED,
            id="5-stopped",
        ),
        pytest.param(
            [o(10, 50, members=0), o(10, 60, members=0), o(10, 70, members=2)],
            Status.STALL,
            id="5-members-at-latest-decide",
        ),
        pytest.param([o(None, 50)] * 3, Status.STALL, id="5-no-commit-with-members-stall"),
        pytest.param([o(None, 50, members=0)] * 3, Status.STOPPED, id="5-no-commit-stopped"),
        pytest.param(
            [o(10, 50, staleness=4.0), o(10, 50, staleness=5.0), o(10, 50, staleness=6.0)],
            Status.STALL,
            id="5-stall-with-staleness",
        ),
        # Rule 6: lag growing while committing
        pytest.param([o(10, 50), o(20, 70), o(30, 90)], Status.WARN, id="6-lag-growing"),
        pytest.param([o(10, 50), o(20, 60), o(30, 90)], Status.WARN, id="6-flat-step-then-growing"),
        pytest.param([o(10, 50), o(20, 60), o(30, 70)], Status.OK, id="6-flat-lag-not-growing"),
        pytest.param(
            [o(10, 50), o(20, 70), o(40, 80), o(50, 100)], Status.OK, id="6-dip-not-monotone"
        ),
        pytest.param([o(10, 50), o(20, None), o(30, 90)], Status.OK, id="6-unknown-lag-in-window"),
        # Rule 7: otherwise OK
        pytest.param([o(10, 100), o(50, 110), o(90, 120)], Status.OK, id="7-catching-up"),
        pytest.param(
            [o(10, 50, members=0), o(20, 50, members=0), o(30, 50, members=0)],
            Status.OK,
            id="7-moving-without-members",
        ),
    ],
)
def test_evaluate(window: list[Observation], expected: Status) -> None:
    assert status.evaluate(window) is expected


@pytest.mark.parametrize(
    ("window", "min_observations", "expected"),
    [
        pytest.param([o(10, 50), o(10, 60)], 2, Status.STALL, id="lower-threshold-decides"),
        pytest.param([o(10, 50), o(10, 60), o(10, 70)], 4, Status.OK, id="higher-threshold"),
        pytest.param([o(10, 50)], 1, Status.STALL, id="single-observation-threshold-1"),
    ],
)
def test_evaluate_min_observations(
    window: list[Observation], min_observations: int, expected: Status
) -> None:
    assert status.evaluate(window, min_observations=min_observations) is expected


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        pytest.param([], Status.IDLE, id="empty"),
        pytest.param([Status.IDLE], Status.IDLE, id="single"),
        pytest.param([Status.IDLE, Status.OK], Status.OK, id="ok-over-idle"),
        pytest.param([Status.OK, Status.REWIND], Status.REWIND, id="rewind-over-ok"),
        pytest.param([Status.REWIND, Status.WARN, Status.OK], Status.WARN, id="warn-over-rewind"),
        pytest.param([Status.WARN, Status.STALL], Status.STALL, id="stall-over-warn"),
        pytest.param([Status.STOPPED, Status.STALL], Status.STOPPED, id="stopped-over-stall"),
        pytest.param([Status.STOPPED, Status.ERROR], Status.ERROR, id="error-over-all"),
        pytest.param(list(Status), Status.ERROR, id="every-status"),
    ],
)
def test_worst(statuses: list[Status], expected: Status) -> None:
    assert status.worst(statuses) is expected
    assert status.worst(iter(statuses)) is expected  # any iterable, consumed once
