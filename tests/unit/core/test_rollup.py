"""Table-driven tests of the partition -> group roll-up."""

from __future__ import annotations

from typing import Any

import pytest

from collectors.core import rollup
from collectors.core.model import (
    Aggregate,
    PartitionKey,
    PartitionLag,
    StalenessMethod,
    Status,
)


def p(partition: int, **overrides: Any) -> PartitionLag:
    """A caught-up, idle partition unless ``overrides`` say otherwise."""
    values: dict[str, Any] = {
        "key": PartitionKey("c", "g", "t", partition),
        "observed_at": 1000.0,
        "log_start": 0,
        "log_end": 100,
        "committed": 100,
        "offset_lag": 0,
        "no_commit": False,
        "events_expired": False,
        "staleness_s": 0.0,
        "staleness_method": StalenessMethod.EXACT,
        "data_age_s": 1.0,
        "clock_skew": False,
        "consume_rate": 0.0,
        "produce_rate": 0.0,
        "eta_s": 0.0,
        "status": Status.IDLE,
    }
    values.update(overrides)
    return PartitionLag(**values)


MIXED = [
    p(
        0,
        offset_lag=100,
        staleness_s=12.5,
        data_age_s=20.0,
        consume_rate=50.0,
        produce_rate=30.0,
        eta_s=5.0,
        status=Status.WARN,
    ),
    p(1, data_age_s=300.0),
    p(
        2,
        offset_lag=40,
        staleness_s=3.0,
        data_age_s=None,
        consume_rate=None,
        produce_rate=2.0,
        eta_s=8.0,
        status=Status.OK,
        no_commit=True,
        committed=None,
    ),
    p(
        3,
        log_start=None,
        log_end=None,
        offset_lag=None,
        staleness_s=None,
        data_age_s=None,
        staleness_method=StalenessMethod.UNKNOWN,
        consume_rate=None,
        produce_rate=None,
        eta_s=None,
        status=Status.ERROR,
        error="topic deleted",
    ),
    # transaction markers only: a gap of 7 offsets but 0 events, so it does not lag
    # and its missing ETA does not make the group's ETA unknown
    p(
        4,
        offset_lag=0,
        offset_gap=7,
        staleness_s=0.0,
        eta_s=None,
        status=Status.OK,
        events_expired=True,
    ),
]


@pytest.mark.parametrize(
    ("partitions", "expected"),
    [
        pytest.param(
            [],
            Aggregate(0, None, None, None, None, 0.0, Status.IDLE, 0, 0, 0),
            id="empty",
        ),
        pytest.param(
            MIXED,
            Aggregate(140, 12.5, 300.0, 50.0, 32.0, 8.0, Status.ERROR, 5, 1, 1),
            id="mixed",
        ),
        pytest.param(
            [p(0), p(1, data_age_s=7.0)],
            Aggregate(0, 0.0, 7.0, 0.0, 0.0, 0.0, Status.IDLE, 2, 0, 0),
            id="all-caught-up",
        ),
        pytest.param(
            [
                p(0, offset_lag=10, staleness_s=2.0, eta_s=None, status=Status.STALL),
                p(1, offset_lag=5, staleness_s=1.0, eta_s=3.0, status=Status.OK),
            ],
            Aggregate(15, 2.0, 1.0, 0.0, 0.0, None, Status.STALL, 2, 0, 0),
            id="lagging-partition-without-eta",
        ),
        pytest.param(
            [p(0, offset_lag=5, staleness_s=None, eta_s=None, status=Status.OK)],
            Aggregate(5, None, 1.0, 0.0, 0.0, None, Status.OK, 1, 0, 0),
            id="lagging-staleness-unknown",
        ),
        pytest.param(
            [p(0, offset_lag=None, staleness_s=None, eta_s=None, status=Status.ERROR), p(1)],
            Aggregate(0, 0.0, 1.0, 0.0, 0.0, 0.0, Status.ERROR, 2, 0, 0),
            id="unknown-lag-left-out-of-eta",
        ),
        pytest.param(
            [
                p(0, consume_rate=None, produce_rate=None, data_age_s=None),
                p(1, consume_rate=None, produce_rate=None, data_age_s=None),
            ],
            Aggregate(0, 0.0, None, None, None, 0.0, Status.IDLE, 2, 0, 0),
            id="rates-and-ages-unknown",
        ),
        pytest.param(
            [
                p(
                    0,
                    committed=None,
                    no_commit=True,
                    status=Status.STOPPED,
                    offset_lag=100,
                    staleness_s=60.0,
                    eta_s=None,
                    consume_rate=None,
                ),
                p(
                    1,
                    committed=20,
                    log_start=50,
                    events_expired=True,
                    offset_lag=80,
                    staleness_s=90.0,
                    eta_s=None,
                    status=Status.STALL,
                ),
                p(
                    2,
                    status=Status.REWIND,
                    offset_lag=30,
                    staleness_s=5.0,
                    eta_s=1.5,
                    consume_rate=25.0,
                    produce_rate=5.0,
                ),
            ],
            Aggregate(210, 90.0, 1.0, 25.0, 5.0, None, Status.STOPPED, 3, 1, 1),
            id="stopped-stall-rewind",
        ),
    ],
)
def test_aggregate(partitions: list[PartitionLag], expected: Aggregate) -> None:
    assert rollup.aggregate(partitions) == expected


def test_aggregate_eta_is_slowest_lagging_partition() -> None:
    partitions = [
        p(0, offset_lag=10, staleness_s=1.0, eta_s=2.0, status=Status.OK),
        p(1, offset_lag=10, staleness_s=1.0, eta_s=9.5, status=Status.OK),
        p(2, offset_lag=10, staleness_s=1.0, eta_s=4.0, status=Status.OK),
    ]
    assert rollup.aggregate(partitions).eta_s == 9.5
