"""The /metrics exposition: parses, matches docs/metrics.md exactly, carries exact values."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from collectors.core.consistency import ConsistencyView
from collectors.core.model import (
    Aggregate,
    ClusterHealth,
    CollectorStats,
    GroupLag,
    GroupTopicLag,
    PartitionKey,
    PartitionLag,
    SloState,
    Snapshot,
    StalenessMethod,
    Status,
)
from collectors.core.slo import stats_of_counts
from collectors.core.visibility import HistogramSet
from collectors.serving import metric_partitions
from collectors.serving.exposition import CONTENT_TYPE, GRANULARITIES, MetricsRenderer, gzip_pieces
from collectors.store.columns import partition_table

DOC = Path(__file__).resolve().parents[3] / "docs" / "metrics.md"
NOW = 1_800_000_000.0
WEIRD = 'we"ird\\group\nx'  # needs every escape of the exposition format


def documented() -> dict[str, set[str]]:
    """Metric name -> granularities it is documented for, from the doc's metrics table."""
    rows: dict[str, set[str]] = {}
    for line in DOC.read_text().splitlines():
        m = re.match(r"\|\s*`(lagwatch_[a-z_]+)`\s*\|\s*(\w+)\s*\|[^|]*\|\s*(\w+)\s*\|", line)
        if m:
            name, _kind, gran = m.groups()
            rows[name] = set(GRANULARITIES) if gran == "all" else {gran}
    return rows


def exposed(text: str) -> dict[str, object]:
    """Parsed families by exposed name (counters get their ``_total`` back)."""
    families = {}
    for fam in text_string_to_metric_families(text):
        name = fam.name + ("_total" if fam.type == "counter" else "")
        families[name] = fam
    return families


def samples(text: str, name: str) -> dict[frozenset, float]:
    return {
        frozenset(s.labels.items()): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.name == name
    }


def agg(lag: int, status: Status, **kw: object) -> Aggregate:
    base = dict(
        offset_lag=lag,
        staleness_s=12.5 if lag else 0.0,
        data_age_s=30.0,
        consume_rate=4.0,
        produce_rate=2.0,
        eta_s=lag / 2.0 if lag else None,
        status=status,
        partitions=2,
        no_commit_partitions=0,
        events_expired_partitions=0,
    )
    base.update(kw)
    return Aggregate(**base)  # type: ignore[arg-type]


def part(group: str, p: int, status: Status, cluster: str = "prod", **kw: object) -> PartitionLag:
    base = dict(
        key=PartitionKey(cluster, group, "bank.events", p),
        observed_at=NOW,
        log_start=0,
        log_end=100,
        committed=90,
        offset_lag=10,
        no_commit=False,
        events_expired=False,
        staleness_s=12.5,
        staleness_method=StalenessMethod.EXACT,
        data_age_s=30.0,
        clock_skew=False,
        consume_rate=4.0,
        produce_rate=2.0,
        eta_s=5.0,
        status=status,
    )
    base.update(kw)
    return PartitionLag(**base)  # type: ignore[arg-type]


def representative() -> Snapshot:
    """Every feature: all statuses, both flags, SLOs, errors, two clusters, EMPTY/DEAD."""
    groups, topics, partitions = [], [], []
    for status in Status:
        name = f"rm-{status.value.lower()}"
        state = {Status.STOPPED: "EMPTY", Status.IDLE: "DEAD"}.get(status, "STABLE")
        extra = {}
        if status is Status.ERROR:
            extra = {"events_expired_partitions": 1, "no_commit_partitions": 1, "eta_s": None}
        a = agg(10 * SEVERITY_RANK[status], status, **extra)
        groups.append(GroupLag("prod", name, NOW, state, 2, ("bank.events",), a))
        topics.append(GroupTopicLag("prod", name, "bank.events", NOW, a))
        replay = {"replay_progress": 0.25} if status is Status.REWIND else {}
        partitions += [part(name, 0, status, **replay), part(name, 1, status, eta_s=None)]
    partitions[-1] = part(
        "rm-error", 1, Status.ERROR, committed=None, no_commit=True, offset_lag=None
    )
    partitions[-2] = part("rm-error", 0, Status.ERROR, log_start=95, events_expired=True)
    weird = GroupLag("prod", WEIRD, NOW, "STABLE", 1, ("bank.events",), agg(3, Status.OK))
    groups.append(weird)
    topics.append(GroupTopicLag("prod", WEIRD, "bank.events", NOW, weird.lag))
    partitions.append(part(WEIRD, 0, Status.OK, offset_lag=3))
    return Snapshot(
        taken_at=NOW,
        cycle_duration_s=0.8,
        partitions=tuple(partitions),
        topics=tuple(topics),
        groups=tuple(groups),
        clusters=(
            ClusterHealth("prod", True, NOW, None),
            ClusterHealth("staging", False, NOW - 600, "broker unreachable"),
        ),
        stats=CollectorStats(
            started_at=NOW - 3600,
            cycles_total=7,
            cycle_durations_s=(0.8,),
            cycle_duration_sum_s=5.5,
            cycle_duration_buckets=((0.5, 2), (1.0, 6), (float("inf"), 7)),
            errors_total={"list_offsets": 2, "timestamp_read": 5},
            timestamp_cache_hits=30,
            timestamp_cache_misses=10,
            last_success_at=NOW - 1,
        ),
        slos=(
            SloState("prod", "rm-ok", 2.0, 0.99, 1000, 990),
            SloState("prod", "rm-stopped", 5.0, 0.999, 400, 100),
        ),
        consistency=consistency_view(),
    )


