"""Adapter: the collector's read-only HTTP surface.

``/metrics`` (Prometheus), ``/healthz``, and ``/api/v1/*`` JSON. Everything is served
from the latest in-memory snapshot or read from the store; nothing here calls Kafka,
and only GET is routed (any other method is 405). Bad parameters answer 400 naming the
parameter; an unknown group answers 404.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse

from collectors.core.model import PartitionLag, Snapshot
from collectors.core.partition_table import PartitionRows
from collectors.core.pipeline import pipeline_staleness
from collectors.core.slo import summarize
from collectors.probe_settings import ProbeSettings
from collectors.serving import consistency, dashboard_views
from collectors.serving.consistency import slo_windows_fields
from collectors.serving.exposition import CONTENT_TYPE, MetricsRenderer
from collectors.serving.liveness import is_stale, stale_view, typical_cycle_s
from collectors.serving.params import BadParameter, parse_float, parse_int, parse_range
from collectors.serving.scrape import ScrapeCache
from collectors.serving.shaping import aggregate_json, group_json, num, partition_json
from collectors.settings import PipelineSettings
from collectors.store.series import InvalidQuery

if TYPE_CHECKING:
    from collectors.store.db import Store

MAX_POINTS = 2000


SnapshotSource = Callable[[], Snapshot | None]


class SnapshotProvider(Protocol):
    def snapshot(self) -> Snapshot | None: ...


def create_app(
    provider: SnapshotProvider,
    *,
    store=None,
    renderer: MetricsRenderer | None = None,
    topology: list[PipelineSettings] | None = None,
    series_metrics: frozenset[str] | None = None,
    probes: list[ProbeSettings] | None = None,
) -> FastAPI:
    scrapes = ScrapeCache(renderer or MetricsRenderer())
    app = FastAPI(title="lagwatch collector", docs_url=None, redoc_url=None, openapi_url=None)
    if series_metrics is None and store is not None:
        from collectors.store.db import SERIES_METRICS

        series_metrics = SERIES_METRICS

    _add_error_handlers(app)

    def current() -> Snapshot | None:
        return provider.snapshot()

    def stale() -> bool:  # the last complete reading is too old to stand for now
        age = getattr(provider, "reading_age", None)
        interval = getattr(app.state, "interval_s", None)
        if age is None or interval is None:
            return False
        snap = current()
        typical = typical_cycle_s(snap.stats.cycle_durations_s) if snap and snap.stats else 0.0
        return is_stale(age(), interval, typical)

    stale_views: dict[int, Snapshot] = {}

    def scraped() -> Snapshot | None:
        snap = current()
        if snap is None or not stale():
            return snap
        view = stale_views.get(id(snap))
        if view is None or view.taken_at != snap.taken_at:
            stale_views.clear()
            view = stale_views[id(snap)] = stale_view(snap)
        return view

    _add_health_routes(app, current, scraped, stale, scrapes)
    _add_group_routes(app, current, store, series_metrics)
    _add_pipeline_routes(app, current, store, topology)
    if probes is None:  # the service knows its configured probes
        probes = list(getattr(getattr(provider, "settings", None), "probes", None) or [])
    consistency.register(app, current, store=store, probes=probes)

    dashboard_views.register(app, provider, store=store)

    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Every bad parameter is a 400 naming it (``BadParameter`` or FastAPI's own)."""

    @app.exception_handler(BadParameter)
    async def _bad(_: Request, error: BadParameter) -> JSONResponse:
        return JSONResponse({"error": str(error), "parameter": error.parameter}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {"loc": ("?",), "msg": "invalid"}
        name = str(first["loc"][-1])
        return JSONResponse(
            {"error": f"invalid parameter '{name}': {first['msg']}", "parameter": name},
            status_code=400,
        )


def _add_health_routes(
    app: FastAPI,
    current: SnapshotSource,
    scraped: SnapshotSource,
    stale: Callable[[], bool],
    scrapes: ScrapeCache,
) -> None:
    """``/metrics`` (from the latest snapshot, withdrawn while stale) and ``/healthz``."""

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        # The latest snapshot as the request arrives, rendered while it is sent.
        gzipped = "gzip" in request.headers.get("accept-encoding", "")
        return StreamingResponse(
            scrapes.stream(scraped(), gzipped),
            media_type=CONTENT_TYPE,
            headers={"Content-Encoding": "gzip"} if gzipped else None,
        )

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        snap = current()
        if snap is None:
            return JSONResponse({"status": "starting", "clusters": []}, status_code=503)
        clusters = [asdict(c) for c in snap.clusters]
        healthy = all(c.up for c in snap.clusters) and not stale()
        return JSONResponse(
            {
                "status": "ok" if healthy else "degraded",
                "last_cycle_at": snap.taken_at,
                "cycle_duration_s": round(snap.cycle_duration_s, 6),
                "age_s": round(time.time() - snap.taken_at, 3),
                "clusters": clusters,
            },
            status_code=200 if healthy else 503,
        )


def _add_group_routes(
    app: FastAPI,
    current: SnapshotSource,
    store: Store | None,
    series_metrics: frozenset[str] | None,
) -> None:
    """Groups now (from the snapshot) and over time (from the store)."""

    @app.get("/api/v1/groups")
    def groups(cluster: str | None = None) -> JSONResponse:
        snap = current()
        rows = [] if snap is None else snap.groups
        return JSONResponse(
            {
                "observed_at": snap.taken_at if snap else None,
                "groups": [group_json(g) for g in rows if cluster in (None, g.cluster)],
            }
        )

    @app.get("/api/v1/groups/{group:path}")  # group names may contain "/"
    def group_detail(group: str, cluster: str | None = None) -> JSONResponse:
        snap = current()
        rows = snap.groups if snap else ()
        found = [g for g in rows if g.group == group and cluster in (None, g.cluster)]
        if not found:
            return JSONResponse({"error": f"unknown group '{group}'"}, status_code=404)
        out = []
        for row in found:
            body = group_json(row)
            body["by_topic"] = [
                {"topic": t.topic, **aggregate_json(t)}
                for t in snap.topics
                if t.group == group and t.cluster == row.cluster
            ]
            body["partitions"] = [
                partition_json(p) for p in _group_partitions(snap, row.cluster, group)
            ]
            out.append(body)
        return JSONResponse(out[0] if len(out) == 1 else {"clusters": out})

    @app.get("/api/v1/series")
    def series(request: Request) -> JSONResponse:
        if store is None:
            return JSONResponse({"error": "this collector runs without a store"}, status_code=503)
        params = request.query_params
        metric = params.get("metric")
        if not metric:
            raise BadParameter("metric", f"required; one of {sorted(series_metrics or ())}")
        if series_metrics is not None and metric not in series_metrics:
            allowed = sorted(series_metrics)
            raise BadParameter("metric", f"unknown metric {metric!r}; one of {allowed}")
        group = params.get("group")
        if not group:
            raise BadParameter("group", "required: the consumer group")
        topic = params.get("topic") or None
        partition = parse_int("partition", params.get("partition"))
        if partition is not None and topic is None:
            raise BadParameter("partition", "needs 'topic' as well")
        now = time.time()
        start, end = parse_range(params, now, 3600)
        step = parse_float("step", params.get("step"))
        try:
            points = store.series(
                metric,
                group,
                cluster=params.get("cluster") or None,
                topic=topic,
                partition=partition,
                start=start,
                end=end,
                step=step,
                max_points=MAX_POINTS,
            )
        except InvalidQuery as error:  # e.g. 'members' exists per group only
            raise BadParameter(error.parameter, error.problem) from None
        return JSONResponse(
            {
                "metric": metric,
                "group": group,
                "topic": topic,
                "partition": partition,
                "start": start,
                "end": end,
                "points": [[t, num(v)] for t, v in points],
            }
        )

    @app.get("/api/v1/annotations")
    def annotations(request: Request) -> JSONResponse:
        params = request.query_params
        # The same time forms as /series (epoch seconds or ISO-8601), checked first.
        start, end = parse_range(params, time.time(), 86400, allow_empty=True)
        if store is None:
            return JSONResponse({"annotations": []})
        rows = store.annotations(start, end, group=params.get("group") or None)
        return JSONResponse({"annotations": [asdict(a) for a in rows]})


def _add_pipeline_routes(
    app: FastAPI,
    current: SnapshotSource,
    store: Store | None,
    topology: list[PipelineSettings] | None,
) -> None:
    """Read models' SLOs and the configured CQRS pipelines."""

    @app.get("/api/v1/slo")
    def slo_view() -> JSONResponse:
        snap = current()
        out = []
        for state in snap.slos if snap else ():
            summary = summarize(state)
            out.append(
                {
                    "cluster": state.cluster,
                    "group": state.group,
                    "target_s": state.target_s,
                    "objective": state.objective,
                    "observations_total": state.observations_total,
                    "good_total": state.good_total,
                    "compliance": num(summary.compliance),
                    "error_budget_remaining": num(summary.error_budget_remaining),
                    "meeting_objective": summary.meeting_objective,
                    **slo_windows_fields(store, state, time.time()),
                }
            )
        return JSONResponse({"since": snap.stats.started_at if snap else None, "slos": out})

    @app.get("/api/v1/topology")
    def topology_view() -> JSONResponse:
        snap = current()
        status = {(g.cluster, g.group): g for g in (snap.groups if snap else ())}

        def stage(cluster: str, group: str) -> dict[str, Any]:
            row = status.get((cluster, group))
            return {
                "group": group,
                "status": str(row.lag.status) if row else None,
                "offset_lag": row.lag.offset_lag if row else None,
                "staleness_s": num(row.lag.staleness_s) if row else None,
            }

        pipelines = []
        for p in topology or []:
            handler = stage(p.cluster, p.handler_group)
            projections = [stage(p.cluster, g) for g in p.projection_groups]
            staleness = pipeline_staleness(
                handler["staleness_s"], (s["staleness_s"] for s in projections)
            )
            pipelines.append(
                {
                    "name": p.name,
                    "cluster": p.cluster,
                    "commands_topic": p.commands_topic,
                    "handler": handler,
                    "events_topic": p.events_topic,
                    "projections": projections,
                    "staleness_s": staleness,
                }
            )
        return JSONResponse({"pipelines": pipelines})


def _group_partitions(snap: Snapshot, cluster: str, group: str) -> list[PartitionLag]:
    """One group's partitions; a collector's ``PartitionRows`` finds them without
    building a row object for each of the other groups' partitions."""
    rows = snap.partitions
    if isinstance(rows, PartitionRows):
        return rows.group_rows(cluster, group)
    return [p for p in rows if p.key.group == group and p.key.cluster == cluster]
