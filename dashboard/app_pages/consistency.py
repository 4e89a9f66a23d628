"""Consistency: how long until a write is visible on the read side, and are the
freshness SLOs met? Passive visibility, active probes, SLO compliance and burn rates.
Every section says what it will show, and how to enable it, while its data is missing."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import charts, data, fmt, theme, ui
from dashboard.client import ApiError, EndpointMissing, Unreachable

INFO = ":material/info:"
cfg = ui.config()
url = ui.param("collector", cfg.collectors[0]) or cfg.collectors[0]
if url not in cfg.collectors:
    url = cfg.collectors[0]
tz, _ = ui.viewer_zone()

st.title("Consistency")
st.caption(
    "Visibility latency: from a command being accepted to its effect being readable. "
    "t-visibility: the chance a read t seconds later already sees the write."
)


SLO_VERDICTS = {True: theme.SLO_MET, False: theme.SLO_MISSED, None: theme.SLO_UNKNOWN}


def _slo_word(meeting: bool | None) -> str:
    """SLO words, not group statuses: "SLO met", "SLO missed", "SLO unknown"."""
    return SLO_VERDICTS.get(meeting, theme.SLO_UNKNOWN)[0]


def _slo_css(word: str) -> str:
    color = next((c for w, c in SLO_VERDICTS.values() if w == word), theme.GREY)
    return f"background-color:{color};color:{theme.text_on(color)};font-weight:600"


def slo_section() -> None:
    try:
        answer = ui.slo(url)
    except ApiError as error:
        ui.collector_banner(url, error)
        return
    slos = answer.get("slos") or []
    if not slos:
        st.info(
            "**Freshness SLOs** will show here: compliance, error budget left and burn "
            "rates per read model. Enable them with `[[slo]]` sections in the collector's "
            'TOML, e.g. `[[slo]]  group = "bank-.*"  target_s = 2.0  objective = 0.99`.',
            icon=INFO,
        )
        return
    rows = []
    for s in slos:
        rows.append(
            {
                "SLO": _slo_word(s.get("meeting_objective")),
                "read model": s.get("group"),
                "cluster": s.get("cluster"),
                "target": fmt.seconds(s.get("target_s")),
                "objective": fmt.percent(s.get("objective"), 2),
                "compliance": fmt.percent(s.get("compliance"), 2),
                "error budget left": fmt.error_budget(s.get("error_budget_remaining")),
                "observations": fmt.count(s.get("observations_total")),
            }
        )
    frame = pd.DataFrame(rows)
    styled = frame.style.map(_slo_css, subset=["SLO"])
    st.dataframe(styled, hide_index=True)
    st.caption(f"since the collector started ({fmt.clock(answer.get('since'), tz)})")
    if any(s.get("windows") for s in slos):
        st.plotly_chart(charts.burn_rates(slos), key="burn")
    else:
        st.caption(
            "Burn rates per window (5m, 30m, 1h, 6h) show here once the collector serves "
            "them in /api/v1/slo; until then they come from the Prometheus rules."
        )


# How many read models an unchosen selection looks at for samples (one query each).
DEFAULT_SEARCH = 5
# The visibility section's ranges, and the one shown until another is chosen.
VISIBILITY_RANGES = ("5m", "1h", "24h", "7d")
DEFAULT_VISIBILITY_RANGE = "1h"


def _group_with_samples(groups: list[str], start: float, end: float) -> str:
    """The first of ``groups`` (read models with an SLO first) with visibility samples
    between ``start`` and ``end``, looking at the first ``DEFAULT_SEARCH`` only; the
    first group when none of them has any (its section then says why it is empty) or
    the collector does not answer."""
    for group in groups[:DEFAULT_SEARCH]:
        try:
            if ui.visibility(url, group, (("start", start), ("end", end))).get("count"):
                return group
        except ApiError:
            break
    return groups[0]


def visibility_section(groups: list[str]) -> None:
    if not groups:
        st.info("No consumer group to show visibility for yet.", icon=INFO)
        return
    # The range first (its widget is drawn below the group's): an unchosen group defaults
    # to one with samples in it.
    range_name = st.session_state.get("vis_range") or DEFAULT_VISIBILITY_RANGE
    start, end = data.range_window(range_name, ui.now())
    wanted = ui.param("group")
    chosen = wanted if wanted in groups else _group_with_samples(groups, start, end)
    group = st.selectbox(
        "read model (consumer group)", groups, index=groups.index(chosen), key="vis_group"
    )
    ui.set_params(group=group)
    st.segmented_control(
        "range", list(VISIBILITY_RANGES), default=DEFAULT_VISIBILITY_RANGE, key="vis_range"
    )
    try:
        answer = ui.visibility(url, group, (("start", start), ("end", end)))
    except EndpointMissing:
        st.info(
            "**Passive visibility latency** will show here: p50/p99 over time, the "
            "latency histogram and the t-visibility curve, measured from every committed "
            "offset move. This collector does not serve `/api/v1/visibility` yet; a "
            "collector that does needs no configuration for it.",
            icon=INFO,
        )
        return
    except ApiError as error:
        ui.collector_banner(url, error)
        return
    if not answer.get("count"):
        st.info(
            f"No visibility sample for `{group}` in this range: samples appear when its "
            "committed offset moves while records are waiting (traffic on its topics).",
            icon=INFO,
        )
        return
    cols = st.columns(5)
    for col, key in zip(cols, ("p50", "p90", "p99", "p999", "max"), strict=True):
        ui.tile(col, key, fmt.seconds(answer.get(key)), f"{fmt.count(answer['count'])} samples")
    if answer.get("replay_count"):
        st.caption(f"{fmt.count(answer['replay_count'])} samples during a replay kept apart.")
    series = answer.get("series") or []
    figure = charts.visibility_percentiles(
        series, tz, float(answer.get("step_s") or 0.0), answer.get("end")
    )
    st.plotly_chart(figure, key="vis_ts")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.visibility_histogram(answer.get("histogram") or {}), key="vis_h")
    with right:
        curves = {f"passive: {group}": answer.get("curve") or []}
        st.plotly_chart(charts.t_visibility(curves), key="vis_curve")


def probes_section() -> None:
    end = ui.now()
    try:
        answer = ui.probes(url, end - 3600, end)
    except EndpointMissing:
        probes: list[dict[str, Any]] = []
        missing = True
    except Unreachable:
        return  # the banner above says it
    except ApiError as error:
        st.warning(f"probes: {error}", icon=ui.WARN_ICON)
        return
    else:
        probes, missing = answer.get("probes") or [], False
    if not probes:
        where = "this collector does not serve `/api/v1/probes` yet" if missing else (
            "no probe is configured"
        )  # fmt: skip
        st.info(
            "**Active probes** will show here: a real command sent every few seconds and "
            "the time until the query side shows it, with failures and their reasons. "
            f"Right now {where}. Add `[[probes]]` sections to the collector's TOML "
            "(docs/configuration.md).",
            icon=INFO,
        )
        return
    rows = [
        {
            "probe": p.get("name"),
            "target": p.get("target"),
            "sent": fmt.count(p.get("count")),
            "visible": fmt.count(p.get("visible")),
            "failures": ", ".join(f"{k} {v}" for k, v in (p.get("failures") or {}).items() if v)
            or "none",
            "p50": fmt.seconds(p.get("p50")),
            "p99": fmt.seconds(p.get("p99")),
            "max": fmt.seconds(p.get("max")),
        }
        for p in probes
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.plotly_chart(
        charts.t_visibility({f"probe: {p.get('name')}": p.get("curve") or [] for p in probes}),
        key="probe_curve",
    )
    for p in probes:
        st.plotly_chart(
            charts.probe_results(p.get("recent") or [], tz, str(p.get("name"))),
            key=f"probe-{p.get('name')}",
        )


def group_names() -> list[str]:
    try:
        answer = ui.groups(url)
    except ApiError:
        return []
    names = sorted({g.get("group") or "" for g in answer.get("groups") or []})
    try:  # read models with an SLO first: the ones whose freshness is promised
        slo_groups = [s.get("group") for s in ui.slo(url).get("slos") or []]
    except ApiError:
        slo_groups = []
    first = [g for g in slo_groups if g in names]
    return first + [g for g in names if g not in first]


st.subheader("Freshness SLOs")
ui.live(slo_section)
st.subheader("Visibility latency (passive)")
ui.live(lambda: visibility_section(group_names()))
st.subheader("Probes (active)")
ui.live(probes_section)
