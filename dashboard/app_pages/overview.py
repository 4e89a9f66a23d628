"""Overview: is anything wrong, and where? Tiles, the pipeline flow, the groups table."""

from __future__ import annotations

import contextlib
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, flow, fmt, theme, ui
from dashboard.client import ApiError
from dashboard.theme import STATUS_SEVERITY

cfg = ui.config()
many = len(cfg.collectors) > 1

st.title("Overview")
st.caption("How stale is each read model right now, and where does it hurt?")


def fetch_groups() -> tuple[list[dict[str, Any]], dict[str, ApiError]]:
    """Groups of every collector (each row tagged with its collector) and the failures."""
    rows: list[dict[str, Any]] = []
    failures: dict[str, ApiError] = {}
    for url in cfg.collectors:
        try:
            answer = ui.groups(url)
        except ApiError as error:
            failures[url] = error
            continue
        rows += [{**g, "_collector": url} for g in answer.get("groups") or []]
    return rows, failures


def overview() -> None:
    """Tiles, pipeline and table from one fetch of the groups, so the three never show
    two different cycles side by side (one fragment, one refresh)."""
    rows, failures = fetch_groups()
    tiles(rows, failures)
    st.subheader("Pipeline")
    pipelines(rows)
    st.subheader("Consumer groups")
    groups_table(rows, failures)


def tiles(rows: list[dict[str, Any]], failures: dict[str, ApiError]) -> None:
    for url, error in failures.items():
        ui.collector_banner(url, error)
    slos: list[dict[str, Any]] = []
    health: list[tuple[str, dict[str, Any] | None]] = []
    for url in cfg.collectors:
        if url in failures:
            health.append((url, None))
            continue
        with contextlib.suppress(ApiError):
            slos += ui.slo(url).get("slos") or []
        try:
            health.append((url, ui.healthz(url)))
        except ApiError:
            health.append((url, None))
    head = data.headline(rows, slos)
    c1, c2, c3, c4 = st.columns(4)
    if head.worst_group is None:
        ui.tile(c1, "worst staleness now", fmt.MISSING, "no group with a known staleness yet")
    else:
        ui.tile(
            c1, "worst staleness now", fmt.seconds(head.worst_staleness_s),
            head.worst_group, head.worst_status,
        )  # fmt: skip
    if head.slo_total == 0:
        ui.tile(c2, "read models within SLO", fmt.MISSING, "no [[slo]] configured")
    else:
        failing = ", ".join(head.slo_failing[:3])
        ui.tile(
            c2, "read models within SLO", f"{head.slo_meeting} / {head.slo_total}",
            f"missed by: {failing}" if failing else _slo_note(head),
            verdict=_slo_verdict(head),
        )  # fmt: skip
    attention = ", ".join(head.attention_groups[:3])
    more = head.needs_attention - min(3, head.needs_attention)
    ui.tile(
        c3, "groups needing attention", f"{head.needs_attention} / {head.groups}",
        (attention + (f" +{more} more" if more else "")) if attention else
        "none: every group OK, IDLE or replaying",
        head.attention_status,  # the worst group's own status, first in the list
    )  # fmt: skip
    up = [h for _, h in health if h is not None]
    ok = [h for h in up if h.get("status") == "ok"]
    cycle = max((h.get("cycle_duration_s") or 0 for h in up), default=None)
    age = max((h.get("age_s") or 0 for h in up), default=None)
    note = f"cycle {fmt.seconds(cycle)}, data {fmt.seconds(age)} old" if up else "no answer"
    verdict = (
        theme.COLLECTOR_HEALTHY if len(ok) == len(health)
        else theme.COLLECTOR_DOWN if not up else theme.COLLECTOR_DEGRADED
    )  # fmt: skip
    ui.tile(c4, "collector health", f"{len(ok)} / {len(health)} healthy", note, verdict=verdict)


def _slo_verdict(head: data.Headline) -> tuple[str, str]:
    """SLO words, never a group status: missed if any read model misses its objective,
    met if all meet it, unknown while some have no verdict yet (no observations)."""
    if head.slo_failing:
        return theme.SLO_MISSED
    if head.slo_meeting == head.slo_total:
        return theme.SLO_MET
    return theme.SLO_UNKNOWN


def _slo_note(head: data.Headline) -> str:
    unknown = head.slo_total - head.slo_meeting
    return "all meeting their objective" if not unknown else f"{unknown} without a verdict yet"


def pipelines(rows: list[dict[str, Any]]) -> None:
    found = False
    for url in cfg.collectors:
        try:
            answer = ui.topology(url)
        except ApiError:
            continue  # the tiles fragment shows the banner
        groups = [r for r in rows if r["_collector"] == url]
        for pipeline in answer.get("pipelines") or []:
            found = True
            pipeline = data.current_pipeline(pipeline, groups)  # the table's cycle
            stages = [pipeline.get("handler") or {}, *(pipeline.get("projections") or [])]
            links = {
                str(s["group"]): data.group_link(
                    str(s["group"]), pipeline.get("cluster"), url if many else None
                )
                for s in stages
                if s.get("group")
            }
            st.markdown(flow.pipeline_svg(pipeline, links), unsafe_allow_html=True)
    if not found:
        st.info(
            "No CQRS pipeline configured. Add a `[[pipelines]]` section to the collector's "
            "TOML (`name`, `cluster`, `commands_topic`, `handler_group`, `events_topic`, "
            "`projection_groups`; see docs/configuration.md) to see the flow from commands "
            "to read models here.",
            icon=":material/info:",
        )


