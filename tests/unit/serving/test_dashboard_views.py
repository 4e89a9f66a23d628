"""/api/v1/heatmap and /api/v1/collector over a real DuckDB store (in a temp file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from collectors.core.model import Snapshot
from collectors.serving.app import create_app
from collectors.store.db import Store
from tests.unit.store import snapshots as ss


class _Provider:
    def __init__(self, snap: Snapshot | None) -> None:
        self.snap = snap

    def snapshot(self) -> Snapshot | None:
        return self.snap


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "lagwatch.duckdb") as db:
        # partition 0 stale 1 s then 5 s; partition 1 unknown staleness at t=20 only
        db.write_snapshot(ss.snapshot(0.0, [ss.partition(0.0, staleness_s=1.0)]))
        db.write_snapshot(ss.snapshot(10.0, [ss.partition(10.0, staleness_s=5.0)]))
        db.write_snapshot(ss.snapshot(20.0, [ss.partition(20.0, partition=1, staleness_s=None)]))
        yield db


def test_heatmap_is_partition_by_bucket_with_gaps_as_null(store: Store) -> None:
    client = TestClient(create_app(_Provider(None), store=store))
    body = client.get(
        "/api/v1/heatmap", params={"group": "g", "start": 0, "end": 30, "step": 10}
    ).json()
    assert body["times"] == [0.0, 10.0, 20.0]
    assert body["step_s"] == 10.0
    rows = {(r["topic"], r["partition"]): r["values"] for r in body["rows"]}
    assert rows == {("t", 0): [1.0, 5.0, None], ("t", 1): [None, None, None]}


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "group"),
        ({"group": "g", "metric": "committed"}, "metric"),
        ({"group": "g", "start": "nan"}, "start"),
        ({"group": "g", "start": 50, "end": 10}, "start"),
        ({"group": "g", "step": "-1"}, "step"),
    ],
)
def test_heatmap_bad_parameters_name_the_parameter(
    store: Store, params: dict, parameter: str
) -> None:
    response = TestClient(create_app(_Provider(None), store=store)).get(
        "/api/v1/heatmap", params=params
    )
    assert response.status_code == 400
    assert response.json()["parameter"] == parameter


def test_heatmap_without_a_store_is_503() -> None:
    response = TestClient(create_app(_Provider(None))).get("/api/v1/heatmap?group=g")
    assert response.status_code == 503


def test_collector_view_reports_cycles_store_and_cache(store: Store) -> None:
    app = create_app(_Provider(ss.simple(100.0)), store=store)
    app.state.interval_s = 1.0
    body = TestClient(app).get("/api/v1/collector").json()
    assert body["interval_s"] == 1.0
    assert body["store"]["path"] == str(store.path)
    assert body["store"]["size_bytes"] > 0
    assert body["store"]["raw_retention_s"] == store.raw_retention_s
    assert body["cycles"] == ss.STATS.cycles_total
    assert body["timestamp_cache"]["hit_ratio"] is None  # no lookups yet: unknown, not 0
    assert body["last_cycle_at"] == 100.0


def test_collector_view_before_the_first_cycle() -> None:
    body = TestClient(create_app(_Provider(None))).get("/api/v1/collector").json()
    assert body["cycles"] == 0 and body["started_at"] is None and body["store"] is None
