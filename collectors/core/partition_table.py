"""One cycle's partition lags as columns, readable as a sequence of ``PartitionLag``.

The collector computes 100,000 group-partitions per cycle in NumPy columns. Building a
``PartitionLag`` object per row would cost a tenth of a second on the cycle thread, and
most consumers do not need objects: the store takes Arrow columns, the API reads one
group. So the table keeps the columns and builds rows only when someone reads them,
once per table (readers on any thread; a race builds the same rows twice, harmlessly).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import MISSING, dataclass
from itertools import repeat
from typing import Any, overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from collectors.core.kernels import METHODS, NONE, STATUS_OF_CODE, Bools, Floats, Ints
from collectors.core.model import PartitionKey, PartitionLag, TopicPart


@functools.cache
def _names() -> tuple[pa.Array, pa.Array]:
    """(status names, method names) as Arrow arrays, built on first use: pyarrow imports
    pandas on its first ``pa.array`` call (~1 s), which a collector without a store or a
    scrape never needs at start."""
    return pa.array([s.value for s in STATUS_OF_CODE]), pa.array([m.value for m in METHODS])


class PartitionKeys:
    """The row keys of a table, in row order; shared by every table of one layout.

    Made from a list of keys, or (``of_groups``) from each group's sorted partitions,
    the collector's layout: then no ``PartitionKey`` object is built until ``keys`` is
    read (an API request for rows, an error report), and the Arrow columns the store
    and ``/metrics`` read come straight from the names. At 100,000 group-partitions
    that keeps ~0.1 s of CPU out of the first cycle and ~7 MB of objects out of memory.
    Built parts are cached (readers on any thread; a race builds equal values twice).
    """

    __slots__ = ("_cache", "_cluster", "_groups", "_keys", "_size")

    def __init__(self, keys: list[PartitionKey]) -> None:
        self._keys: list[PartitionKey] | None = keys
        self._size = len(keys)
        self._cluster = ""
        self._groups: list[tuple[str, Sequence[TopicPart]]] = []
        self._cache: dict[str, Any] = {}

    @classmethod
    def of_groups(
        cls, cluster: str, groups: Sequence[tuple[str, Sequence[TopicPart]]]
    ) -> PartitionKeys:
        """The keys of ``groups`` (name, its (topic, partition)s), in that order."""
        out = cls([])
        out._keys = None
        out._cluster = cluster
        out._groups = list(groups)
        out._size = sum(len(tps) for _, tps in out._groups)
        return out

    def __len__(self) -> int:
        return self._size

    @property
    def keys(self) -> list[PartitionKey]:
        keys = self._keys
        if keys is None:
            cluster = self._cluster
            keys = [
                _new_partition_key(cluster, group, t, p)
                for group, tps in self._groups
                for t, p in tps
            ]
            self._keys = keys
        return keys

    def group_range(self, cluster: str, group: str) -> tuple[int, int]:
        """(first row, end) of the group's rows; (0, 0) when it has none."""
        ranges = self._cache.get("_ranges")
        if ranges is None:
            found: dict[tuple[str, str], list[int]] = {}
            if self._keys is None:
                at = 0
                for name, tps in self._groups:
                    if tps:  # a group with no rows has no range, as in a key list
                        found[(self._cluster, name)] = [at, at + len(tps)]
                    at += len(tps)
            else:
                for i, k in enumerate(self._keys):
                    found.setdefault((k.cluster, k.group), [i, i])[1] = i + 1
            ranges = self._cache["_ranges"] = {key: tuple(v) for key, v in found.items()}
        return ranges.get((cluster, group), (0, 0))

    def topic_runs(self) -> tuple[Ints, list[tuple[str, str, str]]]:
        """(first row of each run, its (cluster, group, topic)): rows in row order cut
        wherever the (cluster, group, topic) changes, so every run is one group-topic's
        rows; a group-topic whose rows are not adjacent has several runs. Built once."""
        runs = self._cache.get("_runs")
        if runs is None:
            starts: list[int] = []
            names: list[tuple[str, str, str]] = []
            if self._keys is None:
                at = 0
                for group, tps in self._groups:
                    last = None
                    for i, (topic, _) in enumerate(tps):
                        if topic != last:
                            starts.append(at + i)
                            names.append((self._cluster, group, topic))
                            last = topic
                    at += len(tps)
            else:
                previous = None
                for i, k in enumerate(self._keys):
                    name = (k.cluster, k.group, k.topic)
                    if name != previous:
                        starts.append(i)
                        names.append(name)
                        previous = name
            runs = self._cache["_runs"] = (np.array(starts, dtype=np.int64), names)
        return runs

    def arrow(self) -> dict[str, pa.Array]:
        """cluster, group_name, topic, partition as Arrow arrays (built once)."""
        if "cluster" not in self._cache:
            if self._keys is None:
                names = [name for name, _ in self._groups]
                sizes = np.array([len(tps) for _, tps in self._groups], dtype=np.int64)
                which = np.repeat(np.arange(len(names), dtype=np.int64), sizes)
                columns = dict(
                    cluster=pa.array([self._cluster], pa.string()).take(
                        pa.array(np.zeros(self._size, dtype=np.int64))
                    ),
                    group_name=pa.array(names, pa.string()).take(pa.array(which)),
                    topic=pa.array([t for _, tps in self._groups for t, _ in tps], pa.string()),
                    partition=pa.array(
                        [p for _, tps in self._groups for _, p in tps], type=pa.int32()
                    ),
                )
            else:
                keys = self._keys
                columns = dict(
                    cluster=pa.array([k.cluster for k in keys], type=pa.string()),
                    group_name=pa.array([k.group for k in keys], type=pa.string()),
                    topic=pa.array([k.topic for k in keys], type=pa.string()),
                    partition=pa.array([k.partition for k in keys], type=pa.int32()),
                )
            self._cache.update(columns)
        return {name: self._cache[name] for name in ("cluster", "group_name", "topic", "partition")}