def consistency_view() -> ConsistencyView:
    """Passive and probe histograms, probe outcomes and SLO windows (issue 12)."""
    passive = HistogramSet()
    passive.observe(("prod", "rm-ok"), np.array([0.02, 0.3, 0.3, 7.0]))
    probes = HistogramSet()
    probes.observe(("deposit",), np.array([0.25]))
    return ConsistencyView(
        visibility=passive.freeze(),
        replay_samples={("prod", "rm-ok"): 3},
        probes={"deposit": probes.freeze()[("deposit",)]},
        probe_outcomes={("deposit", "visible"): 1, ("deposit", "timeout"): 2},
        probe_failures={("deposit", "not_visible"): 2},
        slo_windows={
            ("prod", "rm-ok"): {
                "5m": stats_of_counts(27, 30, 0.99),
                "period": stats_of_counts(0, 0, 0.99),  # no observation: no sample
            }
        },
    )


def test_consistency_families_carry_exact_values() -> None:
    text = MetricsRenderer("group").render(representative()).decode()
    ok = frozenset({("cluster", "prod"), ("group", "rm-ok")})
    buckets = samples(text, "lagwatch_visibility_seconds_bucket")
    assert buckets[ok | {("le", "0.025")}] == 1
    assert buckets[ok | {("le", "0.5")}] == 3
    assert buckets[ok | {("le", "5.0")}] == 3
    assert buckets[ok | {("le", "10.0")}] == 4
    assert buckets[ok | {("le", "+Inf")}] == 4
    assert samples(text, "lagwatch_visibility_replay_samples_total") == {ok: 3}
    window = ok | {("window", "5m")}
    assert samples(text, "lagwatch_slo_window_burn_rate") == {window: pytest.approx(10.0)}
    assert samples(text, "lagwatch_slo_window_compliance_ratio") == {window: 0.9}
    failures = samples(text, "lagwatch_probe_failures_total")
    assert failures == {frozenset({("probe", "deposit"), ("reason", "not_visible")}): 2}


SEVERITY_RANK = {s: i for i, s in enumerate(Status)}


@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_exposition_contains_exactly_the_documented_metrics(granularity: str) -> None:
    docs = documented()
    assert len(docs) > 30, "the metrics table in docs/metrics.md was not found"
    text = MetricsRenderer(granularity).render(representative()).decode()
    want = {name for name, grans in docs.items() if granularity in grans}
    got = exposed(text)
    assert set(got) == want
    empty = [name for name, fam in got.items() if not fam.samples]
    assert empty == [], f"documented metrics with no sample in the representative snapshot: {empty}"


def test_documented_types_match_the_exposition() -> None:
    kinds = {
        m.group(1): m.group(2)
        for m in re.finditer(r"\|\s*`(lagwatch_[a-z_]+)`\s*\|\s*(\w+)\s*\|", DOC.read_text())
    }
    for gran in GRANULARITIES:
        for name, fam in exposed(MetricsRenderer(gran).render(representative()).decode()).items():
            assert kinds[name] == fam.type, name


