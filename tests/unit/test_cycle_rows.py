"""The partition table's fast row construction equals the dataclass's own."""

from __future__ import annotations

import dataclasses

from collectors.core.model import PartitionKey, PartitionLag, StalenessMethod, Status
from collectors.core.partition_table import _new_partition_lag


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
