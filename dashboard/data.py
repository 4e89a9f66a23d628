"""Pure shaping of collector JSON into what the pages show (no Streamlit, no I/O).

Missing values stay missing (None/NaN), never 0: a gap in a chart, ``—`` in a table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard.theme import NEEDS_ATTENTION, status_rank

RANGES: dict[str, float] = {"5m": 300, "1h": 3600, "24h": 86400, "7d": 7 * 86400}


def _value(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def times(epochs: Sequence[float], tz: ZoneInfo) -> pd.DatetimeIndex:
    """Epoch seconds -> naive wall-clock times in ``tz`` (what Plotly draws as is)."""
    idx = pd.to_datetime(pd.Series(epochs, dtype="float64"), unit="s", utc=True)
    return pd.DatetimeIndex(idx.dt.tz_convert(tz).dt.tz_localize(None))


def utc_labels(epochs: Sequence[float]) -> list[str]:
    idx = pd.to_datetime(pd.Series(epochs, dtype="float64"), unit="s", utc=True)
    return list(idx.dt.strftime("%Y-%m-%d %H:%M:%S UTC"))


def bucket_ends(starts: Iterable[float], step: float, until: float | None) -> list[float]:
    """Where each bucket's value is drawn: at the end of the bucket (``start + step``),
    at most ``until`` (the window's end: the last bucket is still filling).

    The API gives bucket starts; a value summarises its whole bucket (the max of a
    12 s bucket in a 1 h view), so drawn at the start, a staleness climbing from a
    fault showed up to one bucket *before* the fault's marker. Drawn at the end, as
    Prometheus draws a range query, a point sums up the time before it and never
    leads its cause. ``step`` 0 keeps the starts."""
    ends = [float(t) + step for t in starts]
    return ends if until is None else [min(t, until) for t in ends]


def series_frame(
    answer: Mapping[str, Any] | None,
    tz: ZoneInfo,
    step: float = 0.0,
    until: float | None = None,
) -> pd.DataFrame:
    """``/api/v1/series`` -> columns ``epoch``, ``time`` (wall clock in ``tz``),
    ``utc`` (text) and ``value`` (NaN where the collector had no value). With the
    ``step`` the series was asked with, each point is placed at the end of its bucket,
    at most ``until`` (``bucket_ends``)."""
    points = list((answer or {}).get("points") or [])
    epochs = bucket_ends((float(p[0]) for p in points), step, until)
    values = [_value(p[1]) for p in points]
    return pd.DataFrame(
        {
            "epoch": pd.Series(epochs, dtype="float64"),
            "time": times(epochs, tz),
            "utc": utc_labels(epochs),
            "value": pd.Series([math.nan if v is None else v for v in values], dtype="float64"),
        }
    )


def sparkline(answer: Mapping[str, Any] | None) -> list[float | None]:
    """Values of a series answer for a LineChartColumn; None where missing."""
    return [_value(p[1]) for p in (answer or {}).get("points") or []]


def flags(row: Mapping[str, Any]) -> str:
    """Flags of a group or partition row as short words: ``no_commitx3 events_expired``."""
    out = []
    for key, word in (
        ("no_commit_partitions", "no_commit"),
        ("events_expired_partitions", "events_expired"),
    ):
        n = row.get(key) or 0
        if n:
            out.append(f"{word}x{n}" if n > 1 else word)
    for key in ("no_commit", "events_expired", "clock_skew"):
        if row.get(key) is True:
            out.append(key)
    committed, log_end = row.get("committed"), row.get("log_end")
    if committed is not None and log_end is not None and committed > log_end:
        out.append("offset_out_of_range")
    if row.get("error"):
        out.append("error")
    return " ".join(out)


STAGE_FIELDS = ("status", "staleness_s", "offset_lag")


def current_pipeline(pipeline: dict[str, Any], groups: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """``pipeline`` (one of ``/api/v1/topology``'s) with each stage's status, staleness
    and lag taken from ``groups`` (the same collector's ``/api/v1/groups`` rows) where
    the stage's group is among them, and the pipeline's staleness recomputed from those
    (handler + the largest known projection staleness; unknown when either is, as the
    collector's ``core.pipeline``). The two answers can come from two cycles; taken
    from the rows, the flow never shows STALL beside a table that says OK."""
    by_group = {(g.get("cluster"), g.get("group")): g for g in groups}
    cluster = pipeline.get("cluster")

    def stage(values: dict[str, Any]) -> dict[str, Any]:
        row = by_group.get((cluster, values.get("group")))
        return values if row is None else {**values, **{k: row.get(k) for k in STAGE_FIELDS}}

    handler = stage(pipeline.get("handler") or {})
    projections = [stage(p) for p in pipeline.get("projections") or []]
    known = [p["staleness_s"] for p in projections if p.get("staleness_s") is not None]
    first = handler.get("staleness_s")
    total = None if first is None or not known else first + max(known)
    return {**pipeline, "handler": handler, "projections": projections, "staleness_s": total}


def group_link(group: str, cluster: str | None, collector: str | None = None) -> str:
    """Relative link to the group page; the selection lives in the query string."""
    params = {"group": group}
    if cluster:
        params["cluster"] = cluster
    if collector:
        params["collector"] = collector
    return "group?" + urlencode(params)


GROUP_COLUMNS = [
    "status",
    "group",
    "cluster",
    "staleness_s",
    "trend",
    "offset_lag",
    "eta_s",
    "data_age_s",
    "consume_rate",
    "produce_rate",
    "members",
    "state",
    "partitions",
    "flags",
    "open",
]


def groups_frame(
    groups: Iterable[Mapping[str, Any]],
    sparklines: Mapping[tuple[str, str], list[float | None]] | None = None,
    collector: str | None = None,
) -> pd.DataFrame:
    """One row per group, worst first (status severity, then staleness).

    ``sparklines`` maps (cluster, group) to recent staleness values; groups without
    one get None (a blank cell, not a flat line). ``collector`` goes into the links
    when several collectors are shown.
    """
    rows = []
    sparks = sparklines or {}
    for g in groups:
        cluster, name = g.get("cluster") or "", g.get("group") or ""
        rows.append(
            {
                "status": g.get("status") or "ERROR",
                "group": name,
                "cluster": cluster,
                "staleness_s": _value(g.get("staleness_s")),
                "trend": sparks.get((cluster, name)),
                "offset_lag": _value(g.get("offset_lag")),
                "eta_s": _value(g.get("eta_s")),
                "data_age_s": _value(g.get("data_age_s")),
                "consume_rate": _value(g.get("consume_rate")),
                "produce_rate": _value(g.get("produce_rate")),
                "members": _value(g.get("members")),
                "state": g.get("state"),
                "partitions": _value(g.get("partitions")),
                "flags": flags(g),
                "open": group_link(name, cluster, collector),
                "_rank": status_rank(g.get("status")),
            }
        )
    frame = pd.DataFrame(rows, columns=[*GROUP_COLUMNS, "_rank"])
    for column in ("staleness_s", "offset_lag", "eta_s", "data_age_s", "consume_rate"):
        frame[column] = frame[column].astype("float64")
    for column in ("produce_rate", "members", "partitions"):
        frame[column] = frame[column].astype("float64")
    frame = frame.sort_values(
        ["_rank", "staleness_s", "group"], ascending=[True, False, True], na_position="last"
    )
    return frame.drop(columns="_rank").reset_index(drop=True)


def filter_groups(
    frame: pd.DataFrame,
    clusters: Sequence[str] = (),
    statuses: Sequence[str] = (),
    name: str = "",
) -> pd.DataFrame:
    """Rows matching every given filter (empty filter = all); ``name`` is a
    case-insensitive substring."""
    mask = pd.Series(True, index=frame.index)
    if clusters:
        mask &= frame["cluster"].isin(list(clusters))
    if statuses:
        mask &= frame["status"].isin(list(statuses))
    if name.strip():
        mask &= frame["group"].str.contains(name.strip(), case=False, regex=False)
    return frame[mask]


@dataclass(frozen=True, slots=True)
class Headline:
    """The four numbers at the top of the Overview."""

    worst_staleness_s: float | None
    worst_group: str | None
    worst_status: str | None
    groups: int
    needs_attention: int
    attention_groups: tuple[str, ...]
    attention_status: str | None  # the worst status among them; None when none
    slo_total: int
    slo_meeting: int
    slo_failing: tuple[str, ...]


def headline(groups: Sequence[Mapping[str, Any]], slos: Sequence[Mapping[str, Any]]) -> Headline:
    """Worst staleness (and its group), SLOs met, groups needing attention.

    Groups with unknown staleness are not the "worst"; they count as needing
    attention only through their status (ERROR/WARN/STALL/STOPPED).
    """
    known = [g for g in groups if _value(g.get("staleness_s")) is not None]
    worst = max(known, key=lambda g: _value(g.get("staleness_s")) or 0.0, default=None)
    attention = sorted(
        (g for g in groups if (g.get("status") or "ERROR") in NEEDS_ATTENTION),
        key=lambda g: (status_rank(g.get("status")), -(_value(g.get("staleness_s")) or 0.0)),
    )
    meeting = [s for s in slos if s.get("meeting_objective") is True]
    failing = tuple(str(s.get("group")) for s in slos if s.get("meeting_objective") is False)
    return Headline(
        worst_staleness_s=_value(worst.get("staleness_s")) if worst else None,
        worst_group=str(worst.get("group")) if worst else None,
        worst_status=worst.get("status") if worst else None,
        groups=len(groups),
        needs_attention=len(attention),
        attention_groups=tuple(str(g.get("group")) for g in attention),
        attention_status=(attention[0].get("status") or "ERROR") if attention else None,
        slo_total=len(slos),
        slo_meeting=len(meeting),
        slo_failing=failing,
    )


def partitions_frame(detail: Mapping[str, Any]) -> pd.DataFrame:
    """The group page's partition table: worst first, missing values kept as NaN."""
    columns = [
        "status",
        "topic",
        "partition",
        "committed",
        "log_end",
        "offset_lag",
        "staleness_s",
        "staleness_method",
        "data_age_s",
        "consume_rate",
        "produce_rate",
        "eta_s",
        "flags",
        "error",
    ]
    rows = []
    for p in detail.get("partitions") or []:
        row = {c: p.get(c) for c in columns}
        row["flags"] = flags(p)
        row["_rank"] = status_rank(p.get("status"))
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*columns, "_rank"])
    for c in ("committed", "log_end", "offset_lag", "staleness_s", "data_age_s", "eta_s"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    for c in ("consume_rate", "produce_rate"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    frame = frame.sort_values(
        ["_rank", "staleness_s", "topic", "partition"],
        ascending=[True, False, True, True],
        na_position="last",
    )
    return frame.drop(columns="_rank").reset_index(drop=True)


def heatmap_from_series(
    group: str,
    answers: Mapping[tuple[str, int], Mapping[str, Any]],
    step: float,
) -> dict[str, Any]:
    """Build the ``/api/v1/heatmap`` shape from per-partition series answers
    (the fallback for a collector without that endpoint). Times are the union of
    every series' bucket starts; a partition without a value at a time gets None.
    ``step`` is the bucket width the series were asked with."""
    all_times = sorted({float(p[0]) for a in answers.values() for p in a.get("points") or []})
    index = {t: i for i, t in enumerate(all_times)}
    rows = []
    for (topic, partition), answer in sorted(answers.items()):
        values: list[float | None] = [None] * len(all_times)
        for t, v in answer.get("points") or []:
            values[index[float(t)]] = _value(v)
        rows.append({"topic": topic, "partition": partition, "values": values})
    return {
        "group": group,
        "metric": "staleness_s",
        "times": all_times,
        "step_s": step,
        "rows": rows,
    }


def range_window(
    name: str, now: float, custom: tuple[float, float] | None = None
) -> tuple[float, float]:
    """``(start, end)`` epoch seconds for a range name (5m, 1h, 24h, 7d) or ``custom``.

    Unknown names fall back to 1h; a custom range with start >= end is widened to
    one minute before its end.
    """
    if name == "custom" and custom is not None:
        start, end = custom
        return (start, end) if start < end else (end - 60, end)
    return now - RANGES.get(name, 3600), now


def series_step(start: float, end: float, points: int = 300) -> float:
    """Bucket width giving about ``points`` points over the window (at least 1 s)."""
    return max(1.0, (end - start) / points)


# --- tables: unknown shown as "—", numbers still sort as numbers ------------------------

UNKNOWN_SORTS_AS = math.inf


def for_table(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A copy with unknown (NaN/None) numbers in ``columns`` replaced by +inf.

    Why: ``st.dataframe`` draws a null cell as a grey "None" whatever the Styler says,
    but draws a non-null cell with the Styler's text. +inf is not null, so the table
    shows the formatter's "—" (``fmt`` treats ±inf as unknown) while the column stays
    numeric and sorts by value; unknown sorts as the largest value (for an ETA, "not
    catching up" is the longest wait, which is honest). Columns missing from the
    frame are ignored.
    """
    out = frame.copy()
    for column in columns:
        if column in out.columns:
            out[column] = (
                pd.to_numeric(out[column], errors="coerce").astype(float).fillna(UNKNOWN_SORTS_AS)
            )
    return out


# --- the demo --------------------------------------------------------------------------


def fault_words(projection: Mapping[str, Any]) -> tuple[str, ...]:
    """The injected faults a projection from ``/demo/status`` is under, as chip words:
    ``RESTARTING`` (process not running: crashed, the supervisor restarts it),
    ``PAUSED``, ``SLOW 200 ms/event``; ``(requested)`` is appended while the
    projection has not acknowledged the fault (``in_effect`` false). Empty: no fault.
    A rebalance is transient and not in the status, so it never shows here.
    """
    words: list[str] = []
    if projection.get("running") is False:
        words.append("RESTARTING")
    if projection.get("paused"):
        words.append("PAUSED")
    slow = _value(projection.get("slow_ms"))
    if slow:
        words.append(f"SLOW {slow:.0f} ms/event")
    if words and projection.get("in_effect") is False:
        words[-1] += " (requested)"
    return tuple(words)


@dataclass(frozen=True, slots=True)
class BalanceReading:
    """One look at an account: the write side's and the balances read model's balance
    (cents; None = unknown or not visible yet) at epoch second ``t``."""

    t: float
    write_side: float | None
    read_model: float | None


def balance_frame(readings: Sequence[BalanceReading]) -> pd.DataFrame:
    """Long frame ``time, source, balance`` (currency units, NaN = unknown) for a chart."""
    rows = []
    for r in readings:
        for source, cents in (("write side", r.write_side), ("read model: balances", r.read_model)):
            value = _value(cents)
            rows.append({"time": r.t, "source": source,
                         "balance": math.nan if value is None else value / 100})  # fmt: skip
    return pd.DataFrame(rows, columns=["time", "source", "balance"])


FAULT_KIND = "fault"  # the annotation kind of an injected demo fault (never the collector's)


def fault_annotations(
    faults: Sequence[Mapping[str, Any]], group: str, start: float, end: float
) -> list[dict[str, Any]]:
    """The demo's injected faults (``/demo/faults/history``) that concern ``group``, in
    the shape of the collector's annotations (``at``, ``kind``, ``group``, ``message``).

    A fault concerns the groups it names (``groups``: the projection's consumer group, or
    every projection's for poison); an entry without ``groups`` (an older demo) matches a
    group whose name ends in ``bank-<projection>`` (the demo's names are prefixed). Poison
    without ``groups`` concerns every ``bank-*`` projection group but not the command
    handler. Entries outside ``[start, end]`` or without a time are left out. The message
    reads "fault: pause balances" (plus "(not confirmed)" when not ``in_effect``).
    """
    out: list[dict[str, Any]] = []
    for fault in faults:
        at = _value(fault.get("time"))
        if at is None or not start <= at <= end:
            continue
        projection = fault.get("projection")
        named = fault.get("groups")
        if named is not None:
            concerned = group in named
        elif projection:
            concerned = group.endswith(f"bank-{projection}")
        else:
            concerned = "bank-" in group and not group.endswith("bank-command-handler")
        if not concerned:
            continue
        words = " ".join(str(w) for w in ("fault:", fault.get("kind") or "?", projection) if w)
        if fault.get("in_effect") is False:
            words += " (not confirmed)"
        out.append(
            {
                "at": at,
                "kind": FAULT_KIND,
                "cluster": None,
                "group": group,
                "message": words,
                "detail": str(fault.get("detail") or ""),
            }
        )
    return out


def merge_annotations(
    collector: Sequence[Mapping[str, Any]], faults: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Collector annotations and fault annotations in one list, oldest first (stable:
    at equal times the collector's come first). Entries without a time keep their
    place at the end rather than being dropped."""
    items = [dict(a) for a in collector] + [dict(f) for f in faults]

    def when(a: Mapping[str, Any]) -> float:
        v = _value(a.get("at", a.get("time")))
        return math.inf if v is None else v

    return sorted(items, key=when)


def shown_window(
    answers: Iterable[Mapping[str, Any] | Exception | None], start: float, end: float
) -> tuple[float, float]:
    """The time range every chart of a group page shows: ``[start, end]``, narrowed at
    the start to the earliest known value of any series (a young group's 1 h view would
    otherwise be a sliver at the right). Answers that are errors or have no known value
    are ignored; with no value at all, ``(start, end)``."""
    first = math.inf
    for answer in answers:
        if not isinstance(answer, Mapping):
            continue
        for point in answer.get("points") or ():
            if len(point) > 1 and _value(point[1]) is not None and _value(point[0]) is not None:
                first = min(first, float(point[0]))
                break  # points are ascending: the first known value is the earliest
    return (max(start, first), end) if math.isfinite(first) and first < end else (start, end)