@dataclass(frozen=True, slots=True, eq=False)
class PartitionColumns:
    """Per-row values; ``NONE`` / NaN mean None (see ``kernels``)."""

    log_start: Ints
    log_end: Ints
    committed: Ints
    offset_lag: Ints
    no_commit: Bools
    events_expired: Bools
    staleness_s: Floats
    staleness_method: Ints  # index into METHODS
    data_age_s: Floats
    clock_skew: Bools
    consume_rate: Floats
    produce_rate: Floats
    eta_s: Floats
    status: Ints  # kernels status code
    errors: dict[int, str]  # row -> error text, for ERROR rows that have one
    offset_gap: Ints | None = None  # raw log_end - committed; None: equal to offset_lag
    offset_out_of_range: Bools | None = None  # None: all False
    replay_progress: Floats | None = None  # None: all unknown


class PartitionTable(Sequence[PartitionLag]):
    """Immutable after construction; indexing or iterating builds the rows once."""

    def __init__(self, keys: PartitionKeys, observed_at: float, columns: PartitionColumns):
        self.keys = keys
        self.observed_at = observed_at
        self.columns = columns
        self._rows: list[PartitionLag] | None = None

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, index: int) -> PartitionLag: ...
    @overload
    def __getitem__(self, index: slice) -> list[PartitionLag]: ...
    def __getitem__(self, index: int | slice) -> PartitionLag | list[PartitionLag]:
        return self.rows()[index]

    def __iter__(self) -> Iterator[PartitionLag]:
        return iter(self.rows())

    def rows(self) -> list[PartitionLag]:
        rows = self._rows
        if rows is None:
            # Two threads may both build the rows; they are equal, and the reference
            # swap is atomic, so no lock is needed (and core stays free of threading).
            rows = self._rows = _build_rows(self)
        return rows

    def group_rows(self, cluster: str, group: str) -> list[PartitionLag]:
        """The rows of one group (contiguous: rows are sorted by group), built alone
        when the whole table has not been: what an API request for one group costs."""
        start, end = self.keys.group_range(cluster, group)
        if self._rows is not None or start == end:
            return self.rows()[start:end]
        return _build_rows(self, start, end)

    def totals_arrow(self) -> dict[str, pa.Array]:
        """``committed`` and ``log_end`` summed per run of ``PartitionKeys.topic_runs``
        (cluster, group_name, topic, committed, log_end; a sum is null when no row of
        its run knows the offset): what the group rows' sums read, as SQL's ``sum``
        would give them, for the store's cycles without partition rows (~1,000 rows at
        100,000 group-partitions instead of 100,000). Sums are int64, as the columns
        are: a run would overflow only with offsets above 2**63 / its rows.
        """
        starts, names = self.keys.topic_runs()
        c = self.columns
        out = {
            name: pa.array([run[i] for run in names], type=pa.string())
            for i, name in enumerate(("cluster", "group_name", "topic"))
        }
        for name, values in (("committed", c.committed), ("log_end", c.log_end)):
            known = values != NONE
            if len(starts):
                sums = np.add.reduceat(np.where(known, values, 0), starts)
                any_known = np.logical_or.reduceat(known, starts)
            else:
                sums, any_known = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
            out[name] = pa.array(sums, mask=~any_known, type=pa.int64())
        return out

    def to_arrow(self) -> dict[str, pa.Array]:
        """Every ``PartitionLag`` field as an Arrow array named as the store's columns."""
        return {name: self.arrow_column(name) for name in ARROW_COLUMNS}

    def arrow_column(self, name: str) -> pa.Array:
        """One column of ``to_arrow``, built alone: a reader that needs a few columns
        at a time (a ``/metrics`` render, family by family) never holds them all."""
        c = self.columns
        n = len(self)
        if name in _KEY_COLUMNS:
            return self.keys.arrow()[name]
        if name in _INT_COLUMNS:
            return _ints(_gap(c) if name == "offset_gap" else getattr(c, name))
        if name in _FLOAT_COLUMNS:
            return _floats(_progress(c, n) if name == "replay_progress" else getattr(c, name))
        if name in _BOOL_COLUMNS:
            return pa.array(
                _out_of_range(c, n) if name == "offset_out_of_range" else getattr(c, name)
            )
        if name == "observed_at":
            return pa.array(np.full(n, self.observed_at))
        if name == "staleness_method":
            return pc.take(_names()[1], pa.array(c.staleness_method))
        if name == "status":
            return pc.take(_names()[0], pa.array(c.status))
        if name == "error":
            return pa.array(_error_texts(c.errors, 0, n), type=pa.string())
        raise KeyError(f"no column {name!r}; the columns are {', '.join(ARROW_COLUMNS)}")


