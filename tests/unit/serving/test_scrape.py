"""/metrics serves the latest snapshot, streamed; ScrapeCache keeps only the last gzip body.

Pure serving logic: fake snapshots published by the test, the real app under TestClient.
"""

from __future__ import annotations

import gzip
import time
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from collectors.core.model import Snapshot
from collectors.serving.app import create_app
from collectors.serving.exposition import CONTENT_TYPE, MetricsRenderer
from collectors.serving.scrape import ScrapeCache

from .test_exposition import NOW, representative, samples

GROUP = frozenset({("cluster", "prod"), ("group", "rm-warn")})


class Probe:
    """Counts renders of the snapshots it watches, and can make each one slow (a huge
    deployment's render, modelled: what a scrape then returns is the point, not how
    long it takes)."""

    def __init__(self) -> None:
        self.renders = 0
        self.render_s = 0.0

    def entered(self) -> None:
        self.renders += 1
        time.sleep(self.render_s)


class WatchedGroups(tuple):
    """A snapshot's groups whose reading (the first thing a render does) goes through a
    probe: renders are seen from the data, whatever the renderer's insides."""

    probe: Probe

    def __iter__(self):
        self.probe.entered()
        return super().__iter__()


def snapshot_at(taken_at: float, lag: int = 40, probe: Probe | None = None) -> Snapshot:
    """``representative()`` taken at ``taken_at``, with group rm-warn's lag set to ``lag``."""
    snap = representative()
    groups = tuple(
        replace(g, lag=replace(g.lag, offset_lag=lag)) if g.group == "rm-warn" else g
        for g in snap.groups
    )
    if probe is not None:
        groups = WatchedGroups(groups)
        groups.probe = probe
    return replace(snap, taken_at=taken_at, groups=groups)


class Publisher:
    """The service's side: the latest published snapshot, swapped whole."""

    def __init__(self) -> None:
        self.latest: Snapshot | None = None

    def publish(self, snap: Snapshot) -> None:
        self.latest = snap

    def snapshot(self) -> Snapshot | None:
        return self.latest


def scrape(client: TestClient, encoding: str = "gzip") -> tuple[str, dict[str, str]]:
    response = client.get("/metrics", headers={"Accept-Encoding": encoding})
    assert response.status_code == 200
    return response.text, dict(response.headers)


def served(text: str) -> tuple[float, float]:
    """(snapshot timestamp, rm-warn's group lag) of an exposition."""
    taken = samples(text, "lagwatch_collector_snapshot_timestamp_seconds")[frozenset()]
    return taken, samples(text, "lagwatch_group_offset_lag")[GROUP]


def app_client(publisher: Publisher) -> TestClient:
    return TestClient(create_app(publisher, renderer=MetricsRenderer()))


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_a_scrape_returns_the_newest_published_snapshot(encoding: str) -> None:
    publisher = Publisher()
    client = app_client(publisher)
    publisher.publish(snapshot_at(NOW, lag=40))
    assert served(scrape(client, encoding)[0]) == (NOW, 40)
    publisher.publish(snapshot_at(NOW + 1, lag=41))
    assert served(scrape(client, encoding)[0]) == (NOW + 1, 41)
    assert served(scrape(client, encoding)[0]) == (NOW + 1, 41)  # again: same snapshot


def test_a_slow_render_is_waited_for_never_replaced_by_older_data() -> None:
    probe = Probe()
    publisher = Publisher()
    client = app_client(publisher)
    publisher.publish(snapshot_at(NOW, lag=40, probe=probe))
    assert served(scrape(client)[0]) == (NOW, 40)
    publisher.publish(snapshot_at(NOW + 1, lag=41, probe=probe))
    probe.render_s = 0.5  # longer than any "wait a little, else serve the old text"
    assert served(scrape(client)[0]) == (NOW + 1, 41)


