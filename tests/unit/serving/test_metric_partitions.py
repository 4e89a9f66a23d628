"""Partition families from Arrow columns: escaping, unknowns, flags and status."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from collectors.core.model import PartitionKey, PartitionLag, StalenessMethod, Status
from collectors.serving.metric_partitions import partition_families
from collectors.store.columns import _rows_table

AWKWARD = 'a"b\\c\nd'


def _row(group: str, partition: int, **values) -> PartitionLag:
    base = dict(
        observed_at=1.0, log_start=0, log_end=10, committed=4, offset_lag=6, no_commit=False,
        events_expired=True, staleness_s=1.5, staleness_method=StalenessMethod.EXACT,
        data_age_s=2.25, clock_skew=False, consume_rate=None, produce_rate=None, eta_s=None,
        status=Status.WARN,
    )  # fmt: skip
    base.update(values)
    return PartitionLag(key=PartitionKey("c", group, "t", partition), **base)


def _samples(rows: list[PartitionLag]) -> dict[tuple[str, tuple], float]:
    text = b"".join(partition_families(_rows_table(rows))).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_values_labels_and_escaping_round_trip() -> None:
    samples = _samples([_row(AWKWARD, 0)])
    labels = (("cluster", "c"), ("group", AWKWARD), ("partition", "0"), ("topic", "t"))
    assert samples[("lagwatch_partition_offset_lag", labels)] == 6
    assert samples[("lagwatch_partition_staleness_seconds", labels)] == 1.5
    assert samples[("lagwatch_partition_data_age_seconds", labels)] == 2.25
    assert samples[("lagwatch_partition_committed_offset", labels)] == 4
    assert samples[("lagwatch_partition_log_end_offset", labels)] == 10
    assert samples[("lagwatch_partition_no_commit", labels)] == 0
    assert samples[("lagwatch_partition_events_expired", labels)] == 1
    status_labels = tuple(sorted((*labels, ("status", "WARN"))))
    assert samples[("lagwatch_partition_status", status_labels)] == 1


def test_unknown_values_are_left_out_and_every_row_keeps_its_flags_and_status() -> None:
    rows = [
        _row("g", 0),
        _row("g", 1, committed=None, no_commit=True, offset_lag=None, staleness_s=None,
             data_age_s=None, log_end=None, status=Status.ERROR),
    ]  # fmt: skip
    names = [name for name, labels in _samples(rows) if ("partition", "1") in labels]
    assert sorted(names) == [
        "lagwatch_partition_events_expired",
        "lagwatch_partition_no_commit",
        "lagwatch_partition_offset_out_of_range",
        "lagwatch_partition_status",
    ]


def test_no_rows_gives_headers_only() -> None:
    text = b"".join(partition_families(_rows_table([]))).decode()
    assert "# TYPE lagwatch_partition_offset_lag gauge" in text
    assert all(line.startswith("#") for line in text.splitlines())
