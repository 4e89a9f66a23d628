"""A replay's staleness does not count against the freshness SLO unless asked to."""

from __future__ import annotations

import pytest

from collectors.core.model import Aggregate, GroupLag, Status
from collectors.core.slo import SloCounter, SloRule


def group(status: Status, staleness: float | None) -> GroupLag:
    lag = Aggregate(10, staleness, None, None, None, None, status, 1, 0, 0)
    return GroupLag("c", "g", 0.0, "STABLE", 1, ("t",), lag)


@pytest.mark.parametrize(
    ("count_replays", "expected"),
    [pytest.param(False, (2, 1), id="replays-left-out"), pytest.param(True, (3, 1), id="counted")],
)
def test_rewind_observations_count_only_when_configured(
    count_replays: bool, expected: tuple[int, int]
) -> None:
    counter = SloCounter([SloRule("g", 5.0, 0.99, count_replays=count_replays)])
    counter.observe([group(Status.OK, 1.0)])
    counter.observe([group(Status.REWIND, 9000.0)])  # replaying old events
    counter.observe([group(Status.STALL, 60.0)])
    [state] = counter.observe([group(Status.ERROR, None)])  # unknown: never counted
    assert (state.observations_total, state.good_total) == expected
