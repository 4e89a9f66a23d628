"""``lagwatch bench core`` at a tiny size: the result's structure, and that the changed
fraction of inputs really changes the collector's values (no timing assertions)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from collectors.devtools import bench_core
from collectors.devtools.bench_core import Plan, SyntheticCluster, report, run_core

TINY = Plan(groups=4, topics=2, partitions_per_topic=250, cycles=3, warmup=0, seed=3)


def _lag_by_key(cycle) -> dict[tuple[str, str, int], int]:
    table = cycle.partitions
    return {
        (k.group, k.topic, k.partition): int(v)
        for k, v in zip(table.keys.keys, table.columns.offset_lag, strict=True)
    }


def test_tiny_run_has_every_cycle_and_the_changed_fraction_changes_lags() -> None:
    seen: list[tuple[dict, dict, np.ndarray, np.ndarray]] = []
    names: dict[str, list] = {}

    def on_cycle(i: int, cycle, cluster: SyntheticCluster) -> None:
        names.update(groups=cluster.group_names, tps=cluster.tps)
        truth = {
            (g, *tp): int(cluster.log_end[p] - cluster.commits[gi, p])
            for gi, g in enumerate(cluster.group_names)
            for p, tp in enumerate(cluster.tps)
        }
        seen.append((_lag_by_key(cycle), truth, cluster.log_end.copy(), cluster.commits.copy()))

    result = run_core(TINY, on_cycle=on_cycle)

    assert TINY.group_partitions == 2_000
    assert len(seen) == 1 + TINY.warmup + TINY.cycles
    assert len(result.measured) == TINY.cycles
    assert result.cold.rows == 2_000 and all(s.rows == 2_000 for s in result.measured)
    assert result.checked_rows == 2_000 * len(seen)
    assert result.cold.fetches > 0  # the cold cycle reads record timestamps
    assert result.peak_rss_mb > 0 and result.rss_after_setup_mb > 0
    assert sum(result.statuses.values()) == 2_000
    for sample in result.measured:
        assert sample.cpu_s >= 0 and sample.wall_s > 0
        assert sample.changed_log_ends == 5  # 1% of 500 partitions
        assert sample.changed_commits == 20  # 1% of 2,000 group-partitions

    groups, tps = names["groups"], names["tps"]
    for (before, _, ends0, commits0), (after, truth, ends1, commits1) in itertools.pairwise(seen):
        assert after == truth  # the collector's lag is the synthetic truth on every row
        committed = {
            (groups[g], *tps[p]) for g, p in zip(*np.nonzero(commits1 != commits0), strict=True)
        }
        appended = {tps[p] for p in np.flatnonzero(ends1 != ends0)}
        assert len(committed) == 20 and len(appended) == 5
        changed_inputs = committed | {k for k in after if k[1:] in appended}
        changed_lags = {k for k in after if after[k] != before[k]}
        # Unchanged inputs keep their lag; a changed one changes it unless a commit and
        # new records on the same partition happen to cancel out.
        assert changed_lags <= changed_inputs
        assert len(changed_lags) >= 0.9 * len(changed_inputs)


def test_report_is_labelled_synthetic_and_names_targets_and_parameters() -> None:
    result = run_core(TINY)
    text = report(result)
    assert "synthetic: pure core, no broker, no store, no HTTP" in text
    assert "2,000 group-partitions" in text
    assert "4 groups" in text and "2 topics x 250 partitions" in text
    assert "1.5 s CPU" in text and "1.5 GB" in text
    assert text.count("| PASS") + text.count("| MISS") == 2


@pytest.mark.parametrize(
    ("plan", "named"),
    [
        (Plan(groups=0), "--groups"),
        (Plan(change_fraction=1.5), "--change-fraction"),
        (Plan(cycles=0), "--cycles"),
        (Plan(interval_s=0), "--interval"),
    ],
)
def test_bad_parameters_are_named(plan: Plan, named: str) -> None:
    assert named in (plan.problem() or "")


def test_the_bench_command_is_registered() -> None:
    import argparse

    from collectors.cli import bench

    parser = argparse.ArgumentParser()
    bench.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["bench", "core", "--groups", "2", "--no-write"])
    assert args.handler is bench_core.run
    assert args.groups == 2 and args.change_fraction == 0.01
