"""The ``lagwatch_partition_*`` families, rendered from Arrow columns.

At 100,000 group-partitions these families are 800,000 samples. Formatting them one
Python f-string at a time took a second of CPU holding the GIL, which stalled the
collection cycle running beside the render; Arrow's compute kernels format numbers,
escape labels and join lines in C. Input: the snapshot's partitions as an Arrow table
with ``store_columns.PARTITION_SCHEMA`` (what the store writes), or (``families_of_columns``,
what a scrape of the collector's snapshot uses) the label column and one value column at
a time, built when its family is reached.

The text comes out in pieces of at most ``ROWS_PER_PIECE`` rows of one family (about
2 MB), so a scrape streams it and never holds the ~120 MB of the whole; what a render
holds at once is the label column (one string per row, ~9 MB at 100,000 rows), one
family's values and one piece.

Values are spelled by Arrow (``1.5``, ``100``, ``1e-05``); Prometheus parses any float
spelling. Unknown values (null) are left out, never written as 0 or NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from collectors.serving.metric_text import header

# (metric, help, column): gauges whose sample is the column's value when known.
VALUE_FAMILIES: tuple[tuple[str, str, str], ...] = (
    (
        "lagwatch_partition_offset_lag",
        "Events not yet consumed: log end - committed (log end - log start without a "
        "commit), 0 when only transaction markers remain. Never negative.",
        "offset_lag",
    ),
    (
        "lagwatch_partition_offset_gap",
        "Raw log end - committed offsets, transaction markers included (what Kafka's own "
        "tools call lag).",
        "offset_gap",
    ),
    (
        "lagwatch_partition_replay_progress",
        "0 to 1 while the partition is in REWIND (a replay): how far back to its offset "
        "before the rewind; absent otherwise.",
        "replay_progress",
    ),
    (
        "lagwatch_partition_staleness_seconds",
        "Age of the first unconsumed record; 0 when caught up.",
        "staleness_s",
    ),
    ("lagwatch_partition_data_age_seconds", "Age of the last consumed record.", "data_age_s"),
    (
        "lagwatch_partition_eta_seconds",
        "Estimated time to catch up; absent when not catching up.",
        "eta_s",
    ),
    (
        "lagwatch_partition_committed_offset",
        "The group's committed offset; absent when the group never committed.",
        "committed",
    ),
    (
        "lagwatch_partition_log_end_offset",
        "High watermark (last stable offset for read_committed groups).",
        "log_end",
    ),
)
# (metric, help, column): 1 when the boolean column is true, else 0.
FLAG_FAMILIES: tuple[tuple[str, str, str], ...] = (
    (
        "lagwatch_partition_no_commit",
        "1 when the group has no committed offset for the partition.",
        "no_commit",
    ),
    (
        "lagwatch_partition_events_expired",
        "1 when the committed offset is below the log start: the read model can no "
        "longer be rebuilt from the log.",
        "events_expired",
    ),
    (
        "lagwatch_partition_offset_out_of_range",
        "1 when the committed offset is past the log end (topic recreated or truncated).",
        "offset_out_of_range",
    ),
)
STATUS_FAMILY = "lagwatch_partition_status"
STATUS_HELP = "Status of the partition: one series, value 1, labelled with the current state."
ROWS_PER_PIECE = 16_384  # ~2 MB of text per piece at the usual label lengths


def partition_families(table: pa.Table, rows_per_piece: int = ROWS_PER_PIECE) -> Iterator[bytes]:
    """Every ``lagwatch_partition_*`` family (header and samples) of ``table``'s rows, as
    UTF-8 pieces in exposition order: a header, then its samples ``rows_per_piece`` rows
    at a time (joined, the pieces are the same text whatever the piece size).

    Status is one series per partition labelled with the current state, not seven;
    consume and produce rates are not repeated per partition: ``rate()`` over
    ``lagwatch_partition_committed_offset`` and ``lagwatch_partition_log_end_offset``
    gives them (docs/metrics.md). No rows: the headers alone.
    """
    yield from families_of_columns(
        lambda name: table[name], partition_labels(table), rows_per_piece
    )


def families_of_columns(
    column: Callable[[str], pa.Array | pa.ChunkedArray],
    labels: pa.Array,
    rows_per_piece: int = ROWS_PER_PIECE,
) -> Iterator[bytes]:
    """``partition_families`` of rows given as ``labels`` (``partition_labels``) and a
    ``column(name)`` that gives each value column when asked: the families ask for
    one column at a time, so a source that builds columns on demand holds one at once."""
    if rows_per_piece < 1:
        raise ValueError(f"rows_per_piece must be at least 1; got {rows_per_piece}")
    for name, help_text, column_name in VALUE_FAMILIES:
        yield header(name, "gauge", help_text).encode()
        values = pc.cast(column(column_name), pa.string())
        yield from _pieces(f"{name}{{", labels, "} ", values, rows_per_piece)
    for name, help_text, column_name in FLAG_FAMILIES:
        yield header(name, "gauge", help_text).encode()
        ones = pc.if_else(pc.fill_null(column(column_name), False), "1", "0")
        yield from _pieces(f"{name}{{", labels, "} ", ones, rows_per_piece)
    yield header(STATUS_FAMILY, "gauge", STATUS_HELP).encode()
    status = pc.binary_join_element_wise(',status="', column("status"), '"} 1', "")
    yield from _pieces(f"{STATUS_FAMILY}{{", labels, "", status, rows_per_piece)


def partition_labels(keys: pa.Table | Mapping[str, pa.Array]) -> pa.Array:
    """``cluster="…",group="…",topic="…",partition="…"`` per row (values escaped) of
    a table or mapping with the ``cluster``, ``group_name``, ``topic`` and ``partition``
    columns, as one array."""
    labels = _labels(keys)
    return labels.combine_chunks() if isinstance(labels, pa.ChunkedArray) else labels


def _pieces(
    prefix: str,
    labels: pa.Array,
    middle: str,
    values: pa.Array | pa.ChunkedArray,
    rows_per_piece: int,
) -> Iterator[bytes]:
    """``_lines`` over consecutive slices of ``rows_per_piece`` rows (empty ones skipped)."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    for start in range(0, len(labels), rows_per_piece):
        piece = _lines(
            prefix,
            labels.slice(start, rows_per_piece),
            middle,
            values.slice(start, rows_per_piece),
        )
        if piece:
            yield piece


