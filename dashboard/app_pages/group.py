"""Group: one consumer group over time. The selection lives in the URL
(``?group=&cluster=&collector=&range=&view=&start=&end=``), so a link is a view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import streamlit as st

from dashboard import charts, data, fmt, ui
from dashboard.client import ApiError, EndpointMissing, NotFound, SeriesRequest

MAX_PARTITION_LINES = 12  # partition view: the worst N partitions get a line each
MAX_FALLBACK_PARTITIONS = 64  # heatmap fallback: per-partition series calls at most

cfg = ui.config()
tz, _ = ui.viewer_zone()
st.title("Group")


def choices() -> tuple[list[tuple[str, str, str]], dict[str, ApiError]]:
    """(collector, cluster, group) of every group, and the collectors that failed."""
    out: list[tuple[str, str, str]] = []
    failures: dict[str, ApiError] = {}
    for url in cfg.collectors:
        try:
            answer = ui.groups(url)
        except ApiError as error:
            failures[url] = error
            continue
        out += [(url, g.get("cluster") or "", g.get("group") or "") for g in answer["groups"]]
    return sorted(out, key=lambda c: (c[2], c[1], c[0])), failures


def waiting(failures: dict[str, ApiError]) -> None:
    """Banner while a collector is down; reruns the whole page once it answers."""
    for url, error in failures.items():
        ui.collector_banner(url, error)

    def poll() -> None:
        for url in failures:
            try:
                ui.groups.clear()
                ui.collector(url).healthz()
            except ApiError:
                return
        st.rerun()

    ui.live(poll)


options, failures = choices()
if not options:
    if failures:
        waiting(failures)
    else:
        st.info(
            "No consumer group yet. Start a consumer (or `lagwatch demo up`) and it will "
            "show here within a collection cycle.",
            icon=":material/info:",
        )
        ui.live(lambda: None)
    st.stop()

wanted = (ui.param("collector"), ui.param("cluster"), ui.param("group"))
index = 0
for i, (url, cluster, group) in enumerate(options):
    if group == wanted[2] and wanted[1] in (None, cluster) and wanted[0] in (None, url):
        index = i
        break
many = len(cfg.collectors) > 1


def label(choice: tuple[str, str, str]) -> str:
    url, cluster, group = choice
    return f"{group}  ({cluster}{' @ ' + url if many else ''})"


c1, c2, c3 = st.columns([4, 3, 2])
choice = c1.selectbox("group", options, index=index, format_func=label)
url, cluster, group = choice
range_name = (
    c2.segmented_control(
        "range", ["5m", "1h", "24h", "7d", "custom"], default=ui.param("range", "1h")
    )
    or "1h"
)
view = (
    c3.segmented_control("lines per", ["topic", "partition"], default=ui.param("view", "topic"))
    or "topic"
)
custom: tuple[float, float] | None = None
if range_name == "custom":
    now = ui.now()
    start_default = float(ui.param("start", str(now - 3600)) or now - 3600)
    end_default = float(ui.param("end", str(now)) or now)
    d1, d2 = st.columns(2)
    start_dt = d1.datetime_input("from", datetime.fromtimestamp(start_default, tz))
    end_dt = d2.datetime_input("to", datetime.fromtimestamp(end_default, tz))
    custom = (
        start_dt.replace(tzinfo=start_dt.tzinfo or tz).timestamp(),
        end_dt.replace(tzinfo=end_dt.tzinfo or tz).timestamp(),
    )
    if custom[0] >= custom[1]:
        st.warning("'from' must be before 'to'; showing the minute before 'to'.")
ui.set_params(
    group=group,
    cluster=cluster or None,
    collector=url if many else None,
    range=range_name,
    view=view,
    start=str(int(custom[0])) if custom else None,
    end=str(int(custom[1])) if custom else None,
)


def load_detail() -> dict[str, Any] | None:
    try:
        return ui.group_detail(url, group, cluster or None)
    except NotFound:
        st.warning(
            f"The collector at {url} no longer reports group `{group}` (deleted, or "
            "excluded by its include/exclude patterns). Pick another group above.",
            icon=":material/warning:",
        )
    except ApiError as error:
        ui.collector_banner(url, error)
    return None


def now_tiles() -> None:
    detail = load_detail()
    if detail is None:
        return
    cols = st.columns(5)
    ui.tile(cols[0], "status", detail.get("status") or "UNKNOWN",
            f"{detail.get('state') or '?'} · members {fmt.count(detail.get('members'))}",
            detail.get("status"))  # fmt: skip
    ui.tile(cols[1], "staleness (max)", fmt.seconds(detail.get("staleness_s")),
            f"data age {fmt.seconds(detail.get('data_age_s'))}")  # fmt: skip
    ui.tile(cols[2], "offset lag (sum)", fmt.count(detail.get("offset_lag")),
            f"{len(detail.get('partitions') or [])} partitions")  # fmt: skip
    eta = detail.get("eta_s")
    ui.tile(
        cols[3],
        "ETA to catch up",
        fmt.seconds(eta),
        _eta_note(eta, detail.get("offset_lag")),
    )
    ui.tile(cols[4], "consume / produce", fmt.rate(detail.get("consume_rate")),
            f"produce {fmt.rate(detail.get('produce_rate'))}")  # fmt: skip


def _eta_note(eta: float | None, lag: float | None) -> str:
    """Why the ETA is what it is: a blank ETA means different things at lag 0 and lag N."""
    if eta is not None:
        return "at current rates"
    if lag == 0:
        return "nothing to catch up"
    if lag is None:
        return "unknown: offset lag unknown"
    return "not catching up: consuming no faster than producing"


def window() -> tuple[float, float]:
    return data.range_window(range_name, ui.now(), custom)


def frames(requests: list[SeriesRequest]) -> dict[str, Any]:
    answers = ui.series_batch(url, tuple(requests))
    out = {}
    for request in requests:
        answer = answers.get(request.key)
        out[request.key] = None if isinstance(answer, ApiError) else answer
    return out


def history() -> None:
    detail = load_detail()
    if detail is None:
        return
    start, end = window()
    step = data.series_step(start, end)
    common = {"group": group, "cluster": cluster or None, "start": start, "end": end,
              "step": step}  # fmt: skip
    if view == "partition":
        parts = data.partitions_frame(detail).head(MAX_PARTITION_LINES)
        lines = [(f"{t}[{int(p)}]", t, int(p)) for t, p in zip(parts["topic"], parts["partition"],
                                                              strict=True)]  # fmt: skip
    else:
        lines = [(t["topic"], t["topic"], None) for t in detail.get("by_topic") or []]
    requests = [
        SeriesRequest(key=f"{metric}|{name}", metric=metric, topic=topic, partition=partition,
                      **common)
        for name, topic, partition in lines
        for metric in ("staleness_s", "offset_lag")
    ]  # fmt: skip
    requests += [
        SeriesRequest(key=f"{metric}|group", metric=metric, **common)
        for metric in ("consume_rate", "produce_rate", "eta_s")
    ]
    answers = frames(requests)
    try:
        notes = ui.annotations(url, start, end, group)
    except ApiError:
        notes = []
    notes = data.merge_annotations(notes, ui.demo_fault_notes(group, start, end))

    def frame(key: str):
        return data.series_frame(answers.get(key), tz, step=step, until=end)

    staleness = {name: frame(f"staleness_s|{name}") for name, _, _ in lines}
    lag = {name: frame(f"offset_lag|{name}") for name, _, _ in lines}
    if not any(f["value"].notna().any() for f in staleness.values()):
        if view == "partition":
            why = ("partition samples are stored every cycle on a small cluster, less often "
                   "on a big one (store.partition_sample_interval_s); the topic view has a "
                   "sample per cycle")  # fmt: skip
        else:
            why = "the collector stores one sample per cycle"
        st.info(f"No {view} history for this group in this range yet: {why}. Widen the "
                "range or wait a few seconds.", icon=":material/info:")  # fmt: skip
    title = f"{group}: staleness and offset lag per {view}"
    if view == "partition" and len(detail.get("partitions") or []) > MAX_PARTITION_LINES:
        title += f" (worst {MAX_PARTITION_LINES} partitions)"
    shown = data.shown_window(answers.values(), start, end)  # one x range for every chart
    st.plotly_chart(charts.lag_over_time(staleness, lag, notes, tz, title, shown), key="lag")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(
            charts.rates(frame("consume_rate|group"), frame("produce_rate|group"), tz, shown),
            key="rates",
        )
    with right:
        st.plotly_chart(charts.eta_over_time(frame("eta_s|group"), tz, shown), key="eta")
    heat = heatmap(detail, start, end)
    if heat is not None:
        st.plotly_chart(charts.partition_heatmap(heat, tz, shown), key="heatmap")


def heatmap(detail: dict[str, Any], start: float, end: float) -> dict[str, Any] | None:
    """``/api/v1/heatmap``, or per-partition series when the collector predates it."""
    params = (("cluster", cluster or None), ("start", start), ("end", end))
    try:
        return ui.heatmap(url, group, params)
    except EndpointMissing:
        pass
    except ApiError as error:
        st.caption(f"heatmap unavailable: {error}")
        return None
    parts = detail.get("partitions") or []
    if len(parts) > MAX_FALLBACK_PARTITIONS:
        st.caption(
            f"Partition heatmap: this collector has no /api/v1/heatmap and the group has "
            f"{len(parts)} partitions (more than {MAX_FALLBACK_PARTITIONS} separate calls); "
            "upgrade the collector to see it."
        )
        return None
    step = data.series_step(start, end, points=120)
    requests = [
        SeriesRequest(key=f"{p['topic']}|{p['partition']}", metric="staleness_s", group=group,
                      cluster=cluster or None, topic=p["topic"], partition=p["partition"],
                      start=start, end=end, step=step)
        for p in parts
    ]  # fmt: skip
    answers = frames(requests)
    pairs = {(p["topic"], p["partition"]): answers.get(f"{p['topic']}|{p['partition']}") or {}
             for p in parts}  # fmt: skip
    return data.heatmap_from_series(group, pairs, step)


def partition_table() -> None:
    detail = load_detail()
    if detail is None:
        return
    frame = data.partitions_frame(detail)
    frame["error"] = frame["error"].fillna("")
    frame["staleness_method"] = frame["staleness_method"].fillna(fmt.MISSING)
    frame = data.for_table(
        frame,
        (
            "committed",
            "log_end",
            "offset_lag",
            "staleness_s",
            "data_age_s",
            "eta_s",
            "consume_rate",
            "produce_rate",
        ),
    )
    styled = frame.style.map(ui.status_css, subset=["status"]).format(
        {
            "committed": fmt.count, "log_end": fmt.count, "offset_lag": fmt.count,
            "staleness_s": fmt.seconds, "data_age_s": fmt.seconds, "eta_s": fmt.seconds,
            "consume_rate": fmt.rate, "produce_rate": fmt.rate,
        },
        na_rep=fmt.MISSING,
    )  # fmt: skip
    st.dataframe(
        styled, hide_index=True, height=min(38 + 35 * len(frame), 500),
        column_config={
            "staleness_s": st.column_config.NumberColumn("staleness"),
            "staleness_method": st.column_config.TextColumn(
                "method", help="exact: read from the record; estimated: interpolated"),
            "data_age_s": st.column_config.NumberColumn("data age"),
            "offset_lag": st.column_config.NumberColumn("offset lag"),
            "log_end": st.column_config.NumberColumn("log end"),
            "eta_s": st.column_config.NumberColumn(
                "ETA", help="— = not catching up (or unknown); sorts as the longest"),
            "consume_rate": st.column_config.NumberColumn("consume"),
            "produce_rate": st.column_config.NumberColumn("produce"),
        },
    )  # fmt: skip
    st.caption("— = unknown (never shown as 0; sorts as the largest value).")


ui.live(now_tiles)
ui.live(history)
st.subheader("Partitions")
ui.live(partition_table)
