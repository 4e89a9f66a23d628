from __future__ import annotations

from collectors.core.annotations import cluster_health_change, status_changes
from collectors.core.model import Aggregate, GroupLag, Status


def _group(name: str, status: Status, at: float = 100.0) -> GroupLag:
    lag = Aggregate(0, None, None, None, None, 0.0, status, 1, 0, 0)
    return GroupLag("c", name, at, "STABLE", 1, ("t",), lag)


def test_first_sight_sets_the_status_without_an_annotation() -> None:
    seen: dict = {}
    assert status_changes(seen, [_group("g", Status.OK)]) == []
    assert seen == {("c", "g"): Status.OK}


def test_a_change_is_annotated_once_with_before_and_after() -> None:
    seen: dict = {}
    status_changes(seen, [_group("g", Status.OK)])
    out = status_changes(seen, [_group("g", Status.STALL, at=101.0)])
    assert [(a.at, a.kind, a.group, a.message) for a in out] == [
        (101.0, "status_change", "g", "OK -> STALL")
    ]
    assert status_changes(seen, [_group("g", Status.STALL, at=102.0)]) == []


def test_cluster_health_changes() -> None:
    assert cluster_health_change(1.0, "c", None, True, None) is None  # first cycle fine
    down = cluster_health_change(1.0, "c", None, False, "refused")
    assert down is not None and down.kind == "cluster_down" and "refused" in down.message
    up = cluster_health_change(2.0, "c", False, True, None)
    assert up is not None and up.kind == "cluster_up"
    assert cluster_health_change(3.0, "c", True, True, None) is None
