"""Routes of the consistency window (issue 12): ``/api/v1/visibility``, ``/api/v1/probes``
and the windows of ``/api/v1/slo``. Shapes: ``docs/api.md``.

Statistics are computed from the stored samples at request time by the pure functions
of ``core.visibility``, ``core.probes`` and ``core.slo``; nothing here calls Kafka.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from collectors.core import probes as probe_math
from collectors.core import slo as slo_math
from collectors.core.consistency import WindowStats
from collectors.core.model import SloState, Snapshot
from collectors.core.visibility import (
    CurvePoint,
    LatencyStats,
    bucket_series,
    histogram,
    latency_stats,
    t_visibility,
)
from collectors.serving.params import BadParameter, parse_range
from collectors.serving.shaping import num
from collectors.store import consistency as sql

SERIES_BUCKETS = 120  # time buckets of the visibility series
RECENT_PROBES = 100  # per probe, newest last
NO_STORE = {"error": "this collector runs without a store"}


def register(
    app: FastAPI,
    current: Callable[[], Snapshot | None],
    store=None,
    probes: Sequence[Any] = (),
) -> None:
    """Add the visibility and probe routes to ``app``. ``probes``: the configured
    ``ProbeSettings`` (listed even before their first sample)."""

    @app.get("/api/v1/visibility")
    def visibility(request: Request) -> JSONResponse:
        params = request.query_params
        group = params.get("group")
        if not group:
            raise BadParameter("group", "required: the consumer group")
        topic = params.get("topic") or None
        cluster = params.get("cluster") or None
        now = time.time()
        start, end = parse_range(params, now, 3600)
        if store is None:
            return JSONResponse(NO_STORE, status_code=503)
        values = store.query(
            lambda c: sql.visibility_values(c, group, start, end, cluster=cluster, topic=topic)
        )
        if not len(values.latency_s) and not values.replay_count:
            snap = current()
            known = snap is not None and any(
                g.group == group and cluster in (None, g.cluster) for g in snap.groups
            )
            if not known and not store.query(lambda c: sql.has_group(c, group)):
                return JSONResponse({"error": f"unknown group '{group}'"}, status_code=404)
        step = (end - start) / SERIES_BUCKETS
        hist = histogram(values.latency_s)
        body = {
            "group": group,
            "cluster": cluster or (values.clusters[0] if len(values.clusters) == 1 else None),
            "topic": topic,
            "start": start,
            "end": end,
            "source": "passive",
            **stats_json(latency_stats(values.latency_s)),
            "replay_count": values.replay_count,
            "histogram": {"bounds": list(hist.bounds), "counts": list(hist.counts)},
            "curve": curve_json(t_visibility(values.latency_s)),
            "step_s": step,
            "series": [
                {"t": b.t, "p50": num(b.p50), "p99": num(b.p99), "count": b.count}
                for b in bucket_series(values.observed_at, values.latency_s, start, step)
            ],
        }
        return JSONResponse(body)

    @app.get("/api/v1/probes")
    def probes_view(request: Request) -> JSONResponse:
        params = request.query_params
        now = time.time()
        start, end = parse_range(params, now, 3600)
        if not probes:
            return JSONResponse({"probes": []})
        if store is None:
            return JSONResponse(NO_STORE, status_code=503)
        by_probe = probe_math.group_by_probe(
            store.query(lambda c: sql.probe_samples(c, start, end))
        )
        out = []
        for p in probes:
            samples = by_probe.get(p.name, [])
            summary = probe_math.summarize_probe(p.name, p.target or p.check.url, samples)
            out.append(
                {
                    "name": p.name,
                    "target": summary.target,
                    "enabled": p.enabled,
                    "count": summary.count,
                    "visible": summary.visible,
                    "failures": summary.failures,
                    "failure_reasons": summary.reasons,
                    **stats_json(summary.stats),
                    "curve": curve_json(summary.curve),
                    "recent": [probe_json(s) for s in samples[-RECENT_PROBES:]],
                }
            )
        return JSONResponse({"start": start, "end": end, "probes": out})


def stats_json(stats: LatencyStats) -> dict[str, Any]:
    return {
        "count": stats.count,
        "p50": num(stats.p50),
        "p90": num(stats.p90),
        "p99": num(stats.p99),
        "p999": num(stats.p999),
        "max": num(stats.max),
    }


def curve_json(points: list[CurvePoint]) -> list[dict[str, float]]:
    return [{"t": round(p.t, 6), "p": round(p.p, 6)} for p in points]


def probe_json(s: probe_math.ProbeSample) -> dict[str, Any]:
    return {
        "probe_id": s.probe_id,
        "started_at": s.started_at,
        "start_source": s.start_source,
        "visible_at": s.visible_at,
        "latency_s": num(s.latency_s),
        "outcome": s.outcome,
        "reason": s.reason,
        "checks": s.checks,
    }


def slo_windows_fields(store, state: SloState, now: float) -> dict[str, Any]:
    """``windows`` and ``period_s`` of one SLO for ``/api/v1/slo`` (windows null
    without a store: they come from the stored history)."""
    if store is None:
        return {"windows": None, "period_s": state.period_s}
    reach = max(state.period_s, max(w for _, w in slo_math.WINDOWS))
    after = slo_math.bucket_end(now) - reach
    ends, good, total = store.query(lambda c: sql.slo_minutes(c, state.cluster, state.group, after))
    windows = slo_math.all_windows(
        np.asarray(ends), np.asarray(good), np.asarray(total), now, state
    )
    return {"windows": windows_json(windows), "period_s": state.period_s}


def windows_json(windows: dict[str, WindowStats]) -> dict[str, dict[str, Any]]:
    return {
        name: {
            "compliance": num(w.compliance),
            "burn_rate": num(w.burn_rate),
            "error_budget_remaining": num(w.error_budget_remaining),
            "observations": w.observations,
            "good": w.good,
        }
        for name, w in windows.items()
    }