def test_exact_values_of_group_partition_and_self_metrics() -> None:
    text = MetricsRenderer("partition").render(representative()).decode()
    lag = samples(text, "lagwatch_group_offset_lag")
    assert lag[frozenset({("cluster", "prod"), ("group", "rm-warn")})] == 10
    assert lag[frozenset({("cluster", "prod"), ("group", WEIRD)})] == 3  # escaping round-trips
    status = samples(text, "lagwatch_group_status")
    stopped = {k: v for k, v in status.items() if ("group", "rm-stopped") in k}
    assert len(stopped) == len(Status)
    assert [dict(k)["status"] for k, v in stopped.items() if v == 1] == ["STOPPED"]
    part_status = samples(text, "lagwatch_partition_status")
    stall = [dict(k) for k in part_status if ("group", "rm-stall") in k]
    assert {(d["partition"], d["status"]) for d in stall} == {("0", "STALL"), ("1", "STALL")}
    key = frozenset(
        {("cluster", "prod"), ("group", "rm-error"), ("topic", "bank.events"), ("partition", "0")}
    )
    assert samples(text, "lagwatch_partition_events_expired")[key] == 1
    assert samples(text, "lagwatch_partition_staleness_seconds")[key] == 12.5
    no_commit_key = key - {("partition", "0")} | {("partition", "1")}
    assert samples(text, "lagwatch_partition_no_commit")[no_commit_key] == 1
    assert no_commit_key not in samples(text, "lagwatch_partition_committed_offset")
    assert no_commit_key not in samples(text, "lagwatch_partition_offset_lag")
    assert samples(text, "lagwatch_up") == {
        frozenset({("cluster", "prod")}): 1,
        frozenset({("cluster", "staging")}): 0,
    }
    errors = samples(text, "lagwatch_collector_errors_total")
    assert errors[frozenset({("kind", "timestamp_read")})] == 5
    assert samples(text, "lagwatch_collector_timestamp_cache_hit_ratio") == {frozenset(): 0.75}
    buckets = samples(text, "lagwatch_collector_cycle_duration_seconds_bucket")
    assert buckets[frozenset({("le", "+Inf")})] == 7
    assert buckets[frozenset({("le", "0.5")})] == 2
    assert samples(text, "lagwatch_collector_cycle_duration_seconds_count") == {frozenset(): 7}
    slo = frozenset({("cluster", "prod"), ("group", "rm-stopped")})
    assert samples(text, "lagwatch_slo_good_observations_total")[slo] == 100
    assert samples(text, "lagwatch_slo_observations_total")[slo] == 400
    assert samples(text, "lagwatch_slo_objective_ratio")[slo] == 0.999


def test_unknown_values_are_absent_not_zero() -> None:
    text = MetricsRenderer("group").render(representative()).decode()
    eta = samples(text, "lagwatch_group_eta_seconds")
    assert frozenset({("cluster", "prod"), ("group", "rm-error")}) not in eta
    assert eta[frozenset({("cluster", "prod"), ("group", "rm-warn")})] == 5.0


def test_no_snapshot_yet_serves_only_last_success_zero() -> None:
    text = MetricsRenderer().render(None).decode()
    families = exposed(text)
    assert set(families) == {"lagwatch_collector_last_success_timestamp_seconds"}
    assert samples(text, "lagwatch_collector_last_success_timestamp_seconds") == {frozenset(): 0}


def test_every_render_is_of_the_snapshot_it_is_given() -> None:
    renderer = MetricsRenderer()
    snap = representative()
    first = renderer.render(snap)
    changed = replace(snap, taken_at=NOW + 1)
    second = renderer.render(changed)
    assert b"lagwatch_collector_snapshot_timestamp_seconds 1800000000.0" in first
    assert b"lagwatch_collector_snapshot_timestamp_seconds 1800000001.0" in second
    assert renderer.render(snap) == first  # rendered anew, same text
    assert gzip.decompress(renderer.render_gzip(changed)) == second
    assert b"".join(renderer.pieces(changed)) == second


def test_drop_empty_groups_keeps_groups_with_an_slo() -> None:
    snap = representative()
    text = MetricsRenderer("partition", drop_empty_groups=True).render(snap).decode()
    groups = {dict(k)["group"] for k in samples(text, "lagwatch_group_offset_lag")}
    assert "rm-idle" not in groups  # DEAD, no SLO
    assert "rm-stopped" in groups  # EMPTY, but has an SLO: a stopped read model
    parts = {dict(k)["group"] for k in samples(text, "lagwatch_partition_offset_lag")}
    assert "rm-idle" not in parts and "rm-ok" in parts
    kept = MetricsRenderer("partition").render(snap).decode()
    assert "rm-idle" in {dict(k)["group"] for k in samples(kept, "lagwatch_group_offset_lag")}