def test_data_age_is_at_most_one_cycle_with_15_s_scrapes_and_after_a_gap() -> None:
    """A fake timeline: a cycle publishes every second; Prometheus scrapes every 15 s,
    then not for 60 s. The age of the data a scrape returns (scrape time minus the
    served snapshot's timestamp) never exceeds one cycle, also when renders are slow."""
    interval = 1.0
    probe = Probe()
    probe.render_s = 0.3  # a render far slower than "wait a little" (the old 0.15 s)
    publisher = Publisher()
    client = app_client(publisher)
    scrapes = [NOW + 15 * i + 0.7 for i in range(1, 5)]
    scrapes.append(scrapes[-1] + 60)
    ages = []
    cycle = NOW
    for at in scrapes:
        while cycle + interval <= at:  # the cycles that finished before this scrape
            cycle += interval
            publisher.publish(snapshot_at(cycle, int(cycle - NOW), probe))
        taken, lag = served(scrape(client)[0])
        assert lag == int(taken - NOW)  # values and timestamp of one snapshot
        ages.append(at - taken)
    assert all(0 <= age <= interval for age in ages), ages


def test_content_type_and_gzip_negotiation() -> None:
    publisher = Publisher()
    publisher.publish(snapshot_at(NOW))
    client = app_client(publisher)
    plain, plain_headers = scrape(client, "identity")
    zipped, zipped_headers = scrape(client, "gzip, deflate")
    assert plain_headers["content-type"] == CONTENT_TYPE == zipped_headers["content-type"]
    assert "content-encoding" not in plain_headers
    assert zipped_headers["content-encoding"] == "gzip"
    assert plain == zipped == MetricsRenderer().render(publisher.latest).decode()


def test_no_snapshot_yet() -> None:
    client = app_client(Publisher())
    for encoding in ("gzip", "identity"):
        text, _ = scrape(client, encoding)
        assert text == "# HELP lagwatch_collector_last_success_timestamp_seconds UNIX time " \
            "of the last successful collection cycle; 0 before the first one.\n" \
            "# TYPE lagwatch_collector_last_success_timestamp_seconds gauge\n" \
            "lagwatch_collector_last_success_timestamp_seconds 0\n"  # fmt: skip


def text_of(taken_at: float, lag: int = 40) -> bytes:
    """The exposition of ``snapshot_at(taken_at, lag)``, rendered outside any probe."""
    return MetricsRenderer().render(snapshot_at(taken_at, lag))


def test_the_gzip_body_of_the_last_snapshot_is_kept_and_plain_text_never() -> None:
    probe = Probe()
    cache = ScrapeCache(MetricsRenderer())
    first = snapshot_at(NOW, probe=probe)
    body = b"".join(cache.stream(first, gzipped=True))
    assert gzip.decompress(body) == text_of(NOW)
    assert b"".join(cache.stream(first, gzipped=True)) == body
    assert probe.renders == 1  # the second gzip scrape sent the kept body
    assert b"".join(cache.stream(first, gzipped=False)) == text_of(NOW)
    assert b"".join(cache.stream(first, gzipped=False)) == text_of(NOW)
    assert probe.renders == 3
    second = snapshot_at(NOW + 1, probe=probe)
    assert gzip.decompress(b"".join(cache.stream(second, gzipped=True))) == text_of(NOW + 1)
    assert probe.renders == 4


def test_an_abandoned_stream_keeps_nothing() -> None:
    probe = Probe()
    cache = ScrapeCache(MetricsRenderer())
    snap = snapshot_at(NOW, probe=probe)
    stream = cache.stream(snap, gzipped=True)
    next(stream)
    stream.close()  # the client hung up
    body = b"".join(cache.stream(snap, gzipped=True))
    assert probe.renders == 2
    assert gzip.decompress(body) == text_of(NOW)


def test_a_stream_sends_its_own_snapshot_while_newer_ones_are_published() -> None:
    probe = Probe()
    cache = ScrapeCache(MetricsRenderer())
    old, new = snapshot_at(NOW, 40, probe), snapshot_at(NOW + 1, 41, probe)
    slow = cache.stream(old, gzipped=True)  # a slow client, one piece in
    head = [next(slow)]
    new_body = b"".join(cache.stream(new, gzipped=True))
    old_body = b"".join(head + list(slow))  # finishes after the newer scrape
    assert gzip.decompress(old_body) == text_of(NOW, 40)
    assert gzip.decompress(new_body) == text_of(NOW + 1, 41)
    # the older stream ending last did not replace the newer snapshot's kept body
    assert b"".join(cache.stream(new, gzipped=True)) == new_body
    assert probe.renders == 2
