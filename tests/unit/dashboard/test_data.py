"""Shaping collector JSON for the pages: order, filters, headline, gaps stay gaps."""

from __future__ import annotations

import math

import pandas as pd

from dashboard import data, fmt


def group(name, status, staleness, **extra):
    return {"cluster": "c", "group": name, "status": status, "staleness_s": staleness,
            "offset_lag": 3, **extra}  # fmt: skip


def test_groups_frame_worst_first_and_missing_kept():
    rows = [
        group("a", "OK", 1.0),
        group("b", "STALL", 5.0),
        group("c", "WARN", None, eta_s=None),
        group("d", "STALL", 50.0, no_commit_partitions=2),
    ]
    frame = data.groups_frame(rows, sparklines={("c", "a"): [0.1, None, 0.3]})
    assert list(frame["group"]) == ["d", "b", "c", "a"]
    assert math.isnan(frame.loc[frame["group"] == "c", "staleness_s"].iloc[0])
    assert frame.loc[frame["group"] == "a", "trend"].iloc[0] == [0.1, None, 0.3]
    assert frame.loc[frame["group"] == "b", "trend"].iloc[0] is None
    assert frame.loc[frame["group"] == "d", "flags"].iloc[0] == "no_commitx2"
    assert frame.loc[frame["group"] == "a", "open"].iloc[0] == "group?group=a&cluster=c"


def test_group_link_encodes_reserved_characters():
    assert data.group_link("team/a b", "c1") == "group?group=team%2Fa+b&cluster=c1"


def test_filter_groups_by_cluster_status_and_name():
    frame = data.groups_frame(
        [group("orders-view", "OK", 1), group("billing", "STALL", 2), group("Orders-x", "WARN", 3)]
    )
    assert set(data.filter_groups(frame, name="ORDERS")["group"]) == {"orders-view", "Orders-x"}
    assert list(data.filter_groups(frame, statuses=["STALL"])["group"]) == ["billing"]
    assert data.filter_groups(frame, clusters=["other"]).empty
    assert len(data.filter_groups(frame)) == 3


def test_headline():
    rows = [group("a", "OK", 1.0), group("b", "STALL", 5.0), group("c", "ERROR", None)]
    slos = [{"group": "a", "meeting_objective": True}, {"group": "b", "meeting_objective": False}]
    head = data.headline(rows, slos)
    assert (head.worst_group, head.worst_staleness_s, head.worst_status) == ("b", 5.0, "STALL")
    assert head.needs_attention == 2
    assert head.attention_groups == ("b", "c")
    assert head.attention_status == "STALL"
    assert (head.slo_meeting, head.slo_total, head.slo_failing) == (1, 2, ("b",))


def test_headline_without_known_staleness():
    head = data.headline([group("a", "ERROR", None)], [])
    assert head.worst_group is None and head.worst_staleness_s is None
    assert head.slo_total == 0


def test_series_frame_keeps_gaps_and_converts_to_the_zone():
    answer = {"points": [[0, 1.5], [60, None], [120, 0.0]]}
    frame = data.series_frame(answer, fmt.zone("Europe/Berlin"))
    assert math.isnan(frame["value"].iloc[1])
    assert frame["value"].iloc[2] == 0.0
    assert str(frame["time"].iloc[0]) == "1970-01-01 01:00:00"
    assert frame["utc"].iloc[0] == "1970-01-01 00:00:00 UTC"
    assert data.series_frame(None, fmt.zone("UTC")).empty


def test_a_bucket_is_drawn_at_its_end_and_never_after_the_window():
    """A value sums up its bucket (the max of 12 s): drawn at the bucket's start, a
    staleness climbing from a fault at 100 s showed from 96 s on, before the fault."""
    answer = {"points": [[84.0, 0.0], [96.0, 4.0], [108.0, 12.0]]}
    frame = data.series_frame(answer, fmt.zone("UTC"), step=12.0, until=115.0)
    assert list(frame["epoch"]) == [96.0, 108.0, 115.0]  # the last bucket is still filling
    assert frame["utc"].iloc[0] == "1970-01-01 00:01:36 UTC"
    assert list(data.series_frame(answer, fmt.zone("UTC"))["epoch"]) == [84.0, 96.0, 108.0]


