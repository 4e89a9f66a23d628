"""The collector cycle's fast row construction equals the dataclasses' own."""

from __future__ import annotations

import dataclasses

from collectors.cycle import _new_observation, _new_partition_lag
from collectors.model import Observation, PartitionKey, PartitionLag, StalenessMethod, Status


def test_fast_partition_lag_equals_the_dataclass_constructor() -> None:
    values = (
        PartitionKey("c", "g", "t", 3),
        100.5,
        0,
        10,
        7,
        3,
        False,
        True,
        1.25,
        StalenessMethod.EXACT,
        9.5,
        False,
        0.5,
        None,
        None,
        Status.WARN,
        None,
    )
    fast = _new_partition_lag(*values)
    assert type(fast) is PartitionLag
    assert fast == PartitionLag(*values)
    assert hash(fast) == hash(PartitionLag(*values))
    assert dataclasses.asdict(fast) == dataclasses.asdict(PartitionLag(*values))


def test_fast_observation_equals_the_dataclass_constructor() -> None:
    assert _new_observation(1.0, None, 5, 5, 0.0, 2) == Observation(1.0, None, 5, 5, 0.0, 2)


def test_fast_rows_stay_frozen() -> None:
    row = _new_observation(1.0, 4, 5, 1, 0.0, 0)
    try:
        row.committed = 5  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        return
    raise AssertionError("a fast-built row must stay immutable")