_KEY_COLUMNS = ("cluster", "group_name", "topic", "partition")
_INT_COLUMNS = ("log_start", "log_end", "committed", "offset_lag", "offset_gap")
_FLOAT_COLUMNS = (
    "staleness_s",
    "data_age_s",
    "consume_rate",
    "produce_rate",
    "eta_s",
    "replay_progress",
)
_BOOL_COLUMNS = ("no_commit", "events_expired", "clock_skew", "offset_out_of_range")
# In the order ``to_arrow`` has always given them (the store's schema orders by name).
ARROW_COLUMNS = (
    "observed_at",
    *_KEY_COLUMNS,
    "log_start",
    "log_end",
    "committed",
    "offset_lag",
    "no_commit",
    "events_expired",
    "staleness_s",
    "staleness_method",
    "data_age_s",
    "clock_skew",
    "consume_rate",
    "produce_rate",
    "eta_s",
    "status",
    "error",
    "offset_gap",
    "offset_out_of_range",
    "replay_progress",
)


class PartitionRows(Sequence[PartitionLag]):
    """Several clusters' partitions as one sequence (tables and plain row lists)."""

    def __init__(self, parts: Sequence[Sequence[PartitionLag]]) -> None:
        self.parts = [p for p in parts if len(p)]
        self._rows: list[PartitionLag] | None = None

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)

    def _all(self) -> Sequence[PartitionLag]:
        if len(self.parts) == 1:
            return self.parts[0]
        if self._rows is None:
            self._rows = [row for part in self.parts for row in part]
        return self._rows

    @overload
    def __getitem__(self, index: int) -> PartitionLag: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[PartitionLag]: ...
    def __getitem__(self, index: int | slice) -> PartitionLag | Sequence[PartitionLag]:
        return self._all()[index]

    def __iter__(self) -> Iterator[PartitionLag]:
        for part in self.parts:
            yield from part

    def group_rows(self, cluster: str, group: str) -> list[PartitionLag]:
        """The rows of one group of one cluster, without building every other row."""
        out: list[PartitionLag] = []
        for part in self.parts:
            if isinstance(part, PartitionTable):
                out += part.group_rows(cluster, group)
            else:
                out += [p for p in part if p.key.group == group and p.key.cluster == cluster]
        return out