def test_partitions_frame_flags_and_order():
    detail = {
        "partitions": [
            {"topic": "t", "partition": 0, "status": "OK", "staleness_s": 0.0, "committed": 5,
             "log_end": 5},
            {"topic": "t", "partition": 1, "status": "STALL", "staleness_s": 9.0,
             "committed": 7, "log_end": 5, "no_commit": False},
            {"topic": "t", "partition": 2, "status": "OK", "staleness_s": None,
             "committed": None, "log_end": 3, "no_commit": True},
        ]
    }  # fmt: skip
    frame = data.partitions_frame(detail)
    assert list(frame["partition"]) == [1, 0, 2]
    assert frame["flags"].iloc[0] == "offset_out_of_range"
    assert frame["flags"].iloc[2] == "no_commit"
    assert math.isnan(frame["committed"].iloc[2])


def test_heatmap_from_series_aligns_times_and_leaves_holes():
    answers = {
        ("t", 0): {"points": [[0, 1.0], [10, 2.0]]},
        ("t", 1): {"points": [[10, 3.0], [20, None]]},
    }
    heat = data.heatmap_from_series("g", answers, 10.0)
    assert heat["times"] == [0.0, 10.0, 20.0]
    assert heat["step_s"] == 10.0
    assert heat["rows"][0]["values"] == [1.0, 2.0, None]
    assert heat["rows"][1]["values"] == [None, 3.0, None]


def test_range_window():
    assert data.range_window("5m", 1000.0) == (700.0, 1000.0)
    assert data.range_window("bogus", 5000.0) == (1400.0, 5000.0)
    assert data.range_window("custom", 0, (10.0, 20.0)) == (10.0, 20.0)
    assert data.range_window("custom", 0, (30.0, 20.0)) == (-40.0, 20.0)
    assert data.series_step(0, 300) == 1.0
    assert data.series_step(0, 86400) == 288.0


def test_for_table_unknown_is_inf_so_it_shows_a_dash_and_sorts_numerically():
    frame = pd.DataFrame({"eta_s": [5.0, None, 2.0], "group": ["a", "b", "c"]})
    table = data.for_table(frame, ["eta_s", "absent"])
    assert list(table["eta_s"]) == [5.0, math.inf, 2.0]
    assert table["eta_s"].dtype == float
    assert list(table.sort_values("eta_s")["group"]) == ["c", "a", "b"]
    assert frame["eta_s"].isna().sum() == 1  # the input is not changed
    assert fmt.seconds(math.inf) == fmt.MISSING and fmt.count(math.inf) == fmt.MISSING


def test_fault_words_keep_the_injected_fault_apart_from_the_status():
    assert data.fault_words({"running": True, "paused": False, "slow_ms": 0}) == ()
    assert data.fault_words({"running": True, "paused": True}) == ("PAUSED",)
    assert data.fault_words({"running": True, "slow_ms": 200}) == ("SLOW 200 ms/event",)
    assert data.fault_words({"running": False, "paused": False}) == ("RESTARTING",)
    assert data.fault_words({"running": True, "paused": True, "in_effect": False}) == (
        "PAUSED (requested)",
    )


FAULTS = [
    {"time": 100.0, "projection": "balances", "kind": "pause", "detail": "pause: in effect",
     "in_effect": True, "groups": ["t1-bank-balances"]},
    {"time": 110.0, "projection": "activity", "kind": "crash", "detail": "killed",
     "in_effect": True, "groups": ["t1-bank-activity"]},
    {"time": 120.0, "projection": None, "kind": "poison", "detail": "poison record",
     "in_effect": True, "groups": ["t1-bank-balances", "t1-bank-activity"]},
    {"time": 130.0, "projection": "balances", "kind": "slow", "detail": "asked",
     "in_effect": False, "groups": ["t1-bank-balances"]},
    {"time": 999.0, "projection": "balances", "kind": "resume", "detail": "later",
     "in_effect": True, "groups": ["t1-bank-balances"]},
    {"time": None, "projection": "balances", "kind": "resume", "groups": ["t1-bank-balances"]},
]  # fmt: skip


