"""Every chart builder: shared template, units on axes, gaps stay gaps, status word
next to every status colour, no pie / 3-D / rainbow."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from dashboard import charts, data, fmt
from dashboard.theme import HEATMAP_SCALE, TEMPLATE_NAME

TZ = fmt.zone("Europe/Berlin")


def frame(values, start=1_700_000_000.0, step=10.0):
    return data.series_frame({"points": [[start + i * step, v] for i, v in enumerate(values)]},
                             TZ)  # fmt: skip


def assert_common(fig: go.Figure) -> None:
    assert fig.layout.template.layout.colorway, "shared template applied"
    for trace in fig.data:
        assert trace.type not in ("pie", "scatter3d", "surface", "mesh3d")


def annotation_texts(fig: go.Figure) -> str:
    return " ".join(a.text or "" for a in fig.layout.annotations)


def test_lag_over_time_gaps_units_and_annotations():
    staleness = {"orders": frame([1.0, None, 3.0])}
    lag = {"orders": frame([10, None, 30])}
    notes = [
        {"at": 1_700_000_010.0, "kind": "status_change", "group": "g", "message": "OK -> STALL"},
        {"at": 1_700_000_015.0, "kind": "status_change", "group": "g", "message": "STALL -> OK"},
        {"at": 1_700_000_020.0, "kind": "collector_start", "group": None, "message": "started"},
    ]
    fig = charts.lag_over_time(staleness, lag, notes, TZ, "t")
    assert_common(fig)
    line = fig.data[0]
    assert math.isnan(line.y[1]) and line.connectgaps is False
    assert fig.layout.yaxis.title.text == "staleness"
    assert "s" in fig.layout.yaxis.ticktext[1]
    assert fig.layout.yaxis2.title.text == "offset lag (records)"
    assert "Europe/Berlin" in fig.layout.xaxis2.title.text
    markers = [t for t in fig.data if t.name == "events"]
    assert len(markers) == 1 and len(markers[0].x) == 3
    assert "UTC" in markers[0].hovertext[0]
    # a turn for the worse and a restart get a line; recovering to OK only a marker
    assert len(fig.layout.shapes) == 2


def test_injected_faults_are_their_own_markers():
    notes = [
        {"at": 1_700_000_010.0, "kind": "status_change", "group": "g", "message": "OK -> WARN"},
        {"at": 1_700_000_012.0, "kind": "fault", "group": "g", "message": "fault: pause balances",
         "detail": "pause: in effect on projection-balances after 0.05 s"},
    ]  # fmt: skip
    fig = charts.lag_over_time({"g": frame([1.0, 2.0])}, {"g": frame([1, 2])}, notes, TZ)
    events = [t for t in fig.data if t.name == "events"]
    faults = [t for t in fig.data if t.name == "injected faults"]
    assert len(events) == 1 and len(events[0].x) == 1
    assert len(faults) == 1 and len(faults[0].x) == 1
    assert faults[0].marker.symbol == "diamond" and events[0].marker.symbol == "triangle-down"
    assert faults[0].hovertext[0].startswith("fault: pause balances<br>pause: in effect")
    assert "UTC" in faults[0].hovertext[0]
    assert len(fig.layout.shapes) == 1  # the fault explains the chart: a line; OK -> WARN not
    only_collector = charts.lag_over_time({"g": frame([1.0])}, {"g": frame([1])}, notes[:1], TZ)
    assert not [t for t in only_collector.data if t.name == "injected faults"]


def test_seconds_ticks_read_as_durations():
    values, labels = charts.seconds_ticks(200)
    assert values[0] == 0 and values[-1] >= 200
    assert "1 min" in labels or "2 min" in labels
    assert charts.seconds_ticks(None)[1][0] == "0 s"


def test_rates_and_eta():
    fig = charts.rates(frame([1.0, 2.0]), frame([2.0, None]), TZ)
    assert_common(fig)
    assert {t.name for t in fig.data} == {"consume", "produce"}
    assert fig.layout.yaxis.title.text == "rate (records/s)"
    assert "no ETA in this range" in annotation_texts(charts.eta_over_time(frame([None]), TZ))
    eta = charts.eta_over_time(frame([None, 30.0]), TZ)
    assert math.isnan(eta.data[0].y[0])
    assert eta.layout.yaxis.title.text == "ETA"


def test_partition_heatmap_sequential_scale_and_gaps():
    heat = {"metric": "staleness_s", "times": [1_700_000_000, 1_700_000_060],
            "rows": [{"topic": "t", "partition": 0, "values": [1.0, None]},
                     {"topic": "t", "partition": 1, "values": [0.0, 90.0]}]}  # fmt: skip
    fig = charts.partition_heatmap(heat, TZ)
    assert_common(fig)
    trace = fig.data[0]
    assert trace.type == "heatmap"
    assert list(trace.y) == ["t[0]", "t[1]"]
    assert math.isnan(trace.z[0][1]) and trace.z[1][0] == 0.0
    assert "%{z:,.1f} s" in trace.hovertemplate  # seconds, formatted by the hover itself
    assert trace.ygap == 1  # two tall rows: a gap between them
    cividis = go.Heatmap(colorscale=HEATMAP_SCALE).colorscale
    assert trace.colorscale == cividis
    assert "staleness" in fig.layout.title.text
    empty = charts.partition_heatmap({"times": [], "rows": []}, TZ)
    assert "no partition history" in annotation_texts(empty)


def test_partition_heatmap_cells_span_their_buckets():
    heat = {"metric": "staleness_s", "times": [1_700_000_000, 1_700_000_060], "step_s": 60,
            "rows": [{"topic": "t", "partition": 0, "values": [1.0, 2.0]}]}  # fmt: skip
    centres = charts.partition_heatmap(heat, TZ).data[0].x
    assert list(centres) == list(data.times([1_700_000_030, 1_700_000_090], TZ))


def test_partition_heatmap_many_partitions_stays_one_screen_high():
    heat = {"metric": "offset_lag", "times": [1_700_000_000, 1_700_000_060],
            "rows": [{"topic": "t", "partition": p, "values": [p, p + 1]}
                     for p in range(500)]}  # fmt: skip
    fig = charts.partition_heatmap(heat, TZ)
    assert fig.layout.height == charts.HEATMAP_MAX_HEIGHT
    assert len(fig.data[0].y) == 500  # every partition is still a row
    assert fig.data[0].ygap == 0  # rows under 12 px: no gap eating them
    assert "%{z:,.0f}" in fig.data[0].hovertemplate  # a count, not seconds


def test_visibility_charts():
    series = [{"t": 1_700_000_000, "p50": 0.2, "p99": 1.1, "count": 5},
              {"t": 1_700_000_060, "p50": None, "p99": None, "count": 0}]  # fmt: skip
    fig = charts.visibility_percentiles(series, TZ)
    assert_common(fig)
    assert math.isnan(fig.data[0].y[1])
    ends = charts.visibility_percentiles(series, TZ, 60.0, 1_700_000_090).data[0].x
    assert list(ends) == list(data.times([1_700_000_060, 1_700_000_090], TZ))
    hist = charts.visibility_histogram({"bounds": [0.1, 1, 10], "counts": [3, 5, 0]})
    assert list(hist.data[0].x) == ["0 s-100 ms", "100 ms-1.0 s", "1.0 s-10 s"]
    assert hist.layout.yaxis.title.text == "samples"
    curve = charts.t_visibility({"probe": [{"t": 0.1, "p": 0.5}, {"t": 1.0, "p": 1.0}]})
    assert curve.data[0].line.shape == "hv"
    assert curve.layout.yaxis.tickformat == ".0%"


def test_probe_results_failures_are_marked_not_zero_latency():
    recent = [
        {"started_at": 1_700_000_000, "latency_s": 0.3, "outcome": "visible"},
        {"started_at": 1_700_000_005, "latency_s": None, "outcome": "timeout",
         "reason": "not visible within 30 s"},
    ]  # fmt: skip
    fig = charts.probe_results(recent, TZ, "bank")
    ok, bad = fig.data
    assert list(ok.y) == [0.3]
    assert bad.name == "failed" and "timeout: not visible within 30 s" in bad.hovertext[0]


def test_burn_rates_windows_in_order_with_the_budget_line():
    slos = [{"group": "g", "windows": {"1h": {"burn_rate": 0.5}, "5m": {"burn_rate": 3.0},
                                       "period": {"burn_rate": None}}}]  # fmt: skip
    fig = charts.burn_rates(slos)
    assert list(fig.data[0].x) == ["5m", "1h", "period"]
    assert math.isnan(fig.data[0].y[2])
    assert fig.layout.shapes[0].y0 == 1


def test_burn_rates_log_axis_keeps_one_visible_and_labels_every_bar():
    windows = {"5m": {"burn_rate": 100.0}, "1h": {"burn_rate": 0.0},
               "6h": {"burn_rate": 0.5}, "period": {"burn_rate": None}}  # fmt: skip
    slos = [{"group": "g", "windows": windows}]
    fig = charts.burn_rates(slos)
    axis = fig.layout.yaxis
    assert axis.type == "log"
    low, high = axis.range
    assert low < 0 < high  # log10(1) = 0 lies inside the drawn range: the 1x line shows
    assert list(fig.data[0].text) == ["100x", "0x", "0.5x", "—"]
    assert fig.data[0].y[1] == charts.BURN_FLOOR  # 0 sits on the floor, labelled "0x"


def test_collector_charts():
    fig = charts.cycle_times({"cycle_seconds_last": 0.2, "cycle_seconds_p50": None,
                              "cycle_seconds_p95": 0.5, "interval_s": 1.0})  # fmt: skip
    assert list(fig.data[0].text) == ["200 ms", "—", "500 ms"]
    assert math.isnan(fig.data[0].x[1])
    assert fig.layout.xaxis.title.text == "seconds per cycle"
    assert "no error counters" in annotation_texts(charts.errors_by_kind({}))
    clean = charts.errors_by_kind({"cycle": 0, "offset_fetch": 0})
    assert "no collector errors" in annotation_texts(clean)


def test_errors_every_bar_has_its_own_label():
    counts = {"cluster_unreachable": 0, "describe_group": 0, "offset_fetch": 0,
              "store_backlog": 2, "store_write": 0, "list_offsets": 7}  # fmt: skip
    fig = charts.errors_by_kind(counts)
    bars = fig.data[0]
    assert list(bars.y) == ["list_offsets", "store_backlog"]  # only kinds that failed
    assert list(bars.x) == [7, 2] and list(bars.text) == ["7", "2"]
    assert list(fig.layout.yaxis.tickvals) == list(bars.y)  # every tick forced
    assert list(fig.layout.yaxis.ticktext) == list(bars.y)
    assert "0 errors: cluster_unreachable" in annotation_texts(fig)  # zero kinds still named
    assert "<br>" not in fig.layout.title.text  # one line: two ran into each other


def test_balance_history_gaps_not_zero():
    readings = [data.BalanceReading(100.0, 12345, None), data.BalanceReading(102.0, 12345, 12345)]
    fig = charts.balance_history(data.balance_frame(readings), TZ, "acct-1")
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["write side"].y) == [123.45, 123.45]
    read = list(by_name["read model: balances"].y)
    assert math.isnan(read[0]) and read[1] == 123.45
    assert "acct-1" in fig.layout.title.text
    assert "no reading" in annotation_texts(charts.balance_history(data.balance_frame([]), TZ, "a"))


def test_every_builder_uses_the_template():
    figs = [charts.empty_figure("x"),
            charts.rates(frame([1.0]), frame([1.0]), TZ)]  # fmt: skip
    for fig in figs:
        assert fig.layout.template.layout.font.family.startswith("Inter")
    assert TEMPLATE_NAME == "lagwatch"


def test_time_charts_share_the_window():
    window = (1_700_000_000.0, 1_700_000_600.0)
    expected = [str(t) for t in data.times(list(window), TZ)]
    figs = [
        charts.lag_over_time({"g": frame([1.0, 2.0])}, {"g": frame([1, 2])}, [], TZ, "", window),
        charts.rates(frame([1.0, 2.0]), frame([2.0, 1.0]), TZ, window),
        charts.eta_over_time(frame([3.0, 4.0]), TZ, window),
    ]
    for fig in figs:
        assert [str(pd.Timestamp(t)) for t in fig.layout.xaxis.range] == expected
    assert charts.rates(frame([1.0]), frame([1.0]), TZ).layout.xaxis.range is None


def test_a_time_chart_without_any_value_still_shows_the_window_as_times():
    window = (1_700_000_000.0, 1_700_000_600.0)
    empty = {"t[0]": frame([])}
    fig = charts.lag_over_time(empty, empty, [], TZ, "", window)
    assert fig.layout.xaxis.type == "date"  # not a numeric axis from -1 to 6
    assert fig.layout.xaxis.range is not None


def test_a_short_heatmap_gets_fewer_colour_bar_labels():
    def heat(partitions):
        return {"metric": "staleness_s", "times": [1_700_000_000, 1_700_000_060],
                "rows": [{"topic": "t", "partition": p, "values": [0.0, 120.0]}
                         for p in range(partitions)]}  # fmt: skip

    few = charts.partition_heatmap(heat(4), TZ).data[0].colorbar.tickvals
    many = charts.partition_heatmap(heat(40), TZ).data[0].colorbar.tickvals
    assert 2 <= len(few) < len(many)
