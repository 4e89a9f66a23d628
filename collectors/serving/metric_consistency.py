"""Visibility, probe and windowed-SLO metric families (issue 12), from the snapshot's
``ConsistencyView``. Same conventions as ``metric_self``: unknown values give no sample.
"""

from __future__ import annotations

from collections.abc import Mapping

from collectors.core.consistency import ConsistencyView, CumulativeHistogram
from collectors.core.visibility import BOUNDS
from collectors.serving.metric_text import format_le, gauge_family, header, labels

_LE = [format_le(b) for b in (*BOUNDS, float("inf"))]


def consistency_families(view: ConsistencyView | None) -> list[str]:
    if view is None:
        return []
    visibility = {labels(cluster=c, group=g): h for (c, g), h in sorted(view.visibility.items())}
    probes = {labels(probe=p): h for p, h in sorted(view.probes.items())}
    windows = [
        (labels(cluster=c, group=g, window=name), w)
        for (c, g), by_window in sorted(view.slo_windows.items())
        for name, w in by_window.items()
    ]
    return [
        _histogram(
            "lagwatch_visibility_seconds",
            "Passive visibility latency: seen-at time of a moved committed offset minus the "
            "timestamp of the last record it covers (samples during a REWIND excluded).",
            visibility,
        ),
        gauge_family(
            "lagwatch_visibility_replay_samples_total",
            "Passive visibility samples taken during a REWIND (a replay), kept apart.",
            [(labels(cluster=c, group=g), n) for (c, g), n in sorted(view.replay_samples.items())],
            lambda n: n,
            kind="counter",
        ),
        _histogram(
            "lagwatch_probe_visibility_seconds",
            "Read-your-writes probe latency: first read that saw the command's effect minus "
            "the command's acceptance (or send) time; visible probes only.",
            probes,
        ),
        gauge_family(
            "lagwatch_probe_results_total",
            "Finished probes by outcome (visible, timeout, error).",
            [(labels(probe=p, outcome=o), n) for (p, o), n in sorted(view.probe_outcomes.items())],
            lambda n: n,
            kind="counter",
        ),
        gauge_family(
            "lagwatch_probe_failures_total",
            "Probes that timed out or failed, by reason kind (e.g. command_connect, "
            "check_status, not_visible).",
            [(labels(probe=p, reason=r), n) for (p, r), n in sorted(view.probe_failures.items())],
            lambda n: n,
            kind="counter",
        ),
        gauge_family(
            "lagwatch_slo_window_compliance_ratio",
            "Freshness SLO compliance (good / observations) over the window (5m, 30m, 1h, "
            "6h, period), from the collector's stored history.",
            windows,
            lambda w: w.compliance,
        ),
        gauge_family(
            "lagwatch_slo_window_burn_rate",
            "Freshness SLO burn rate over the window: error ratio / (1 - objective).",
            windows,
            lambda w: w.burn_rate,
        ),
        gauge_family(
            "lagwatch_slo_window_error_budget_remaining_ratio",
            "Share of the window's error budget left (1 untouched, 0 spent, < 0 overspent).",
            windows,
            lambda w: w.error_budget_remaining,
        ),
    ]


def _histogram(name: str, help_text: str, rows: Mapping[str, CumulativeHistogram]) -> str:
    lines: list[str] = []
    for lbl, h in rows.items():
        lines += [
            f'{name}_bucket{{{lbl},le="{le}"}} {n}\n' for le, n in zip(_LE, h.buckets, strict=True)
        ]
        lines.append(f"{name}_sum{{{lbl}}} {h.total}\n")
        lines.append(f"{name}_count{{{lbl}}} {h.count}\n")
    return header(name, "histogram", help_text) + "".join(lines)
