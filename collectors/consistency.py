"""The collector's consistency recorder: passive samples and probe results in, snapshot
values and store rows out (issue 12).

Three threads meet here, each through one method:
- the cycle thread calls ``observe_cycle`` with the clusters' passive samples and the
  SLO states, and gets the ``ConsistencyView`` its snapshot carries (/metrics);
- probe threads call ``add_probe`` with each finished probe;
- the store writer calls ``write`` after each snapshot: it stores what waits, adds the
  SLO observations to the per-minute counts, and recomputes the SLO windows that the
  next view carries.

What waits for the writer is bounded (``max_pending_rows``): when the store falls that
far behind, the oldest samples are dropped and counted (``dropped_rows``), so a slow
disk never grows memory or stalls a cycle.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import numpy as np

from collectors.core import slo as slo_math
from collectors.core.consistency import ConsistencyView, WindowStats
from collectors.core.model import SloState, Snapshot
from collectors.core.probes import VISIBLE, ProbeSample, reason_kind
from collectors.core.visibility import HistogramSet, VisibilityBatch

log = logging.getLogger("lagwatch.consistency")

MAX_PENDING_ROWS = 1_000_000


class ConsistencyRecorder:
    def __init__(self, max_pending_rows: int = MAX_PENDING_ROWS) -> None:
        self._lock = threading.Lock()
        self._max_pending = max_pending_rows
        self._passive = HistogramSet()
        self._replays: dict[tuple[str, str], int] = {}
        self._probes = HistogramSet()
        self._outcomes: dict[tuple[str, str], int] = {}
        self._failures: dict[tuple[str, str], int] = {}
        self._pending_batches: list[VisibilityBatch] = []
        self._pending_rows = 0
        self._pending_probes: list[ProbeSample] = []
        self._slo_written: dict[tuple[str, str], tuple[int, int]] = {}
        self._slo_windows: dict[tuple[str, str], dict[str, WindowStats]] = {}
        self.dropped_rows = 0

    # --- cycle thread ----------------------------------------------------------------

    def observe_cycle(
        self, batches: Sequence[VisibilityBatch], keep_for_store: bool = True
    ) -> ConsistencyView:
        """Count this cycle's passive samples in the histograms (replays apart) and queue
        them for the store; the view for this cycle's snapshot."""
        with self._lock:
            for batch in batches:
                s = batch.samples
                if not len(s):
                    continue
                keys = [(batch.cluster, g) for g in batch.groups]
                live = ~s.replay
                self._passive.observe_grouped(keys, batch.group_index[live], s.latency_s[live])
                for gi in batch.group_index[s.replay].tolist():
                    key = keys[gi]
                    self._replays[key] = self._replays.get(key, 0) + 1
                if keep_for_store:
                    self._pending_batches.append(batch)
                    self._pending_rows += len(s)
            while self._pending_rows > self._max_pending and self._pending_batches:
                dropped = self._pending_batches.pop(0)
                self._pending_rows -= len(dropped)
                self.dropped_rows += len(dropped)
            return self._view()

    def _view(self) -> ConsistencyView:
        return ConsistencyView(
            visibility=self._passive.freeze(),  # type: ignore[arg-type]
            replay_samples=dict(self._replays),
            probes={k[0]: v for k, v in self._probes.freeze().items()},
            probe_outcomes=dict(self._outcomes),
            probe_failures=dict(self._failures),
            slo_windows=dict(self._slo_windows),
        )

    # --- probe threads -----------------------------------------------------------------

    def add_probe(self, sample: ProbeSample, keep_for_store: bool = True) -> None:
        with self._lock:
            latency = sample.latency_s if sample.outcome == VISIBLE else None
            values = np.array([] if latency is None else [latency], dtype=np.float64)
            self._probes.observe((sample.probe,), values)
            key = (sample.probe, sample.outcome)
            self._outcomes[key] = self._outcomes.get(key, 0) + 1
            if sample.outcome != VISIBLE:
                fkey = (sample.probe, reason_kind(sample.reason))
                self._failures[fkey] = self._failures.get(fkey, 0) + 1
            if keep_for_store:
                self._pending_probes.append(sample)
                if len(self._pending_probes) > self._max_pending:
                    del self._pending_probes[0]
                    self.dropped_rows += 1

    # --- writer thread -----------------------------------------------------------------

    def write(self, store, snapshot: Snapshot | None) -> None:
        """Store what waits and the snapshot's SLO observations (one transaction), then
        recompute the SLO windows from the stored minutes."""
        with self._lock:
            if snapshot is None and not (self._pending_batches or self._pending_probes):
                return
            batches, self._pending_batches = self._pending_batches, []
            probes, self._pending_probes = self._pending_probes, []
            self._pending_rows = 0
        from collectors.store import consistency as sql  # duckdb: only with a store

        slos = snapshot.slos if snapshot is not None else ()
        counts = slo_math.deltas(self._slo_written, slos)
        table = sql.visibility_table(batches)

        def work(cursor) -> None:
            sql.insert_visibility(cursor, table)
            sql.insert_probes(cursor, probes)
            if snapshot is not None:
                sql.add_slo_counts(cursor, slo_math.bucket_end(snapshot.taken_at), counts)

        store.transaction(work)
        for state in slos:
            self._slo_written[(state.cluster, state.group)] = (
                state.good_total,
                state.observations_total,
            )
        if snapshot is not None and slos:
            windows = slo_windows(store, slos, snapshot.taken_at)
            with self._lock:
                self._slo_windows = windows


def slo_windows(
    store, states: Sequence[SloState], now: float
) -> dict[tuple[str, str], dict[str, WindowStats]]:
    """Every window of every SLO at ``now``, from the stored per-minute counts."""
    from collectors.store import consistency as sql  # duckdb: only with a store

    out = {}
    for state in states:
        reach = max(state.period_s, max(w for _, w in slo_math.WINDOWS))
        after = slo_math.bucket_end(now) - reach
        ends, good, total = store.query(
            lambda cursor, s=state, a=after: sql.slo_minutes(cursor, s.cluster, s.group, a)
        )
        out[(state.cluster, state.group)] = slo_math.all_windows(ends, good, total, now, state)
    return out
