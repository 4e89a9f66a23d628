"""ScrapeCache: new snapshots render off the scrape path, bounded wait, fallback."""

import threading
from dataclasses import replace

from collectors.serving.exposition import MetricsRenderer
from collectors.serving.scrape import ScrapeCache
from tests.unit.serving.test_exposition import NOW, representative


class SlowRenderer(MetricsRenderer):
    """Renders only when the test allows it, to model a huge snapshot."""

    def __init__(self) -> None:
        super().__init__("group")
        self.gate = threading.Event()
        self.gate.set()

    def render(self, snapshot):
        if snapshot is not None:
            assert self.gate.wait(10)
        return super().render(snapshot)


def test_fast_render_serves_the_newest_snapshot() -> None:
    cache = ScrapeCache(MetricsRenderer("group"), max_wait_s=5)
    first, second = representative(), replace(representative(), taken_at=NOW + 1)
    assert cache.body(first, gzipped=False) == MetricsRenderer("group").render(first)
    assert cache.body(second, gzipped=False) == MetricsRenderer("group").render(second)


def test_slow_render_serves_the_previous_snapshot_meanwhile() -> None:
    renderer = SlowRenderer()
    cache = ScrapeCache(renderer, max_wait_s=0.05)
    old, new = representative(), replace(representative(), taken_at=NOW + 1)
    old_body = cache.body(old, gzipped=False)  # nothing rendered yet: waits
    renderer.gate.clear()
    assert cache.body(new, gzipped=False) == old_body  # bounded wait, previous bytes
    renderer.gate.set()
    expected = MetricsRenderer("group").render(new)
    # once rendered, the new snapshot is what scrapes get (no sleeping: wait on the job)
    assert cache.body(new, gzipped=False) in (old_body, expected)
    cache._jobs[False][1].result(10)
    assert cache.body(new, gzipped=False) == expected


def test_no_snapshot_yet() -> None:
    cache = ScrapeCache(MetricsRenderer())
    assert b"lagwatch_collector_last_success_timestamp_seconds 0" in cache.body(None, False)
