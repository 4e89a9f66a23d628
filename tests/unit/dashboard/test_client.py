"""The API clients' error handling, against a real local HTTP server (stdlib)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dashboard.client import (
    BadRequest,
    BadResponse,
    CollectorClient,
    DemoClient,
    EndpointMissing,
    NotFound,
    SeriesRequest,
    ServerError,
    Unreachable,
    collector_from_metrics,
    normalize_url,
    parse_metrics,
    parse_url_list,
)

METRICS = """# HELP lagwatch_collector_cycle_duration_seconds x
lagwatch_collector_cycle_duration_seconds_bucket{le="0.1"} 2
lagwatch_collector_cycle_duration_seconds_bucket{le="0.5"} 10
lagwatch_collector_cycle_duration_seconds_bucket{le="+Inf"} 10
lagwatch_collector_cycle_duration_seconds_count 10
lagwatch_collector_errors_total{kind="list_offsets"} 3
lagwatch_collector_errors_total{kind="cycle"} 0
lagwatch_collector_start_time_seconds 1700000000
lagwatch_collector_timestamp_cache_lookups_total{result="hit"} 30
lagwatch_collector_timestamp_cache_lookups_total{result="miss"} 10
lagwatch_collector_timestamp_cache_hit_ratio 0.75
other_metric 1
"""

# path -> (status, body); bodies that are str are sent as text
ROUTES: dict[str, tuple[int, object]] = {
    "/api/v1/groups": (200, {"groups": [{"group": "g"}]}),
    "/api/v1/groups/a%2Fb": (200, {"group": "a/b"}),
    "/api/v1/groups/nope": (404, {"error": "unknown group 'nope'"}),
    "/api/v1/series": (400, {"error": "invalid parameter 'metric': x", "parameter": "metric"}),
    "/api/v1/annotations": (503, {"error": "this collector runs without a store"}),
    "/api/v1/topology": (200, "not json"),
    "/healthz": (
        503,
        {
            "status": "degraded",
            "clusters": [{"cluster": "c", "up": False}],
            "cycle_duration_s": 0.2,
        },
    ),
    "/metrics": (200, METRICS),
    "/demo/faults/history": (
        200,
        {
            "faults": [
                {
                    "time": 1.0,
                    "projection": "balances",
                    "kind": "pause",
                    "detail": "x",
                    "in_effect": True,
                    "groups": ["bank-balances"],
                }
            ]
        },
    ),
}


SERVERS: list[ThreadingHTTPServer] = []


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def _answer(self) -> None:
        path = self.path.split("?", 1)[0]
        status, body = ROUTES.get(path, (404, {"detail": "Not Found"}))
        text = body if isinstance(body, str) else json.dumps(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(text.encode())
        self.server.seen.append(self.path)  # type: ignore[attr-defined]

    do_GET = do_POST = _answer


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.seen = []  # type: ignore[attr-defined]
    SERVERS.append(httpd)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ok_and_group_names_are_url_encoded(server):
    client = CollectorClient(server)
    assert client.groups()["groups"] == [{"group": "g"}]
    assert client.group("a/b")["group"] == "a/b"


def test_error_kinds(server):
    client = CollectorClient(server)
    with pytest.raises(NotFound, match="unknown group 'nope'"):
        client.group("nope")
    with pytest.raises(BadRequest) as bad:
        client.series(SeriesRequest(key="k", metric="bogus", group="g"))
    assert bad.value.parameter == "metric" and bad.value.status == 400
    with pytest.raises(ServerError, match="without a store"):
        client.annotations()
    with pytest.raises(BadResponse, match="without JSON"):
        client.topology()
    with pytest.raises(EndpointMissing, match="has no endpoint /api/v1/heatmap"):
        client.heatmap("g")


def test_unreachable_names_the_url():
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(Unreachable) as error:
        CollectorClient(url, timeout_s=1).groups()
    assert url in str(error.value) and error.value.url == url + "/api/v1/groups"
    with pytest.raises(Unreachable):
        DemoClient(url, timeout_s=1).status()


def test_series_many_returns_each_answer_or_its_error(server):
    client = CollectorClient(server)
    answers = client.series_many(
        [SeriesRequest(key="a", metric="x", group="g"), SeriesRequest(key="b", metric="y",
                                                                       group="g")]
    )  # fmt: skip
    assert set(answers) == {"a", "b"}
    assert all(isinstance(a, BadRequest) for a in answers.values())
    assert client.series_many([]) == {}


def test_healthz_503_is_an_answer(server):
    assert CollectorClient(server).healthz()["status"] == "degraded"


def test_collector_falls_back_to_healthz_and_metrics(server):
    info = CollectorClient(server).collector()
    assert info["source"] == "metrics"
    assert info["errors_total"] == {"list_offsets": 3, "cycle": 0}
    assert info["timestamp_cache"] == {"hits": 30, "misses": 10, "hit_ratio": 0.75}
    assert info["cycles"] == 10
    assert info["cycle_seconds_last"] == 0.2
    assert 0.1 < info["cycle_seconds_p50"] <= 0.5
    assert info["clusters"] == [{"cluster": "c", "up": False, "last_success_at": None}]
    assert info["store"] is None


def test_parse_metrics_skips_other_prefixes_and_garbage():
    samples = parse_metrics(METRICS + "lagwatch_bad{ 1\nlagwatch_x NaN\n")
    names = {s.name for s in samples}
    assert "other_metric" not in names and "lagwatch_x" in names
    empty = collector_from_metrics({}, [], now=0)
    assert empty["cycle_seconds_p50"] is None and empty["errors_total"] == {}


def test_demo_fault_paths(server):
    demo = DemoClient(server)
    with pytest.raises(EndpointMissing, match="/demo/faults/bal%2Fx/pause"):
        demo.fault("bal/x", "pause")
    with pytest.raises(ValueError, match="needs a projection"):
        demo.fault(None, "crash")


def test_urls_are_checked():
    assert normalize_url("127.0.0.1:9477/") == "http://127.0.0.1:9477"
    assert parse_url_list(" a:1, a:1 ,b:2", "x:3") == ["http://a:1", "http://b:2"]
    assert parse_url_list("", "x:3") == ["http://x:3"]
    with pytest.raises(ValueError, match=r"expected e\.g\. http://127\.0\.0\.1:9477"):
        normalize_url("ftp://x")


def test_demo_fault_history_sends_since(server):
    faults = DemoClient(server).fault_history(since=1700000000.5)
    assert faults[0]["kind"] == "pause" and faults[0]["groups"] == ["bank-balances"]
    assert any(p == "/demo/faults/history?since=1700000000.5" for p in server_seen())
    with pytest.raises(EndpointMissing, match="/demo/faults/history"):
        DemoClient(server + "/older").fault_history()


def server_seen() -> list[str]:
    return [p for h in SERVERS for p in h.seen]