def _gap(c: PartitionColumns) -> Ints:
    return c.offset_lag if c.offset_gap is None else c.offset_gap


def _out_of_range(c: PartitionColumns, n: int) -> Bools:
    return np.zeros(n, dtype=bool) if c.offset_out_of_range is None else c.offset_out_of_range


def _progress(c: PartitionColumns, n: int) -> Floats:
    return np.full(n, np.nan) if c.replay_progress is None else c.replay_progress


def _ints(values: Ints) -> pa.Array:
    return pa.array(values, mask=values == NONE, type=pa.int64())


def _floats(values: Floats) -> pa.Array:
    return pa.array(values, mask=np.isnan(values), type=pa.float64())


def _optional_ints(values: Ints) -> list[int | None]:
    return [None if v == NONE else v for v in values.tolist()]


def _optional_floats(values: Floats) -> list[float | None]:
    return [None if v != v else v for v in values.tolist()]  # NaN != NaN


def _error_texts(errors: dict[int, str], start: int, end: int) -> list[str | None]:
    """The error text (or None) of each row from ``start`` to ``end``."""
    out: list[str | None] = [None] * (end - start)
    for row, text in errors.items():
        if start <= row < end:
            out[row - start] = text
    return out


def _build_rows(
    table: PartitionTable, start: int = 0, end: int | None = None
) -> list[PartitionLag]:
    """Row objects for rows ``start`` to ``end`` (all by default)."""
    end = len(table) if end is None else end
    c = table.columns
    part = slice(start, end)
    n = end - start
    return list(
        map(
            _new_partition_lag,
            table.keys.keys[part],
            repeat(table.observed_at, n),
            _optional_ints(c.log_start[part]),
            _optional_ints(c.log_end[part]),
            _optional_ints(c.committed[part]),
            _optional_ints(c.offset_lag[part]),
            c.no_commit[part].tolist(),
            c.events_expired[part].tolist(),
            _optional_floats(c.staleness_s[part]),
            [METHODS[m] for m in c.staleness_method[part].tolist()],
            _optional_floats(c.data_age_s[part]),
            c.clock_skew[part].tolist(),
            _optional_floats(c.consume_rate[part]),
            _optional_floats(c.produce_rate[part]),
            _optional_floats(c.eta_s[part]),
            [STATUS_OF_CODE[s] for s in c.status[part].tolist()],
            _error_texts(c.errors, start, end),
            _optional_ints(_gap(c)[part]),
            _out_of_range(c, len(table))[part].tolist(),
            _optional_floats(_progress(c, len(table))[part]),
        )
    )


def _slots_constructor(cls: type) -> Callable[..., Any]:
    """A constructor of the frozen, slotted dataclass ``cls`` that takes every field
    positionally and sets the slots directly. The frozen ``__init__`` goes through
    ``object.__setattr__`` per field, which costs twice as much; at 100,000 rows that
    is a tenth of a second. ``new(*values) == cls(*values)``.
    """
    fields = dataclasses.fields(cls)
    names = [f.name for f in fields]
    defaults = {f"_default_{f.name}": f.default for f in fields if f.default is not MISSING}
    setters = {f"_set_{name}": getattr(cls, name).__set__ for name in names}
    params = ", ".join(
        f"{name}=_default_{name}" if f"_default_{name}" in defaults else name for name in names
    )
    body = "".join(f"    _set_{name}(obj, {name})\n" for name in names)
    source = f"def new({params}):\n    obj = _new(_cls)\n{body}    return obj\n"
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls, **setters, **defaults}
    exec(source, namespace)  # the code is built from the dataclass's own field names
    return namespace["new"]


_new_partition_lag = _slots_constructor(PartitionLag)
_new_partition_key = _slots_constructor(PartitionKey)
