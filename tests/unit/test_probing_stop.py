"""A probe cut short by the collector stopping records nothing; one that waits out its
timeout records a timeout. HTTP through httpx's MockTransport (pure client logic)."""

from __future__ import annotations

import threading

import httpx

from collectors.core.probes import TIMEOUT
from collectors.probe_settings import ProbeSettings
from collectors.probing import Probe

SETTINGS = {
    "name": "p",
    "command": {"url": "http://api/commands", "id_field": "command_id", "body": {}},
    "check": {"url": "http://query/commands/{id}", "field": "status", "value": "applied"},
    "check_interval_s": 0.01,
    "timeout_s": 0.2,
}


def never_visible(stop: threading.Event | None = None, stop_after_checks: int = 0):
    checks = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/commands":
            return httpx.Response(202, json={"command_id": "c1"})
        checks.append(request)
        if stop is not None and len(checks) == stop_after_checks:
            stop.set()  # the collector stops while the probe waits
        return httpx.Response(200, json={"status": "pending"})

    return handler, checks


def probe(handler, stop: threading.Event | None = None) -> Probe:
    p = Probe(ProbeSettings(**SETTINGS), stop=stop)
    p._client = lambda: httpx.Client(transport=httpx.MockTransport(handler))
    return p


def test_a_probe_cut_short_by_a_stop_is_not_a_timeout():
    stop = threading.Event()
    handler, checks = never_visible(stop, stop_after_checks=2)
    assert probe(handler, stop).run_once() is None
    assert len(checks) <= 3  # it stopped waiting at once, not after timeout_s


def test_a_probe_that_waits_out_its_timeout_is_a_timeout():
    handler, checks = never_visible()
    sample = probe(handler).run_once()
    assert sample is not None and sample.outcome == TIMEOUT
    assert "not_visible: after 0.2 s" in sample.reason and len(checks) > 3
