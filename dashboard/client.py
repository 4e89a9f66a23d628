"""HTTP clients of the collector API and of the demo's APIs (no Streamlit import).

Every failure is an :class:`ApiError` subclass that names the URL and what to check,
so a page can show it as it is:

- :class:`Unreachable` — nothing answers (connection refused, timeout, DNS).
- :class:`EndpointMissing` — 404 from the router: this server has no such endpoint
  (an older collector, or not a lagwatch collector at all).
- :class:`NotFound` — 404 with ``{"error"}``: the endpoint exists, the thing does not
  (an unknown group).
- :class:`BadRequest` — 400/422 with the parameter named.
- :class:`ServerError` — 5xx, e.g. 503 "this collector runs without a store".
- :class:`BadResponse` — an answer that is not the JSON we expect.

Clients are thread-safe (one ``httpx.Client`` each) and never retry: a page polls
again on its next refresh anyway.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_COLLECTOR = "http://127.0.0.1:9477"
DEFAULT_DEMO_CONTROL = "http://127.0.0.1:8003"


class ApiError(Exception):
    """A request that did not give the answer we need. ``url`` is the full URL."""

    def __init__(self, url: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class Unreachable(ApiError):
    pass


class EndpointMissing(ApiError):
    pass


class NotFound(ApiError):
    pass


class BadRequest(ApiError):
    def __init__(self, url: str, message: str, status: int, parameter: str | None) -> None:
        super().__init__(url, message, status)
        self.parameter = parameter


class ServerError(ApiError):
    pass


class BadResponse(ApiError):
    pass


def normalize_url(url: str) -> str:
    """``127.0.0.1:9477`` -> ``http://127.0.0.1:9477``; trailing slashes dropped.

    Raises ``ValueError`` naming the expected shape for anything that is not
    ``[http(s)://]host[:port][/path]``.
    """
    text = url.strip().rstrip("/")
    if not text:
        raise ValueError("empty URL; expected e.g. http://127.0.0.1:9477")
    if "://" not in text:
        text = "http://" + text
    if not re.match(r"^https?://[^/\s:]+(:\d{1,5})?(/\S*)?$", text):
        raise ValueError(f"not an http(s) URL: {url!r}; expected e.g. http://127.0.0.1:9477")
    return text


def parse_url_list(text: str | None, default: str) -> list[str]:
    """Comma-separated URLs (``LAGWATCH_COLLECTORS``) -> normalized, duplicates dropped."""
    items = [part for part in (text or "").split(",") if part.strip()] or [default]
    out: list[str] = []
    for item in items:
        url = normalize_url(item)
        if url not in out:
            out.append(url)
    return out


class _Http:
    """Shared GET/POST plumbing with the error mapping above."""

    def __init__(self, base_url: str, timeout_s: float = 3.0) -> None:
        self.base_url = normalize_url(base_url)
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        accept: tuple[int, ...] = (),
    ) -> Any:
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        url = self.base_url + path
        try:
            response = self._client.request(method, path, params=clean, json=json)
        except httpx.TimeoutException:
            raise Unreachable(url, f"{self.base_url} did not answer in time ({path})") from None
        except httpx.HTTPError as error:
            reason = type(error).__name__
            raise Unreachable(url, f"cannot reach {self.base_url} ({reason})") from None
        url = str(response.request.url)
        body = _json_or_none(response)
        status = response.status_code
        if 200 <= status < 300 or status in accept:
            if body is None:
                raise BadResponse(url, f"{url} answered {status} without JSON", status)
            return body
        message = _error_text(body) or response.text[:200] or response.reason_phrase
        if status == 404:
            if isinstance(body, dict) and "error" in body:
                raise NotFound(url, str(body["error"]), status)
            raise EndpointMissing(url, f"{self.base_url} has no endpoint {path}", status)
        if status in (400, 422):
            parameter = body.get("parameter") if isinstance(body, dict) else None
            raise BadRequest(url, message, status, parameter)
        if status >= 500:
            raise ServerError(url, f"{url} answered {status}: {message}", status)
        raise BadResponse(url, f"{url} answered {status}: {message}", status)

    def get(self, path: str, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        return self._request("GET", path, params=params, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self._request("POST", path, json=json, **kw)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_text(body: Any) -> str | None:
    if isinstance(body, dict):
        for key in ("error", "detail", "message"):
            if key in body:
                value = body[key]
                return value if isinstance(value, str) else str(value)
    return None


def _group_path(group: str) -> str:
    # group names may contain "/" and other reserved characters
    return "/api/v1/groups/" + quote(group, safe="")


@dataclass(frozen=True, slots=True)
class SeriesRequest:
    """One ``/api/v1/series`` call; ``key`` identifies its answer in a batch."""

    key: str
    metric: str
    group: str
    cluster: str | None = None
    topic: str | None = None
    partition: int | None = None
    start: float | None = None
    end: float | None = None
    step: float | None = None

    def params(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "group": self.group,
            "cluster": self.cluster,
            "topic": self.topic,
            "partition": self.partition,
            "start": self.start,
            "end": self.end,
            "step": self.step,
        }


class CollectorClient(_Http):
    """The collector's read-only API (docs/api.md, notes/contracts.md)."""

    def healthz(self) -> dict[str, Any]:
        """``{"status": "ok"|"degraded"|"starting", ...}``; a 503 is an answer here."""
        return self.get("/healthz", accept=(503,))

    def groups(self, cluster: str | None = None) -> dict[str, Any]:
        return self.get("/api/v1/groups", {"cluster": cluster})

    def group(self, group: str, cluster: str | None = None) -> dict[str, Any]:
        """One group; :class:`NotFound` when the collector does not know it."""
        return self.get(_group_path(group), {"cluster": cluster})

    def series(self, request: SeriesRequest) -> dict[str, Any]:
        return self.get("/api/v1/series", request.params())

    def series_many(
        self, requests: Iterable[SeriesRequest], workers: int = 8
    ) -> dict[str, dict[str, Any] | ApiError]:
        """Several series at once on a small thread pool; each answer or its error by key."""
        items = list(requests)
        if not items:
            return {}

        def one(request: SeriesRequest) -> dict[str, Any] | ApiError:
            try:
                return self.series(request)
            except ApiError as error:
                return error

        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
            answers = list(pool.map(one, items))
        return {r.key: a for r, a in zip(items, answers, strict=True)}

    def heatmap(self, group: str, **params: Any) -> dict[str, Any]:
        """Partition x time matrix; :class:`EndpointMissing` from an older collector."""
        return self.get("/api/v1/heatmap", {"group": group, **params})

    def annotations(
        self, start: float | None = None, end: float | None = None, group: str | None = None
    ) -> list[dict[str, Any]]:
        body = self.get("/api/v1/annotations", {"start": start, "end": end, "group": group})
        return list(body.get("annotations") or [])

    def slo(self) -> dict[str, Any]:
        return self.get("/api/v1/slo")

    def topology(self) -> dict[str, Any]:
        return self.get("/api/v1/topology")

    def visibility(self, group: str, **params: Any) -> dict[str, Any]:
        return self.get("/api/v1/visibility", {"group": group, **params})

    def probes(self, start: float | None = None, end: float | None = None) -> dict[str, Any]:
        return self.get("/api/v1/probes", {"start": start, "end": end})

    def collector(self) -> dict[str, Any]:
        """``/api/v1/collector``; from ``/healthz`` and ``/metrics`` on an older collector.

        The fallback answer has the same shape with ``"source": "metrics"``; fields the
        older collector does not expose are None.
        """
        try:
            body = dict(self.get("/api/v1/collector"))
            body.setdefault("source", "api")
            return body
        except EndpointMissing:
            pass
        health = self.healthz()
        try:
            response = self._client.get("/metrics")
        except httpx.HTTPError:
            raise Unreachable(self.base_url + "/metrics", f"cannot reach {self.base_url}") from None
        return collector_from_metrics(health, parse_metrics(response.text), now=time.time())


class DemoClient(_Http):
    """The demo supervisor's control API (default http://127.0.0.1:8003)."""

    def healthz(self) -> dict[str, Any]:
        return self.get("/healthz")

    def status(self) -> dict[str, Any]:
        return self.get("/demo/status")

    def fault(self, projection: str | None, kind: str, **body: Any) -> dict[str, Any]:
        """``kind`` in slow, pause, resume, crash, rebalance (per projection) or poison."""
        if kind == "poison":
            return self.post("/demo/faults/poison", json=body or None)
        if not projection:
            raise ValueError(f"fault {kind!r} needs a projection")
        return self.post(f"/demo/faults/{quote(projection, safe='')}/{kind}", json=body or None)

    def fault_history(self, since: float | None = None) -> list[dict[str, Any]]:
        """``/demo/faults/history``: the faults the demo applied, oldest first (``time``
        epoch seconds, ``projection`` or None, ``kind``, ``detail``, ``in_effect``,
        ``groups``). A demo without it answers 404: ``EndpointMissing``."""
        params = {"since": since} if since is not None else None
        return list(self.get("/demo/faults/history", params).get("faults") or [])

    def load(self, rate: float) -> dict[str, Any]:
        return self.post("/demo/load", json={"rate": rate})

    def load_stop(self) -> dict[str, Any]:
        return self.post("/demo/load/stop")


class BankClient:
    """The demo bank's command API (writes) and query API (reads)."""

    def __init__(self, command_api: str, query_api: str, timeout_s: float = 3.0) -> None:
        self.commands = _Http(command_api, timeout_s)
        self.queries = _Http(query_api, timeout_s)

    def close(self) -> None:
        self.commands.close()
        self.queries.close()

    def send(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.commands.post("/commands", json=command)

    def command(self, command_id: str) -> dict[str, Any]:
        """``{"status": "pending"|"applied"|"rejected", "command_to_visible_s", ...}``."""
        return self.queries.get("/commands/" + quote(command_id, safe=""))

    def account(self, account_id: str) -> dict[str, Any] | None:
        """The balances read model's view; None while the account is not visible."""
        try:
            return self.queries.get("/accounts/" + quote(account_id, safe=""))
        except (NotFound, EndpointMissing):
            return None

    def some_account(self) -> str | None:
        """An account the balances read model already shows, or None when it shows none
        but the collector's own probe account (``lagwatch-*``: not one for people to
        deposit into). The load generator's accounts (``acct-*``) come first."""
        answer = self.queries.get("/balances", params={"limit": 1000})
        ids = [a for a in answer.get("balances") or {} if not a.startswith("lagwatch-")]
        return next((a for a in ids if a.startswith("acct-")), ids[0] if ids else None)

    def write_side(self, account_id: str) -> dict[str, Any]:
        """The balance as the command handler knows it; may be EndpointMissing."""
        return self.commands.get("/accounts/" + quote(account_id, safe="") + "/write-side")


# --- /metrics fallback (pure) ---------------------------------------------------------

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def parse_metrics(text: str, prefix: str = "lagwatch_") -> list[Sample]:
    """Samples of the Prometheus text format whose name starts with ``prefix``.

    Comment lines and unparsable lines are skipped; ``NaN``/``+Inf`` parse as floats.
    """
    out: list[Sample] = []
    for line in text.splitlines():
        if not line.startswith(prefix):
            continue
        match = _SAMPLE.match(line)
        if not match:
            continue
        try:
            value = float(match.group(4))
        except ValueError:
            continue
        labels = dict(_LABEL.findall(match.group(3) or ""))
        out.append(Sample(match.group(1), labels, value))
    return out


def _histogram_quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """Prometheus-style quantile from cumulative ``(le, count)`` buckets."""
    buckets = sorted(buckets)
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower_le, lower_count = 0.0, 0.0
    for le, cumulative in buckets:
        if cumulative >= rank:
            if math.isinf(le):
                return lower_le
            width = cumulative - lower_count
            share = 0.0 if width <= 0 else (rank - lower_count) / width
            return lower_le + (le - lower_le) * share
        lower_le, lower_count = le, cumulative
    return lower_le


def collector_from_metrics(
    health: Mapping[str, Any], samples: list[Sample], now: float
) -> dict[str, Any]:
    """The ``/api/v1/collector`` shape from ``/healthz`` and ``lagwatch_collector_*``.

    Percentiles come from the cycle-duration histogram (bucket interpolation, so
    approximate); fields with no source are None.
    """
    by_name: dict[str, list[Sample]] = {}
    for s in samples:
        by_name.setdefault(s.name, []).append(s)

    def scalar(name: str) -> float | None:
        found = by_name.get(name)
        return found[0].value if found else None

    buckets = [
        (float(s.labels["le"]), s.value)
        for s in by_name.get("lagwatch_collector_cycle_duration_seconds_bucket", [])
        if "le" in s.labels
    ]
    hits = misses = None
    for s in by_name.get("lagwatch_collector_timestamp_cache_lookups_total", []):
        if s.labels.get("result") == "hit":
            hits = s.value
        elif s.labels.get("result") == "miss":
            misses = s.value
    errors = {
        s.labels.get("kind", "?"): int(s.value)
        for s in by_name.get("lagwatch_collector_errors_total", [])
    }
    return {
        "source": "metrics",
        "version": None,
        "started_at": scalar("lagwatch_collector_start_time_seconds"),
        "interval_s": None,
        "cycles": _int_or_none(scalar("lagwatch_collector_cycle_duration_seconds_count")),
        "cycle_seconds_last": health.get("cycle_duration_s"),
        "cycle_seconds_p50": _histogram_quantile(buckets, 0.5),
        "cycle_seconds_p95": _histogram_quantile(buckets, 0.95),
        "errors_total": errors,
        "clusters": [
            {
                "cluster": c.get("cluster"),
                "up": c.get("up"),
                "last_success_at": c.get("last_success_at"),
            }
            for c in health.get("clusters") or []
        ],
        "store": None,
        "timestamp_cache": {
            "hits": _int_or_none(hits),
            "misses": _int_or_none(misses),
            "hit_ratio": scalar("lagwatch_collector_timestamp_cache_hit_ratio"),
        },
        "snapshot_age_s": health.get("age_s"),
        "status": health.get("status"),
        "observed_at": now,
    }


def _int_or_none(value: float | None) -> int | None:
    return None if value is None or math.isnan(value) else int(value)
