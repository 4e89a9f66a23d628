"""Chart builders: data in, Plotly figure out (pure; no Streamlit import).

Every figure uses the shared ``lagwatch`` template, has units on every axis, shows
missing data as a gap (never 0), and puts the status word next to every status colour.
Seconds axes are labelled like "1.2 s" / "3 min" rather than raw numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard import fmt
from dashboard.data import FAULT_KIND, bucket_ends, times, utc_labels
from dashboard.theme import (
    FAULT,
    GAP,
    GREY,
    HEATMAP_SCALE,
    INK,
    MUTED,
    SERIES_COLORS,
    TEMPLATE_NAME,
    VERMILLION,
)

_NICE_SECONDS = (
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120,
    300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
)  # fmt: skip


METRIC_NAMES = {"staleness_s": "staleness", "offset_lag": "offset lag", "data_age_s": "data age"}


def seconds_ticks(vmax: float | None, target: int = 5) -> tuple[list[float], list[str]]:
    """Tick values and "1.2 s / 3 min" labels for a seconds axis from 0 to ``vmax``."""
    top = vmax if vmax is not None and vmax > 0 and math.isfinite(vmax) else 1.0
    step = next((s for s in _NICE_SECONDS if top / s <= target), _NICE_SECONDS[-1])
    values = [i * step for i in range(int(top / step) + 2)]
    return values, [fmt.seconds(v) for v in values]


def _seconds_axis(fig: go.Figure, values: Sequence[float], title: str, **where: Any) -> None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    ticks, labels = seconds_ticks(max(finite) if finite else None)
    fig.update_yaxes(title_text=title, tickvals=ticks, ticktext=labels, rangemode="tozero", **where)


def _base(title: str | None = None, height: int = 320) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(template=TEMPLATE_NAME, height=height, title_text=title)
    return fig


def _time_axis_title(tz: ZoneInfo) -> str:
    return f"time ({tz.key}; hover shows UTC)"


Window = tuple[float, float]  # epoch seconds (start, end) every time chart of a page shows


def _time_window(fig: go.Figure, window: Window | None, tz: ZoneInfo) -> None:
    """The same x range on every time chart of a page, so that one moment (a fault
    marker) sits at the same place in each; None: Plotly fits the data."""
    if window is not None:
        # type: a chart whose series are all empty would otherwise get a numeric axis
        # (-1 to 6) instead of the window's times.
        fig.update_xaxes(type="date", range=list(times([float(window[0]), float(window[1])], tz)))


def empty_figure(message: str, height: int = 220) -> go.Figure:
    """A figure that says why there is nothing to draw (instead of an empty axis)."""
    fig = _base(height=height)
    fig.add_annotation(
        text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
        font={"size": 14, "color": MUTED},
    )  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


# --- time series ---------------------------------------------------------------------


def _bad_turn(annotation: Mapping[str, Any]) -> bool:
    """An error, or a status change that ends in STALL/STOPPED/ERROR."""
    text = str(annotation.get("message") or annotation.get("text") or "")
    after = text.rsplit("->", 1)[-1]
    return annotation.get("kind") == "error" or any(
        word in after for word in ("STALL", "STOPPED", "ERROR")
    )


def _annotation_markers(
    fig: go.Figure, annotations: Sequence[Mapping[str, Any]], tz: ZoneInfo
) -> None:
    """Vertical dotted lines and hoverable markers at the top of the first panel.

    The collector's annotations are grey triangles ("events"; vermillion for a turn for
    the worse); injected demo faults (kind ``fault``) are black diamonds in their own
    legend entry ("injected faults"), so a fault is never read as a status change.
    """
    items = [a for a in annotations if a.get("at", a.get("time")) is not None][-200:]
    if not items:
        return
    epochs = [float(a.get("at", a.get("time"))) for a in items]
    when = times(epochs, tz)
    texts = [
        f"{a.get('kind')}: {a.get('message') or a.get('text') or ''}"
        f"{' · ' + a['group'] if a.get('group') else ''}<br>{u}"
        if a.get("kind") != FAULT_KIND
        else f"{a.get('message')}<br>{a.get('detail') or ''}<br>{u}"
        for a, u in zip(items, utc_labels(epochs), strict=True)
    ]
    colors = [VERMILLION if _bad_turn(a) else MUTED for a in items]
    # a paper-high line for the events that explain a chart (faults, restarts, outages,
    # a turn for the worse), at most 50, set at once (add_vline per subplot is quadratic);
    # routine status flapping gets only its marker
    line = {"color": "#9AA5B1", "width": 1, "dash": "dot"}
    lines = [
        t
        for t, a, c in zip(when, items, colors, strict=True)
        if a.get("kind") != "status_change" or c == VERMILLION
    ][-50:]
    fig.update_layout(
        shapes=[
            {"type": "line", "xref": "x", "yref": "paper", "x0": t, "x1": t, "y0": 0, "y1": 1,
             "line": line, "layer": "below"}
            for t in lines
        ]
    )  # fmt: skip
    for name, symbol, pick in (
        ("events", "triangle-down", lambda a: a.get("kind") != FAULT_KIND),
        ("injected faults", "diamond", lambda a: a.get("kind") == FAULT_KIND),
    ):
        chosen = [i for i, a in enumerate(items) if pick(a)]
        if not chosen:
            continue
        fault = symbol == "diamond"
        fig.add_trace(
            go.Scatter(
                x=[when[i] for i in chosen],
                y=[0.97 if fault else 1.0] * len(chosen),  # a fault just below a same-time event
                yaxis="y99",
                mode="markers",
                marker={
                    "symbol": symbol, "size": 12 if fault else 11,
                    "color": FAULT if fault else [colors[i] for i in chosen],
                    "line": {"color": "#FFFFFF", "width": 1},
                },
                name=name,
                hovertext=[texts[i] for i in chosen],
                hoverinfo="text",
                showlegend=True,
            )
        )  # fmt: skip
    fig.update_layout(
        yaxis99={"overlaying": "y", "range": [0, 1.04], "visible": False, "fixedrange": True}
    )


def lag_over_time(
    staleness: Mapping[str, pd.DataFrame],
    offset_lag: Mapping[str, pd.DataFrame],
    annotations: Sequence[Mapping[str, Any]],
    tz: ZoneInfo,
    title: str = "",
    window: Window | None = None,
) -> go.Figure:
    """Staleness (top, seconds) and offset lag (bottom, records) over time.

    Each mapping is label -> ``series_frame`` (one line per topic or partition).
    NaN values are gaps. Annotations are drawn as markers and dotted lines.
    """
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.55, 0.45]
    )
    fig.update_layout(template=TEMPLATE_NAME, height=520, title_text=title or None)
    all_staleness: list[float] = []
    for i, (label, frame) in enumerate(staleness.items()):
        color = SERIES_COLORS[i % len(SERIES_COLORS)]
        all_staleness += list(frame["value"].dropna())
        fig.add_trace(
            go.Scatter(
                x=frame["time"], y=frame["value"], name=label, legendgroup=label,
                mode="lines", line={"color": color, "width": 2}, connectgaps=False,
                customdata=list(zip(frame["utc"], [fmt.seconds(v) for v in frame["value"]],
                                    strict=True)),
                hovertemplate="%{customdata[1]} staleness<br>%{customdata[0]}<extra>"
                + label + "</extra>",
            ),
            row=1, col=1,
        )  # fmt: skip
    for i, (label, frame) in enumerate(offset_lag.items()):
        color = SERIES_COLORS[i % len(SERIES_COLORS)]
        fig.add_trace(
            go.Scatter(
                x=frame["time"], y=frame["value"], name=label, legendgroup=label,
                showlegend=label not in staleness, mode="lines",
                line={"color": color, "width": 2}, connectgaps=False, customdata=frame["utc"],
                hovertemplate="%{y:,.0f} records<br>%{customdata}<extra>" + label + "</extra>",
            ),
            row=2, col=1,
        )  # fmt: skip
    _seconds_axis(fig, all_staleness, "staleness", row=1, col=1)
    fig.update_yaxes(title_text="offset lag (records)", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text=_time_axis_title(tz), row=2, col=1)
    fig.update_layout(hovermode="closest")
    _annotation_markers(fig, annotations, tz)
    _time_window(fig, window, tz)
    return fig


def rates(
    consume: pd.DataFrame, produce: pd.DataFrame, tz: ZoneInfo, window: Window | None = None
) -> go.Figure:
    """Consume vs produce rate (offsets per second); the gap between them is the trend."""
    fig = _base("consume vs produce rate", height=300)
    for frame, name, color, dash in (
        (produce, "produce", GREY, "dot"),
        (consume, "consume", SERIES_COLORS[0], "solid"),
    ):
        fig.add_trace(
            go.Scatter(
                x=frame["time"], y=frame["value"], name=name, mode="lines",
                line={"color": color, "width": 2, "dash": dash}, connectgaps=False,
                customdata=frame["utc"],
                hovertemplate="%{y:,.1f} records/s<br>%{customdata}<extra>" + name + "</extra>",
            )
        )  # fmt: skip
    fig.update_yaxes(title_text="rate (records/s)")
    fig.update_xaxes(title_text=_time_axis_title(tz))
    _time_window(fig, window, tz)
    return fig


def eta_over_time(eta: pd.DataFrame, tz: ZoneInfo, window: Window | None = None) -> go.Figure:
    """Time to catch up; gaps where the group is not catching up (ETA undefined)."""
    title = "ETA to catch up (gap = not catching up)"
    if eta["value"].dropna().empty:
        return empty_figure(
            f"<b>{title}</b><br>no ETA in this range: nothing to catch up, or not catching up",
            height=260,
        )
    fig = _base(title, height=260)
    fig.add_trace(
        go.Scatter(
            x=eta["time"], y=eta["value"], mode="lines", name="ETA", connectgaps=False,
            line={"color": SERIES_COLORS[2], "width": 2},
            customdata=list(zip(eta["utc"], [fmt.seconds(v) for v in eta["value"]],
                                strict=True)),
            hovertemplate="ETA %{customdata[1]}<br>%{customdata[0]}<extra></extra>",
        )
    )  # fmt: skip
    _seconds_axis(fig, list(eta["value"].dropna()), "ETA")
    fig.update_xaxes(title_text=_time_axis_title(tz))
    _time_window(fig, window, tz)
    return fig


HEATMAP_MAX_HEIGHT = 900  # px: beyond it rows get thinner, not the page longer


def partition_heatmap(
    heatmap: Mapping[str, Any], tz: ZoneInfo, window: Window | None = None
) -> go.Figure:
    """Partition x time matrix (``/api/v1/heatmap`` shape) with a sequential,
    colour-blind-safe scale; missing cells show the grey background (a gap).

    Drawing cost grows with cells, so: no per-cell text (the hover formats the value
    itself), row gaps only while rows are tall enough to show them, and the height
    capped at ``HEATMAP_MAX_HEIGHT`` (Plotly then labels every n-th partition)."""
    rows = list(heatmap.get("rows") or [])
    # Plotly centres a cell on its x: at the bucket's middle, the cell spans the bucket
    # (at its start, every cell sat half a bucket early).
    half = float(heatmap.get("step_s") or 0.0) / 2
    epochs = [float(t) + half for t in heatmap.get("times") or []]
    metric = heatmap.get("metric") or "staleness_s"
    if not rows or not epochs:
        return empty_figure("no partition history in this range yet")
    labels = [f"{r.get('topic')}[{r.get('partition')}]" for r in rows]
    z = [[math.nan if v is None else float(v) for v in r.get("values") or []] for r in rows]
    finite = [v for row in z for v in row if not math.isnan(v)]
    is_seconds = metric.endswith("_s")
    nice = METRIC_NAMES.get(metric, metric)
    height = min(140 + 22 * len(rows), HEATMAP_MAX_HEIGHT)
    fig = _base(f"{nice} by partition over time (grey = no data)", height=height)
    colorbar: dict[str, Any] = {"title": {"text": "s" if is_seconds else "records"}}
    if is_seconds and finite:
        # as many labels as the colour bar has room for: 5 labels on a 4-row heatmap
        # ran into each other
        ticks, ticklabels = seconds_ticks(max(finite), target=max(2, min(5, (height - 140) // 30)))
        colorbar.update(tickvals=ticks, ticktext=ticklabels)
    fig.add_trace(
        go.Heatmap(
            x=times(epochs, tz), y=labels, z=z, colorscale=HEATMAP_SCALE, zmin=0,
            hoverongaps=False, colorbar=colorbar, xgap=0,
            ygap=1 if (height - 140) / len(rows) >= 12 else 0,
            hovertemplate="%{y}<br>%{x}<br>" + nice
            + (" %{z:,.1f} s" if is_seconds else " %{z:,.0f}") + "<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(plot_bgcolor=GAP, hovermode="closest")
    fig.update_yaxes(title_text="topic[partition]", autorange="reversed", type="category")
    fig.update_xaxes(title_text=_time_axis_title(tz), showgrid=False)
    _time_window(fig, window, tz)
    return fig


# --- consistency ---------------------------------------------------------------------


def visibility_percentiles(
    series: Sequence[Mapping[str, Any]],
    tz: ZoneInfo,
    step: float = 0.0,
    until: float | None = None,
) -> go.Figure:
    """Passive visibility latency p50/p99 per time bucket (seconds); gaps where no
    sample. Each bucket is drawn at its end (``data.bucket_ends``)."""
    fig = _base("visibility latency over time (passive)", height=300)
    epochs = bucket_ends((float(s["t"]) for s in series), step, until)
    when, utc = times(epochs, tz), utc_labels(epochs)
    values: list[float] = []
    for key, color in (("p50", SERIES_COLORS[0]), ("p99", SERIES_COLORS[1])):
        ys = [math.nan if s.get(key) is None else float(s[key]) for s in series]
        values += [v for v in ys if not math.isnan(v)]
        fig.add_trace(
            go.Scatter(
                x=when, y=ys, name=key, mode="lines+markers", connectgaps=False,
                line={"color": color, "width": 2}, marker={"size": 4},
                customdata=list(zip(utc, [fmt.seconds(v) for v in ys], strict=True)),
                hovertemplate=key + " %{customdata[1]}<br>%{customdata[0]}<extra></extra>",
            )
        )  # fmt: skip
    _seconds_axis(fig, values, "command-to-visible latency")
    fig.update_xaxes(title_text=_time_axis_title(tz))
    return fig


def visibility_histogram(histogram: Mapping[str, Any]) -> go.Figure:
    """Counts per latency bucket ``(bounds[i-1], bounds[i]]`` as adjacent bars."""
    bounds = [float(b) for b in histogram.get("bounds") or []]
    counts = [int(c) for c in histogram.get("counts") or []]
    fig = _base("visibility latency distribution", height=300)
    if not bounds or not counts:
        return empty_figure("no visibility samples in this range")
    labels = []
    for i, b in enumerate(bounds[: len(counts)]):
        lower = bounds[i - 1] if i else 0.0
        labels.append(f"{fmt.seconds(lower)}-{fmt.seconds(b)}")
    fig.add_trace(
        go.Bar(x=labels, y=counts[: len(labels)], marker_color=SERIES_COLORS[0],
               hovertemplate="%{x}: %{y:,} samples<extra></extra>")
    )  # fmt: skip
    fig.update_xaxes(title_text="latency bucket", type="category")
    fig.update_yaxes(title_text="samples")
    fig.update_layout(bargap=0.05, hovermode="closest")
    return fig


def t_visibility(curves: Mapping[str, Sequence[Mapping[str, Any]]]) -> go.Figure:
    """P(a read issued t s after the command sees it), one step line per source."""
    fig = _base("t-visibility: chance a read t seconds later sees the write", height=320)
    ts: list[float] = []
    for i, (name, curve) in enumerate(curves.items()):
        xs = [float(p["t"]) for p in curve]
        ys = [float(p["p"]) for p in curve]
        ts += xs
        fig.add_trace(
            go.Scatter(
                x=xs, y=ys, name=name, mode="lines", line_shape="hv",
                line={"color": SERIES_COLORS[i % len(SERIES_COLORS)], "width": 2},
                customdata=[fmt.seconds(x) for x in xs],
                hovertemplate="after %{customdata}: %{y:.1%}<extra>" + name + "</extra>",
            )
        )  # fmt: skip
    ticks, labels = seconds_ticks(max(ts) if ts else None, target=6)
    fig.update_xaxes(title_text="t after the command was accepted", tickvals=ticks,
                     ticktext=labels)  # fmt: skip
    fig.update_yaxes(title_text="P(visible)", tickformat=".0%", range=[0, 1.02])
    fig.update_layout(hovermode="closest")
    return fig


def probe_results(recent: Sequence[Mapping[str, Any]], tz: ZoneInfo, name: str) -> go.Figure:
    """Recent probe round trips: latency of visible ones; failures as marked points
    on the axis with their reason (never as a latency of 0)."""
    fig = _base(f"probe {name}: recent results", height=280)
    ok = [r for r in recent if r.get("outcome") == "visible" and r.get("latency_s") is not None]
    bad = [r for r in recent if r.get("outcome") != "visible"]
    if ok:
        epochs = [float(r["started_at"]) for r in ok]
        fig.add_trace(
            go.Scatter(
                x=times(epochs, tz), y=[r["latency_s"] for r in ok], mode="markers",
                name="visible", marker={"color": SERIES_COLORS[0], "size": 7},
                customdata=list(zip(utc_labels(epochs),
                                    [fmt.seconds(r["latency_s"]) for r in ok], strict=True)),
                hovertemplate="visible after %{customdata[1]}<br>%{customdata[0]}<extra></extra>",
            )
        )  # fmt: skip
    if bad:
        epochs = [float(r["started_at"]) for r in bad]
        fig.add_trace(
            go.Scatter(
                x=times(epochs, tz), y=[0] * len(bad), mode="markers", name="failed",
                marker={"color": VERMILLION, "symbol": "x", "size": 10},
                hovertext=[f"{r.get('outcome')}: {r.get('reason') or ''}" for r in bad],
                hoverinfo="text+x",
            )
        )  # fmt: skip
    _seconds_axis(fig, [r["latency_s"] for r in ok], "latency")
    fig.update_xaxes(title_text=_time_axis_title(tz))
    fig.update_layout(hovermode="closest")
    return fig


WINDOW_ORDER = ("5m", "30m", "1h", "6h", "period")


BURN_FLOOR = 0.01  # a log axis cannot draw 0: burn rates below this sit on the floor


def burn_rates(slos: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Burn rate per SLO and window (1 = spending the budget exactly as fast as allowed).

    Log y axis, so 1x stays visible next to bars of 100x; every bar carries its value
    ("0x" for a window that spent nothing: drawn on the 0.01 floor, since log has no 0).
    An unknown burn rate (no observations in that window) has no bar and the word "—".
    """
    fig = _base("error-budget burn rate by window (1 = on budget, log scale)", height=320)
    top = 1.0
    for i, slo in enumerate(slos):
        windows = slo.get("windows") or {}
        names = [w for w in WINDOW_ORDER if w in windows]
        ys = [_finite(windows[w].get("burn_rate")) for w in names]
        top = max([top, *(y for y in ys if y is not None)])
        fig.add_trace(
            go.Bar(
                x=names, y=[math.nan if y is None else max(y, BURN_FLOOR) for y in ys],
                name=str(slo.get("group")), marker_color=SERIES_COLORS[i % len(SERIES_COLORS)],
                text=[_burn_label(y) for y in ys], textposition="outside", cliponaxis=False,
                customdata=[_burn_label(y) for y in ys],
                hovertemplate="%{x}: burn rate %{customdata}<extra>" + str(slo.get("group"))
                + "</extra>",
            )
        )  # fmt: skip
    # the line's meaning goes into its tick label: an annotation on a log axis would need
    # log10 coordinates and silently lands elsewhere
    fig.add_hline(y=1, line={"color": INK, "dash": "dash", "width": 1.5})
    fig.update_xaxes(title_text="window", type="category")
    ticks = [t for t in (0.01, 0.1, 1, 10, 100, 1000, 10000) if t <= top * 10]
    fig.update_yaxes(
        title_text="burn rate (x budget, log)", type="log", rangemode="normal",
        range=[math.log10(BURN_FLOOR), math.log10(top * 3)], tickvals=ticks,
        ticktext=["1x = on budget" if t == 1 else f"{t:g}x" for t in ticks],
    )  # fmt: skip
    fig.update_layout(barmode="group", hovermode="closest")
    return fig


