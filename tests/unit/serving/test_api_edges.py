"""API edges of issue 10: odd group names, bad parameters, stale readings, unreachable
bootstrap addresses."""

from __future__ import annotations

import dataclasses
import socket

import pytest
from fastapi.testclient import TestClient

from collectors.core.model import GroupLag, Snapshot, Status
from collectors.kafka.reachability import diagnose
from collectors.serving.app import create_app
from collectors.serving.liveness import stale_after_s

from .test_exposition import NOW, agg, part, representative


class Provider:
    def __init__(self, snap: Snapshot, age: float | None = 0.1) -> None:
        self.snap = snap
        self.age = age

    def snapshot(self) -> Snapshot:
        return self.snap

    def reading_age(self) -> float | None:
        return self.age


class FakeStore:
    def annotations(self, start, end, group=None):
        return []

    def series(self, *args, **kwargs):
        return []


def _with_slash_group() -> Snapshot:
    snap = representative()
    name = "team/a b?c#d%"
    group = GroupLag("prod", name, NOW, "STABLE", 1, ("bank.events",), agg(3, Status.OK))
    return dataclasses.replace(
        snap,
        groups=(*snap.groups, group),
        partitions=(*snap.partitions, part(name, 0, Status.OK, offset_lag=3)),
    )


def _client(provider: Provider, store=None) -> TestClient:
    app = create_app(provider, store=store)
    app.state.interval_s = 1.0
    return TestClient(app)


@pytest.mark.parametrize("path", ["team%2Fa%20b%3Fc%23d%25", "team/a%20b%3Fc%23d%25"])
def test_a_group_name_with_a_slash_and_other_characters_is_reachable(path: str) -> None:
    response = _client(Provider(_with_slash_group())).get(f"/api/v1/groups/{path}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["group"] == "team/a b?c#d%"
    assert [p["partition"] for p in body["partitions"]] == [0]
    assert {"offset_gap", "offset_out_of_range", "replay_progress"} <= body["partitions"][0].keys()


@pytest.mark.parametrize(
    ("route", "params", "parameter"),
    [
        ("/api/v1/series", {"metric": "offset_lag", "group": "g", "start": "nan"}, "start"),
        ("/api/v1/series", {"metric": "offset_lag", "group": "g", "end": "inf"}, "end"),
        ("/api/v1/series", {"metric": "offset_lag", "group": "g", "step": "nan"}, "step"),
        ("/api/v1/series", {"metric": "offset_lag", "group": "g", "step": "-inf"}, "step"),
        ("/api/v1/series", {"metric": "lag", "group": "g"}, "metric"),
        ("/api/v1/series", {"metric": "offset_lag"}, "group"),
        ("/api/v1/annotations", {"start": "200", "end": "100"}, "start"),
        ("/api/v1/annotations", {"start": "nan"}, "start"),
        ("/api/v1/annotations", {"end": "yesterday"}, "end"),
    ],
)
def test_every_bad_parameter_is_a_400_naming_it(route: str, params: dict, parameter: str) -> None:
    response = _client(Provider(representative()), FakeStore()).get(route, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["parameter"] == parameter
    assert parameter in response.json()["error"]


def test_annotations_take_the_same_time_forms_as_series() -> None:
    client = _client(Provider(representative()), FakeStore())
    response = client.get(
        "/api/v1/annotations",
        params={"start": "2026-11-27T18:00:00Z", "end": "2026-11-27T19:00:00+00:00"},
    )
    assert response.status_code == 200, response.text


def test_a_stale_reading_is_degraded_and_withdrawn_from_metrics() -> None:
    snap = representative()
    snap = dataclasses.replace(
        snap, clusters=tuple(dataclasses.replace(c, up=True) for c in snap.clusters)
    )
    fresh = _client(Provider(snap, age=0.5))
    assert fresh.get("/healthz").status_code == 200
    assert 'lagwatch_up{cluster="prod"} 1' in fresh.get("/metrics").text

    stale = _client(Provider(snap, age=stale_after_s(1.0) + 0.01))
    health = stale.get("/healthz")
    assert health.status_code == 503 and health.json()["status"] == "degraded"
    text = stale.get("/metrics").text
    assert 'lagwatch_up{cluster="prod"} 0' in text
    for family in ("offset_lag", "members", "status", "staleness_seconds"):
        assert f"lagwatch_group_{family}{{" not in text
        assert "lagwatch_partition_offset_lag{" not in text


def test_an_unresolvable_host_and_a_refused_port_say_different_things() -> None:
    with socket.socket() as listener:  # a port that is free: nothing listens there
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    refused = diagnose(f"127.0.0.1:{port}")
    unresolved = diagnose("no-such-host.invalid:9092")
    assert refused is not None and "refused" in refused and str(port) in refused
    assert unresolved is not None and "does not resolve" in unresolved
    assert "no-such-host.invalid" in unresolved
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert diagnose(f"127.0.0.1:{listener.getsockname()[1]}") is None