def groups_table(rows: list[dict[str, Any]], failures: dict[str, ApiError]) -> None:
    if not rows:
        if not failures:
            st.info(
                "The collector answers but sees no consumer group yet. Start a consumer "
                "(or `lagwatch demo up`), or check the collector's `include`/`exclude` "
                "patterns.",
                icon=":material/info:",
            )
        return
    frame = data.groups_frame(rows)
    frame["collector"] = [r["_collector"] for r in _sorted_like(frame, rows)]
    f1, f2, f3 = st.columns([2, 3, 3])
    clusters = f1.multiselect("cluster", sorted(frame["cluster"].unique()), key="f_cluster")
    present = [s for s in STATUS_SEVERITY if s in set(frame["status"])]
    statuses = f2.multiselect("status", present, key="f_status")
    name = f3.text_input("group name contains", key="f_name")
    shown = data.filter_groups(frame, clusters, statuses, name)
    # sparklines only for the first N rows of the current (worst-first) view: one
    # parallel, cached batch per collector instead of one request per group
    head = shown.head(ui.SPARKLINE_GROUPS)
    sparks: dict[tuple[str, str], list] = {}
    end_bucket = int(ui.now() // ui.SPARKLINE_STEP_S)
    for url in cfg.collectors:
        keys = tuple(
            (c, g) for c, g, u in zip(head["cluster"], head["group"], head["collector"],
                                      strict=True) if u == url
        )  # fmt: skip
        if keys and url not in failures:
            sparks.update(ui.sparklines(url, keys, end_bucket))
    shown = shown.copy()
    shown["trend"] = [sparks.get((c, g)) for c, g in zip(shown["cluster"], shown["group"],
                                                         strict=True)]  # fmt: skip
    if many:
        shown["open"] = [
            data.group_link(g, c, u)
            for g, c, u in zip(shown["group"], shown["cluster"], shown["collector"], strict=True)
        ]
    view = shown if many else shown.drop(columns="collector")
    view = data.for_table(view, NUMERIC_COLUMNS)
    styled = view.style.map(ui.status_css, subset=["status"]).format(
        {
            "staleness_s": fmt.seconds,
            "eta_s": fmt.seconds,
            "data_age_s": fmt.seconds,
            "offset_lag": fmt.count,
            "consume_rate": fmt.rate,
            "produce_rate": fmt.rate,
            "members": fmt.count,
            "partitions": fmt.count,
        },
        na_rep=fmt.MISSING,
    )
    # The link first, where it is seen without scrolling sideways; the cluster column
    # only when there is more than one.
    first = ["status", "open", "group", "cluster"]
    if frame["cluster"].nunique() <= 1:
        first.remove("cluster")
    order = [c for c in first if c in view.columns]
    order += [c for c in view.columns if c not in first and c != "cluster"]
    st.dataframe(
        styled,
        hide_index=True,
        height=min(38 + 35 * len(view), 600),
        column_order=order,
        column_config={
            "status": st.column_config.TextColumn("status", width="small"),
            "staleness_s": st.column_config.NumberColumn("staleness", help="max over partitions"),
            "trend": st.column_config.LineChartColumn(
                "staleness, last 15 min",
                width="medium",
                y_min=0,
                help=f"shown for the first {ui.SPARKLINE_GROUPS} rows of the current view",
            ),
            "offset_lag": st.column_config.NumberColumn("offset lag", help="records"),
            "eta_s": st.column_config.NumberColumn(
                "ETA", help="— = not catching up (or unknown); sorts as the longest"
            ),
            "data_age_s": st.column_config.NumberColumn("data age"),
            "consume_rate": st.column_config.NumberColumn("consume"),
            "produce_rate": st.column_config.NumberColumn("produce"),
            "open": st.column_config.LinkColumn("details", display_text="open ↗", width="small"),
        },
    )
    st.caption(
        f"{len(shown)} of {len(frame)} groups, worst first; click a column header to sort. "
        f"Sparklines for the first {ui.SPARKLINE_GROUPS} rows of this view (filter to see "
        "others). — = unknown (never shown as 0; sorts as the largest value)."
    )


NUMERIC_COLUMNS = ("staleness_s", "eta_s", "data_age_s", "offset_lag", "consume_rate",
                   "produce_rate", "members", "partitions")  # fmt: skip


def _sorted_like(frame: pd.DataFrame, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The raw rows in the frame's (sorted) order, matched on (cluster, group, collector)."""
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        by_key.setdefault((r.get("cluster") or "", r.get("group") or ""), []).append(r)
    return [by_key[(c, g)].pop(0) for c, g in zip(frame["cluster"], frame["group"], strict=True)]


ui.live(overview)