def test_fault_annotations_pick_the_group_and_the_window():
    notes = data.fault_annotations(FAULTS, "t1-bank-balances", 50.0, 500.0)
    assert [n["message"] for n in notes] == [
        "fault: pause balances", "fault: poison", "fault: slow balances (not confirmed)",
    ]  # fmt: skip
    assert all(n["kind"] == data.FAULT_KIND and n["group"] == "t1-bank-balances" for n in notes)
    assert [n["at"] for n in notes] == [100.0, 120.0, 130.0]
    assert notes[0]["detail"] == "pause: in effect"
    assert data.fault_annotations(FAULTS, "t1-bank-command-handler", 0, 1e9) == []
    assert data.fault_annotations(FAULTS, "bank-balances", 0, 1e9) == []  # another prefix


def test_fault_annotations_without_groups_use_the_demo_names():
    older = [{**f, "groups": None} for f in FAULTS[:3]]
    older = [{k: v for k, v in f.items() if k != "groups"} for f in older]
    balances = data.fault_annotations(older, "t1-bank-balances", 0, 1e9)
    assert [n["message"] for n in balances] == ["fault: pause balances", "fault: poison"]
    handler = data.fault_annotations(older, "t1-bank-command-handler", 0, 1e9)
    assert handler == []


def test_merge_annotations_oldest_first_collector_first_on_ties():
    collector = [
        {"at": 120.0, "kind": "status_change", "group": "g", "message": "OK -> WARN"},
        {"at": 90.0, "kind": "collector_start", "group": None, "message": "started"},
    ]
    faults = data.fault_annotations(FAULTS, "t1-bank-balances", 0, 500)
    merged = data.merge_annotations(collector, faults)
    assert [(n["at"], n["kind"]) for n in merged] == [
        (90.0, "collector_start"), (100.0, "fault"), (120.0, "status_change"),
        (120.0, "fault"), (130.0, "fault"),
    ]  # fmt: skip
    assert data.merge_annotations(collector, []) == sorted(collector, key=lambda n: n["at"])


def test_shown_window_starts_at_the_first_known_value():
    answers = [
        {"points": [[100.0, None], [130.0, 2.0], [140.0, 3.0]]},
        {"points": [[120.0, 1.0]]},
        None,
        ValueError("an ApiError stands here"),
    ]
    assert data.shown_window(answers, 0.0, 200.0) == (120.0, 200.0)
    assert data.shown_window(answers, 125.0, 200.0) == (125.0, 200.0)  # never before start
    assert data.shown_window([{"points": [[1.0, None]]}], 0.0, 200.0) == (0.0, 200.0)
    assert data.shown_window([], 0.0, 200.0) == (0.0, 200.0)


def test_the_pipeline_takes_its_stages_from_the_groups_rows_of_the_table() -> None:
    from dashboard.data import current_pipeline

    pipeline = {
        "name": "bank",
        "cluster": "local",
        "handler": {"group": "h", "status": "OK", "staleness_s": 0.03, "offset_lag": 1},
        "projections": [
            {"group": "p1", "status": "STALL", "staleness_s": 31.0, "offset_lag": 1414},
            {"group": "p2", "status": "OK", "staleness_s": 0.02, "offset_lag": 4},
        ],
        "staleness_s": 31.03,
    }
    rows = [  # one cycle earlier: p1 was still OK at 30 s
        {"cluster": "local", "group": "h", "status": "OK", "staleness_s": 0.0, "offset_lag": 0},
        {"cluster": "local", "group": "p1", "status": "OK", "staleness_s": 30.0,
         "offset_lag": 1390},
        {"cluster": "other", "group": "p2", "status": "ERROR", "staleness_s": None,
         "offset_lag": None},  # another cluster's group of the same name: not this stage
    ]  # fmt: skip
    shown = current_pipeline(pipeline, rows)
    assert shown["handler"]["staleness_s"] == 0.0
    assert shown["projections"][0] == {
        "group": "p1", "status": "OK", "staleness_s": 30.0, "offset_lag": 1390
    }  # fmt: skip
    assert shown["projections"][1] == pipeline["projections"][1]  # no row: as the topology
    assert shown["staleness_s"] == 30.0  # handler + the largest projection staleness
    assert pipeline["projections"][0]["status"] == "STALL"  # the answer is not changed
    unknown = current_pipeline(pipeline, [{**rows[0], "staleness_s": None}])
    assert unknown["staleness_s"] is None  # an unknown handler is never read as fresh
