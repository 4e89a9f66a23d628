"""Collector: is the collector itself healthy? Cycle time, errors, clusters, store,
timestamp cache. From /api/v1/collector, or /healthz + /metrics on an older collector."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, fmt, ui
from dashboard.client import ApiError
from dashboard.theme import BLUE, COLLECTOR_DOWN, COLLECTOR_HEALTHY, ORANGE

cfg = ui.config()
tz, _ = ui.viewer_zone()
st.title("Collector")


def section(url: str) -> None:
    try:
        info = ui.collector_info(url)
    except ApiError as error:
        ui.collector_banner(url, error)
        return
    clusters = info.get("clusters") or []
    up = [c for c in clusters if c.get("up")]
    errors = info.get("errors_total") or {}
    cache = info.get("timestamp_cache") or {}
    store = info.get("store")
    interval = info.get("interval_s")
    last = info.get("cycle_seconds_last")
    slow = interval is not None and last is not None and last > interval
    cols = st.columns(5)
    ui.tile(cols[0], "cycle time (last)", fmt.seconds(last),
            f"p95 {fmt.seconds(info.get('cycle_seconds_p95'))}"
            + (f" · interval {fmt.seconds(interval)}" if interval else ""),
            verdict=("over interval", ORANGE) if slow else ("within interval", BLUE))  # fmt: skip
    ui.tile(cols[1], "clusters up", f"{len(up)} / {len(clusters)}",
            ", ".join(str(c.get("cluster")) for c in clusters if not c.get("up")) or "all reached",
            verdict=COLLECTOR_HEALTHY if clusters and len(up) == len(clusters)
            else COLLECTOR_DOWN)  # fmt: skip
    total = sum(errors.values())
    ui.tile(cols[2], "errors since start", fmt.count(total),
            ", ".join(f"{k} {v}" for k, v in errors.items() if v) or "none")  # fmt: skip
    if store:
        ui.tile(cols[3], "store", fmt.size(store.get("size_bytes")),
                f"raw kept {fmt.seconds(store.get('raw_retention_s'))}, rollups "
                f"{fmt.seconds(store.get('rollup_retention_s'))}")  # fmt: skip
    else:
        note = "not reported by this collector" if info.get("source") == "metrics" else "no store"
        ui.tile(cols[3], "store", fmt.MISSING, note)
    ui.tile(
        cols[4],
        "timestamp cache hit ratio",
        fmt.percent(cache.get("hit_ratio")),
        f"{fmt.count(cache.get('hits'))} hits / {fmt.count(cache.get('misses'))} misses",
    )
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.cycle_times(info), key=f"cycle-{url}")
    with right:
        st.plotly_chart(charts.errors_by_kind(errors), key=f"errors-{url}")
    if clusters:
        st.dataframe(
            pd.DataFrame(
                {
                    "cluster": [c.get("cluster") for c in clusters],
                    "up": ["up" if c.get("up") else "DOWN" for c in clusters],
                    "last success": [fmt.clock(c.get("last_success_at"), tz) for c in clusters],
                }
            ),
            hide_index=True,
        )
    started = info.get("started_at")
    source = "" if info.get("source") != "metrics" else (
        " · read from /healthz and /metrics (this collector has no /api/v1/collector)"
    )  # fmt: skip
    st.caption(
        f"version {info.get('version') or '?'} · started {fmt.clock(started, tz)} · "
        f"{fmt.count(info.get('cycles'))} cycles{source}"
    )


for collector_url in cfg.collectors:
    st.subheader(collector_url)
    ui.live(lambda u=collector_url: section(u))
