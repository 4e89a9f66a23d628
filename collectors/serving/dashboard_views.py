"""API views the dashboard needs beyond the basics: a group's partition-by-time matrix
(``/api/v1/heatmap``) and the collector's own health in one call (``/api/v1/collector``).

Read-only, served from the snapshot and the store like every other view; bad
parameters raise ``BadParameter`` (400 naming the parameter).
"""

from __future__ import annotations

import time
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from collectors.core.model import CollectorStats, Snapshot
from collectors.serving.params import BadParameter, parse_float, parse_range
from collectors.serving.shaping import num
from collectors.store import heatmap
from collectors.store.series import InvalidQuery


class SnapshotProvider(Protocol):
    def snapshot(self) -> Snapshot | None: ...


def register(app: FastAPI, provider: SnapshotProvider, store=None) -> None:
    """Add the dashboard's views to ``app``. ``app.state.interval_s`` (set by the
    caller, optional) is reported by ``/api/v1/collector``."""

    @app.get("/api/v1/heatmap")
    def heatmap_view(request: Request) -> JSONResponse:
        if store is None:
            return JSONResponse({"error": "this collector runs without a store"}, status_code=503)
        params = request.query_params
        group = params.get("group")
        if not group:
            raise BadParameter("group", "required: the consumer group")
        metric = params.get("metric") or "staleness_s"
        now = time.time()
        start, end = parse_range(params, now, 3600)
        cluster = params.get("cluster") or None
        topic = params.get("topic") or None
        try:
            matrix = store.query(
                lambda cursor: heatmap.query(
                    cursor,
                    metric,
                    group,
                    cluster=cluster,
                    topic=topic,
                    start=start,
                    end=end,
                    step=parse_float("step", params.get("step")),
                )
            )
        except InvalidQuery as error:
            raise BadParameter(error.parameter, error.problem) from None
        return JSONResponse(
            {
                "group": group,
                "cluster": cluster,
                "topic": topic,
                "metric": metric,
                "start": start,
                "end": end,
                "step_s": matrix.step_s,
                "times": matrix.times,
                "rows": [
                    {"topic": t, "partition": p, "values": [num(v) for v in values]}
                    for t, p, values in matrix.rows
                ],
            }
        )

    @app.get("/api/v1/collector")
    def collector_view() -> JSONResponse:
        snap = provider.snapshot()
        body: dict[str, Any] = {
            "version": _version(),
            "interval_s": getattr(app.state, "interval_s", None),
            "store": None if store is None else _store_json(store),
        }
        if snap is None:
            return JSONResponse({**body, "started_at": None, "cycles": 0, "clusters": []})
        body.update(stats_json(snap.stats))
        body["last_cycle_at"] = snap.taken_at
        body["clusters"] = [
            {"cluster": c.cluster, "up": c.up, "last_success_at": c.last_success_at,
             "error": c.error}
            for c in snap.clusters
        ]  # fmt: skip
        return JSONResponse(body)


def stats_json(stats: CollectorStats) -> dict[str, Any]:
    """Cycle counts, recent cycle-time percentiles, errors and the timestamp cache."""
    recent = sorted(stats.cycle_durations_s)
    lookups = stats.timestamp_cache_hits + stats.timestamp_cache_misses
    return {
        "started_at": stats.started_at,
        "cycles": stats.cycles_total,
        "cycle_seconds_last": num(stats.cycle_durations_s[-1]) if recent else None,
        "cycle_seconds_p50": num(_quantile(recent, 0.5)),
        "cycle_seconds_p95": num(_quantile(recent, 0.95)),
        "errors_total": dict(stats.errors_total),
        "timestamp_cache": {
            "hits": stats.timestamp_cache_hits,
            "misses": stats.timestamp_cache_misses,
            "hit_ratio": num(stats.timestamp_cache_hits / lookups) if lookups else None,
        },
    }


def _quantile(ordered: list[float], q: float) -> float | None:
    """Nearest-rank quantile of an ascending list; None when empty."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def _store_json(store) -> dict[str, Any]:
    path = Path(store.path)
    size = sum(p.stat().st_size for p in (path, path.with_name(path.name + ".wal")) if p.exists())
    return {
        "path": str(path),
        "size_bytes": size,
        "raw_retention_s": store.raw_retention_s,
        "rollup_retention_s": store.rollup_retention_s,
    }


def _version() -> str | None:
    try:
        return metadata.version("lagwatch")
    except metadata.PackageNotFoundError:
        return None