def _labels(table: pa.Table | Mapping[str, pa.Array]) -> pa.Array | pa.ChunkedArray:
    """``cluster="…",group="…",topic="…",partition="…"`` per row, values escaped."""
    return pc.binary_join_element_wise(
        'cluster="',
        _escaped(table["cluster"]),
        '",group="',
        _escaped(table["group_name"]),
        '",topic="',
        _escaped(table["topic"]),
        '",partition="',
        pc.cast(table["partition"], pa.string()),
        '"',
        "",
    )


def _escaped(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Label-value escaping: backslash, double quote, line feed (in that order)."""
    values = pc.replace_substring(values, "\\", "\\\\")
    values = pc.replace_substring(values, '"', '\\"')
    return pc.replace_substring(values, "\n", "\\n")


def _lines(prefix: str, labels: pa.Array, middle: str, values: pa.Array) -> bytes:
    """``prefix + label + middle + value + "\\n"`` for every row with a value, as the
    UTF-8 bytes Arrow already holds them in (no Python string of the whole text)."""
    lines = pc.drop_null(pc.binary_join_element_wise(prefix, labels, middle, values, "\n", ""))
    if len(lines) == 0:
        return b""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset :]
    start, end = int(offsets[0]), int(offsets[len(lines)])
    return lines.buffers()[2][start:end].to_pybytes()