def test_granularity_is_validated() -> None:
    with pytest.raises(ValueError, match="partition, topic, group"):
        MetricsRenderer("cluster")


def test_content_type_is_the_text_format() -> None:
    assert CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_lints_the_exposition_clean() -> None:
    text = MetricsRenderer("partition").render(representative())
    run = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, timeout=60
    )
    assert run.returncode == 0, run.stdout.decode() + run.stderr.decode()
    assert run.stdout.decode().strip() == ""


@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_pieces_are_small_and_join_to_the_same_text_at_any_piece_size(granularity: str) -> None:
    from collectors.devtools.bench_metrics import synthetic_snapshot

    snap = synthetic_snapshot(groups=40, topics_per_group=2, partitions_per_topic=50, now=NOW)
    renderer = MetricsRenderer(granularity)
    whole = renderer.render(snap)
    pieces = list(renderer.pieces(snap))
    assert b"".join(pieces) == whole
    if granularity == "partition":  # 4,000 rows: several pieces of one family's samples
        small = list(metric_partitions.partition_families(partition_table(snap.partitions), 300))
        assert max(len(p) for p in small) < 300 * 200  # 300 lines of < 200 bytes
        chunked = b"".join(metric_partitions.partition_families(partition_table(snap.partitions)))
        assert b"".join(small) == chunked and chunked in whole
        assert max(len(p) for p in pieces) < len(whole) / 5  # at most one family at a time


def test_rows_per_piece_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rows_per_piece must be at least 1; got 0"):
        next(metric_partitions.partition_families(partition_table(representative().partitions), 0))


@pytest.mark.parametrize("parts", [[], [b""], [b"abc"], [b"x" * 100_000, b"", b"y\n" * 70_000]])
def test_gzip_pieces_is_one_gzip_stream_of_the_joined_input(parts: list[bytes]) -> None:
    out = list(gzip_pieces(iter(parts)))
    assert all(out[:-1]), "no empty pieces before the trailer"
    assert gzip.decompress(b"".join(out)) == b"".join(parts)
    # a single member: a decoder that stops after the first member still reads it all
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert decoder.decompress(b"".join(out)) == b"".join(parts) and decoder.eof
    assert decoder.unused_data == b""


def test_benchmark_snapshot_renders_and_parses() -> None:
    from collectors.devtools.bench_metrics import synthetic_snapshot

    snap = synthetic_snapshot(groups=3, topics_per_group=2, partitions_per_topic=4, now=NOW)
    text = MetricsRenderer("partition").render(snap).decode()
    assert len(samples(text, "lagwatch_partition_offset_lag")) == 24
    assert len(samples(text, "lagwatch_group_status")) == 3 * len(Status)


def test_collector_tables_render_column_by_column_as_the_whole_table_does() -> None:
    """Two clusters' tables (the collector's snapshot): the families built one column
    at a time, as a scrape renders them, equal those of the store's whole table; with
    a group left out (``drop_empty_groups``) the whole-table path still leaves it out."""
    from collectors.core.partition_table import PartitionKeys, PartitionRows, PartitionTable
    from collectors.devtools.bench_metrics import synthetic_snapshot

    snap = synthetic_snapshot(groups=6, topics_per_group=2, partitions_per_topic=5, now=NOW)
    (table,) = snap.partitions.parts
    other = PartitionTable(
        PartitionKeys([replace(k, cluster='dr"site') for k in table.keys.keys]),
        NOW,
        table.columns,
    )
    rows = PartitionRows([table, other])
    groups = (*snap.groups, *(replace(g, cluster='dr"site') for g in snap.groups))
    two = replace(snap, partitions=rows, groups=groups)
    text = MetricsRenderer("partition").render(two)
    whole = b"".join(metric_partitions.partition_families(partition_table(rows)))
    assert whole in text and b'cluster="dr\\"site"' in whole
    assert len(samples(text.decode(), "lagwatch_partition_offset_lag")) == 2 * len(table)

    empty = replace(groups[0], state="EMPTY")
    dropped = MetricsRenderer("partition", drop_empty_groups=True).render(
        replace(two, groups=(empty, *groups[1:]), slos=())  # an SLO would keep it
    )
    lines = [line for line in dropped.decode().splitlines() if "lagwatch_partition_" in line]
    assert not any(f'group="{empty.group}"' in line and 'cluster="prod"' in line for line in lines)
    assert any(f'group="{empty.group}"' in line for line in lines)  # dr"site's is kept