def _finite(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _burn_label(value: float | None) -> str:
    if value is None:
        return fmt.MISSING
    if value == 0:
        return "0x"
    return f"{value:.2g}x" if value < 10 else f"{value:,.0f}x"


# --- collector and demo ----------------------------------------------------------------


def cycle_times(info: Mapping[str, Any]) -> go.Figure:
    """Collector cycle duration (last, p50, p95) against its interval."""
    names = ["last", "p50", "p95"]
    keys = ["cycle_seconds_last", "cycle_seconds_p50", "cycle_seconds_p95"]
    values = [info.get(k) for k in keys]
    fig = _base("collection cycle duration", height=260)
    fig.add_trace(
        go.Bar(
            y=names, x=[math.nan if v is None else v for v in values], orientation="h",
            marker_color=SERIES_COLORS[0], text=[fmt.seconds(v) for v in values],
            textposition="auto", hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )  # fmt: skip
    interval = info.get("interval_s")
    top = [v for v in [*values, interval] if v is not None]
    ticks, labels = seconds_ticks(max(top) if top else None)
    if interval:
        fig.add_vline(
            x=interval, line={"color": VERMILLION, "dash": "dash"},
            annotation_text=f"interval {fmt.seconds(interval)}", annotation_position="top",
        )  # fmt: skip
    fig.update_xaxes(title_text="seconds per cycle", tickvals=ticks, ticktext=labels)
    fig.update_yaxes(title_text="", autorange="reversed", rangemode="normal")
    fig.update_layout(hovermode="closest")
    return fig


def errors_by_kind(errors: Mapping[str, int]) -> go.Figure:
    """Collector errors since start: one labelled bar per kind that has failed.

    Kinds with a zero count are named in the subtitle instead of drawn, and every
    category gets its own tick (Plotly would otherwise thin out labels and a bar could
    sit next to another kind's name).
    """
    failed = sorted((k for k, v in errors.items() if v), key=lambda k: (-errors[k], k))
    clean = sorted(k for k, v in errors.items() if not v)
    if not errors:
        return empty_figure("this collector reports no error counters")
    if not failed:
        return empty_figure(
            f"no collector errors since start<br>({len(clean)} kinds counted, all 0)"
        )
    fig = _base("collector errors since start", height=max(200, 110 + 34 * len(failed)))
    if clean:  # under the title, not in it: a two-line title ran into itself
        fig.add_annotation(
            text="0 errors: " + ", ".join(clean), xref="paper", yref="paper", x=0, y=1.02,
            xanchor="left", yanchor="bottom", showarrow=False, font={"size": 11, "color": MUTED},
        )  # fmt: skip
    counts = [errors[k] for k in failed]
    fig.add_trace(
        go.Bar(
            y=failed, x=counts, orientation="h", text=[f"{c:,}" for c in counts],
            textposition="outside", cliponaxis=False, marker_color=VERMILLION,
            hovertemplate="%{y}: %{x:,} errors<extra></extra>",
        )
    )  # fmt: skip
    top = max(counts)
    fig.update_xaxes(title_text="errors (count)", rangemode="tozero", range=[0, top * 1.15],
                     tickformat=",d", dtick=max(1, math.ceil(top / 5)))  # fmt: skip
    fig.update_yaxes(type="category", tickmode="array", tickvals=failed, ticktext=failed,
                     autorange="reversed", rangemode="normal")  # fmt: skip
    fig.update_layout(hovermode="closest")
    return fig


def balance_history(frame: pd.DataFrame, tz: ZoneInfo, account: str) -> go.Figure:
    """One account's balance over time as the write side and the balances read model
    know it (``data.balance_frame``): the lines part under a fault and meet again after.
    Unknown readings are gaps, never 0."""
    if frame.empty:
        return empty_figure(f"no reading of {account} yet")
    fig = _base(f"balance of {account}: write side vs read model", height=300)
    colors = {"write side": SERIES_COLORS[0], "read model: balances": SERIES_COLORS[1]}
    for source, part in frame.groupby("source", sort=False):
        fig.add_trace(
            go.Scatter(
                x=times(part["time"], tz), y=part["balance"], name=str(source), mode="lines",
                line={"shape": "hv", "width": 2.5 if source == "write side" else 2,
                      "color": colors.get(str(source)),
                      "dash": "solid" if source == "write side" else "dash"},
                customdata=utc_labels(part["time"]), connectgaps=False,
                hovertemplate="%{y:,.2f} (%{customdata})<extra>" + str(source) + "</extra>",
            )
        )  # fmt: skip
    fig.update_xaxes(title_text=_time_axis_title(tz))
    fig.update_yaxes(title_text="balance (currency units)", rangemode="normal",
                     tickformat=",.2f")  # fmt: skip
    return fig
