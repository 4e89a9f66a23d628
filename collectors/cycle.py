"""One collection cycle for one cluster: Kafka readings → column math → values.

The imperative shell around the pure modules: it asks the Kafka adapters for offsets
and record timestamps, keeps the per-partition history the math needs (status history,
rate points, log-end history for estimation) in NumPy columns, and returns frozen
values. Every group-partition is a *slot*; the slot layout changes only when a group
or partition comes or goes, and the history moves with it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from collectors.core import kernels, lag
from collectors.core.commit_evidence import seed_stillness, since_column
from collectors.core.kernels import NONE, Bools, Floats, Ints
from collectors.core.log_summary import Problem
from collectors.core.model import (
    CommittedOffsets,
    GroupDescription,
    GroupLag,
    GroupTopicLag,
    LogEndPoint,
    PartitionKey,
    PartitionLag,
    StalenessMethod,
    Status,
    TimesRequest,
    TopicPart,
    Watermarks,
)
from collectors.core.partition_table import PartitionColumns, PartitionTable
from collectors.core.ports import OffsetsSource, RecordTimesSource
from collectors.core.rollup_columns import rollups_from_columns
from collectors.core.slots import Layout, LogPartition, Slots, build_layout
from collectors.core.status import StatusParams
from collectors.core.visibility import VisibilityBatch, cycle_samples
from collectors.kafka.committed_offsets import CommittedOffsetsFromLog
from collectors.kafka.errors import error_text
from collectors.read_ahead import ReadAhead, answer, cold_requests

ESTIMATION_POINTS = 600  # log_end change points kept per partition for interpolation
TOPICS_REFRESH_S = 30.0  # how often the partition lists of consumed topics are re-read
ETA_RATE_WINDOW_S = 5.0  # the log end's current rate for the ETA (at least 2 intervals)

_ERROR = kernels.CODE[Status.ERROR]


class GroupFilter:
    """Include/exclude regular expressions over group names (full match)."""

    def __init__(self, include: Iterable[str], exclude: Iterable[str]) -> None:
        self._include = [re.compile(p) for p in include]
        self._exclude = [re.compile(p) for p in exclude]

    def __call__(self, group: str) -> bool:
        return any(p.fullmatch(group) for p in self._include) and not any(
            p.fullmatch(group) for p in self._exclude
        )


@dataclass(frozen=True, slots=True)
class ClusterCycle:
    partitions: PartitionTable
    topics: list[GroupTopicLag]
    groups: list[GroupLag]
    cache_hits: int
    cache_misses: int
    errors: list[Problem]  # summarised per cycle in the log; secrets already masked
    visibility: VisibilityBatch | None = None  # passive visibility samples (issue 12)


_NOT_REQUESTED = Watermarks(None, None, "not requested")


class ClusterUnreachable(RuntimeError):
    """Listing groups failed; the message says why (DNS, refused, timed out)."""


class ClusterCollector:
    """Keeps the per-partition history of one cluster and runs its cycles.

    ``rate_points``: how many past cycles the rate history keeps (memory: the newest
    committed offset per group-partition, plus 16 bytes per point for each one that
    changed then: ``change_ring``); rates span at most that many observations even when
    the rate window would hold more.
    """

    def __init__(
        self,
        cluster: str,
        connect: Callable[[], tuple[OffsetsSource, dict[bool, RecordTimesSource] | None]],
        group_filter: Callable[[str], bool],
        read_committed: Callable[[str], bool],
        status_params: StatusParams | None = None,
        rate_window_s: float = 30.0,
        rate_points: int = 32,
        committed_from_log: CommittedOffsetsFromLog | None = None,
        diagnose: Callable[[], str | None] | None = None,
        visibility_samples: bool = True,
    ) -> None:
        self.cluster = cluster
        self._visibility_samples = visibility_samples
        self._connect = connect
        self._source, self._readers = connect()  # readers keyed by read_committed
        self._reconnect = False
        self._from_log = committed_from_log
        self._diagnose = diagnose  # why the cluster is unreachable (DNS vs refused)
        self._wanted = group_filter
        self._read_committed = read_committed
        self._rate_window_s = rate_window_s
        # With no layout yet, read the record timestamps while it is built (False:
        # read after it, as every other cycle does; the tests compare the two).
        self.read_ahead = True
        self._layout = build_layout(cluster, {}, read_committed)
        self._params = status_params or StatusParams()
        self._slots = Slots.empty(self._params.warn_points, max(2, rate_points))
        # Partition ids of the topics groups consume (every partition is reported).
        self._topic_parts: dict[str, list[int]] = {}
        self._topics_read_at = float("-inf")
        # Log-end change points per log partition, for estimated staleness only.
        self._log_end_changes: dict[LogPartition, list[LogEndPoint]] = {}
        # (layout, partition lists, closed): see ``_topics_closed``.
        self._closed_for: tuple[Layout, dict[str, list[int]], bool] | None = None
        # Per group of the current layout: its offsets' keys in their mapping's order,
        # and each one's slot (see ``_same_keys``); dropped when the layout changes.
        self._key_orders: dict[str, tuple[list[TopicPart], Ints]] = {}
        self._key_orders_of: Layout | None = None
        # The layout whose rows took the commit log's stillness evidence (see
        # ``commit_evidence``): new rows, and every cycle of the cold read, take it.
        self._seeded_for: Layout | None = None

    @property
    def known_keys(self) -> list[PartitionKey]:
        """Keys of the last cycle's rows (what ``error_rows`` reports on)."""
        return self._layout.keys.keys

    def collect(self, clock: Callable[[], float]) -> ClusterCycle:
        """Read everything, compute everything. Raises only when the cluster is
        unreachable as a whole (listing groups failed); per-group and per-partition
        problems come back as ERROR values and ``errors``.
        """
        if self._reconnect:
            self._renew_clients()
        errors: list[Problem] = []
        try:
            listing = self._source.list_groups()
        except Exception as error:
            self._reconnect = True
            hint = self._diagnose() if self._diagnose is not None else None
            if hint:  # librdkafka says "Timed out" for a bad host and a closed port alike
                raise ClusterUnreachable(f"{error_text(error)} ({hint})") from error
            raise
        known = set(self._layout.group_tps)
        # A group missing from the listing is asked for once more: a broker that is
        # shutting down (or a moving coordinator) can list no groups for a moment, which
        # must read as ERROR, not as "every group deleted". A really deleted group then
        # answers with no offsets and drops out.
        groups = sorted({g.group for g in listing if self._wanted(g.group)} | known)
        cold_read = self._from_log is not None and self._from_log.cold
        descriptions, committed = self._source.describe_and_fetch_offsets(
            groups, self._from_log.fetch if self._from_log is not None else None
        )
        # librdkafka's admin client can stay stuck on a coordinator connection from
        # before a broker restart (every OffsetFetch times out while listing works);
        # a fresh client recovers, so ask for one when every group timed out.
        admin_offsets = self._from_log is None or not self._from_log.active
        self._reconnect = (
            admin_offsets
            and bool(groups)
            and all("TIMED_OUT" in (committed[g].error or "") for g in groups)
        )

        # The incremental path: when no group's set of partitions can have changed,
        # the layout stands and the committed column is read straight from the offsets.
        commits = self._unchanged_layout_commits(groups, descriptions, committed)
        unreadable: dict[str, str] = {}
        marks: dict[bool, dict[TopicPart, Watermarks]] | None = None
        ahead: ReadAhead | None = None
        # Until the timestamps are read, a read-ahead thread may hold the readers: the
        # stack joins it however this part ends.
        with contextlib.ExitStack() as finish:
            if commits is None:
                wanted, unreadable = self._wanted_offsets(groups, descriptions, committed, errors)
                if self.read_ahead and not self._layout.groups and self._readers is not None:
                    # No row has a cached timestamp: read them all while the layout
                    # is built (see ``read_ahead``).
                    marks = self._watermarks(_log_partitions(wanted, self._read_committed))
                    ahead = ReadAhead(
                        self._readers,
                        functools.partial(
                            cold_requests, wanted, unreadable, self._read_committed, marks
                        ),
                    )
                    finish.callback(ahead.join)
                self._relayout(wanted)
                commits = _committed_column(self._layout, wanted)
            layout = self._layout
            if marks is None:
                marks = self._watermarks(layout.log_partitions)
            now = clock()
            log_start, log_end, lp_errors = _log_offsets(layout, marks)
            slot_lp = layout.slot_lp
            readable = ~np.isin(
                layout.slot_group,
                [layout.group_index[g] for g in unreadable if g in layout.group_index],
            )
            commits[~readable] = NONE
            hits, misses = self._record_times(
                layout, commits, log_start[slot_lp], log_end[slot_lp], readable, ahead
            )
        self._push_log_ends(now, layout, log_end)
        self._slots.advance(now, commits, log_end)
        produce = kernels.rates(
            self._slots.log_end_points(), len(log_end), now, self._rate_window_s
        )
        members = _members(layout, descriptions)
        if self._from_log is not None and (cold_read or layout is not self._seeded_for):
            since = since_column(layout, {g: c.since for g, c in committed.items()})
            seed_stillness(self._slots.status, since, now)
            self._seeded_for = layout
        columns = self._compute(
            now,
            layout,
            commits,
            log_start[slot_lp],
            log_end[slot_lp],
            produce[slot_lp],
            readable,
            members,
        )

        row_errors = _row_errors(layout, columns.status, unreadable, lp_errors, log_end, errors)
        columns = dataclasses.replace(columns, errors=row_errors)
        table = PartitionTable(layout.keys, now, columns)
        states = {
            g: (d.state, d.members)
            for g, d in descriptions.items()
            if isinstance(d, GroupDescription)
        }
        topic_rows, group_rows = rollups_from_columns(
            self.cluster, layout, columns, now, states, unreadable
        )
        samples = None
        if self._visibility_samples:
            samples = cycle_samples(self.cluster, layout, self._slots, now, commits, columns.status)
        return ClusterCycle(table, topic_rows, group_rows, hits, misses, errors, samples)

    def _watermarks(
        self, log_partitions: Iterable[LogPartition]
    ) -> dict[bool, dict[TopicPart, Watermarks]]:
        """Log start and end of every log partition, per isolation."""
        parts = list(log_partitions)
        return {
            rc: self._source.watermarks(
                [(lp.topic, lp.partition) for lp in parts if lp.read_committed == rc],
                read_committed=rc,
            )
            for rc in (False, True)
        }

    def _unchanged_layout_commits(
        self,
        groups: list[str],
        descriptions: dict[str, GroupDescription | str],
        committed: dict[str, CommittedOffsets],
    ) -> Ints | None:
        """The committed column in slot order when ``_wanted_offsets`` would give every
        group exactly its partitions in the current layout with no error, else None
        (the full path then runs). Exact, not a heuristic: when every group of the
        layout read without error, committed exactly its slots' partitions, has no
        assigned partition outside them, and every partition of its topics is one of
        its slots (checked against the partition lists ``_partitions_of`` returns
        now), and every other group has neither offsets nor assignments, then
        ``_wanted_offsets`` adds nothing, reports nothing, finds no unreadable group,
        and ``_relayout`` keeps the layout. The checks are set comparisons in C, so an
        unchanged layout costs one pass over the offsets, not a rebuild of every
        group's partition map."""
        layout = self._layout
        sets = layout.group_sets
        if not sets:
            return None
        for group in groups:
            desc = descriptions.get(group)
            if committed[group].error or isinstance(desc, str):
                return None
            offsets = committed[group].offsets
            assigned = desc.assigned if isinstance(desc, GroupDescription) else frozenset()
            known = sets.get(group)
            if known is None:
                if offsets or assigned:
                    return None
            elif not assigned <= known or not self._same_keys(group, offsets, known):
                return None
        # ``groups`` holds every group of the layout (the listing plus the known ones).
        if not self._topics_closed(self._partitions_of(layout.topics)):
            return None
        values: list[int | None] = []
        slots: list[Ints] = []
        for group in layout.groups:
            values += committed[group].offsets.values()  # in the order _same_keys saw
            slots.append(self._key_orders[group][1])
        column = np.empty(len(layout.keys), dtype=np.int64)
        column[np.concatenate(slots)] = _offsets_column(values)
        return column

    def _same_keys(
        self, group: str, offsets: Mapping[TopicPart, int | None], known: frozenset[TopicPart]
    ) -> bool:
        """True when ``offsets`` has exactly the keys ``known`` (the group's slots), and
        ``_key_orders[group]`` then holds its keys in its iteration order with the slot
        of each. A mapping whose keys are the same in the same order as last cycle is
        recognised by a list comparison (identical key objects compare by identity, so
        no key is hashed); otherwise the key sets are compared and the order learned."""
        layout = self._layout
        if self._key_orders_of is not layout:
            self._key_orders = {}
            self._key_orders_of = layout
        keys = list(offsets)
        cached = self._key_orders.get(group)
        if cached is not None and cached[0] == keys:
            return True
        if offsets.keys() != known:
            return False
        start = int(layout.group_starts[layout.group_index[group]])
        slot = {tp: start + i for i, tp in enumerate(layout.group_tps[group])}
        self._key_orders[group] = (keys, np.array([slot[tp] for tp in keys], dtype=np.int64))
        return True

    def _topics_closed(self, parts: dict[str, list[int]]) -> bool:
        """True when every partition ``parts`` lists for a topic a group consumes is
        one of that group's slots (what ``_add_uncommitted`` would otherwise add).
        Cached per (layout, partition lists): both are replaced, never mutated."""
        layout = self._layout
        cached = self._closed_for
        if cached is not None and cached[0] is layout and cached[1] is parts:
            return cached[2]
        sets = layout.group_sets
        closed = all(
            (topic, p) in sets[group]
            for group, topic in layout.topic_segments
            for p in parts.get(topic, ())
        )
        self._closed_for = (layout, parts, closed)
        return closed

    def _wanted_offsets(
        self,
        groups: list[str],
        descriptions: dict[str, GroupDescription | str],
        committed: dict[str, CommittedOffsets],
        errors: list[Problem],
    ) -> tuple[dict[str, dict[TopicPart, int | None]], dict[str, str]]:
        """Each group's partitions with their committed offset (None: assigned to a
        member but never committed), and the groups whose offsets could not be read
        this cycle (error text by group): they keep their partitions and history, and
        read as ERROR (a group with no partitions known gets an ERROR roll-up)."""
        wanted: dict[str, dict[TopicPart, int | None]] = {}
        unreadable: dict[str, str] = {}
        for group in groups:
            offsets: Mapping[TopicPart, int | None] = committed[group].offsets
            desc = descriptions.get(group)
            if committed[group].error:
                errors.append(Problem("offset_fetch", committed[group].error, group))
                if not offsets:
                    # Its partitions as last known, else as assigned now: ERROR rows,
                    # never "no commit" rows with the whole log as lag.
                    unreadable[group] = committed[group].error
                    assigned = desc.assigned if isinstance(desc, GroupDescription) else ()
                    wanted[group] = dict.fromkeys(self._layout.group_tps.get(group) or assigned)
                    continue
            wanted[group] = dict(offsets)
            if isinstance(desc, GroupDescription):
                for tp in desc.assigned - offsets.keys():
                    wanted[group][tp] = None
            elif isinstance(desc, str):
                errors.append(Problem("describe_group", desc, group))
        self._add_uncommitted(wanted, unreadable)
        return wanted, unreadable

    def _add_uncommitted(
        self, wanted: dict[str, dict[TopicPart, int | None]], unreadable: dict[str, str]
    ) -> None:
        """Every partition of every topic a group consumes, members or not: those it
        never committed are added with no commit (``no_commit`` rows), so a group that
        committed partitions 0 and 1 of a 3-partition topic shows 3 rows."""
        topics = {t for g, offsets in wanted.items() if g not in unreadable for t, _ in offsets}
        parts = self._partitions_of(topics)
        for group, offsets in wanted.items():
            if group in unreadable:
                continue
            for topic in {t for t, _ in offsets}:
                for p in parts.get(topic, ()):
                    offsets.setdefault((topic, p), None)

    def _partitions_of(self, topics: set[str]) -> dict[str, list[int]]:
        """Partition ids per topic from metadata, re-read every ``TOPICS_REFRESH_S``
        or when a topic is new; a failed read keeps the last answer."""
        read = getattr(self._source, "topic_partitions", None)
        if read is None or not topics:
            return self._topic_parts
        now = time.monotonic()
        if topics <= self._topic_parts.keys() and now - self._topics_read_at < TOPICS_REFRESH_S:
            return self._topic_parts
        try:
            self._topic_parts = read(sorted(topics))
            self._topics_read_at = now
        except Exception:  # metadata is a nicety here: the offsets still stand
            self._topics_read_at = now
        return self._topic_parts

    def close(self) -> None:
        """Close every client (the collector is not used afterwards)."""
        if self._from_log is not None:
            self._from_log.close()
        for reader in (self._readers or {}).values():
            with contextlib.suppress(Exception):
                reader.close()

    def _renew_clients(self) -> None:
        old_readers = self._readers
        self._source, self._readers = self._connect()
        self._reconnect = False
        for reader in (old_readers or {}).values():
            with contextlib.suppress(Exception):  # a reader of a dead connection may not close
                reader.close()

    def _relayout(self, wanted: dict[str, dict[TopicPart, int | None]]) -> None:
        """Rebuild the slot layout when any group's set of partitions changed, moving
        each surviving slot's history to its new position; new slots start empty."""
        old = self._layout
        if old.matches(wanted):
            return
        new = build_layout(self.cluster, wanted, self._read_committed)
        self._slots = self._slots.moved(old, new)
        kept = set(new.log_partitions)
        for lp in [lp for lp in self._log_end_changes if lp not in kept]:
            del self._log_end_changes[lp]
        self._layout = new

    # --- the column math --------------------------------------------------------------

    def _compute(
        self,
        now: float,
        layout: Layout,
        commits: Ints,
        log_start: Ints,
        log_end: Ints,
        produce: Floats,
        readable: Bools,
        members: Ints,
    ) -> PartitionColumns:
        """Every column of this cycle's rows; unreadable rows are ERROR with unknowns."""
        slots = self._slots
        gaps, no_commit, expired = kernels.offset_lags(log_start, log_end, commits)
        gaps[~readable] = NONE
        no_commit &= readable
        expired &= readable
        has_times = slots.t_have & (slots.t_commit == commits) & (log_end != NONE) & readable
        # An exact read found no data record at or after the commit: markers alone.
        lags = kernels.event_lags(gaps, has_times & np.isnan(slots.first_ts))

        exact, skew = kernels.exact_staleness(now, lags, slots.first_ts)
        age, age_skew = kernels.ages(now, slots.last_ts)
        estimated = self._estimated(now, layout, lags, commits, ~has_times)
        staleness, method = kernels.choose_staleness(has_times, exact, estimated)

        consume = kernels.rates_of_moving(*slots.commit_history(), now, self._rate_window_s)
        consume = np.where(readable, consume, np.nan)
        produce = np.where(readable, produce, np.nan)
        verdict = kernels.step_status(
            now,
            slots.status,
            kernels.StatusInputs(
                committed=commits,
                log_end=log_end,
                lag=lags,
                staleness_s=staleness,
                exact=has_times,
                clock_skew=has_times & skew,
                members=members,
            ),
            self._params,
        )
        status = verdict.status
        status[~readable] = _ERROR
        # ETA from current rates: the last commit step, the log end over a few seconds.
        eta_window = max(ETA_RATE_WINDOW_S, 2.0 * self._params.interval_s)
        produce_now = kernels.rates(
            self._slots.log_end_points(), len(layout.log_partitions), now, eta_window
        )[layout.slot_lp]
        horizon = np.fmax(self._params.interval_s, slots.status.cadence)
        eta = kernels.eta(lags, kernels.commit_rates(slots.status, now), produce_now, horizon)
        return PartitionColumns(
            log_start=np.where(readable, log_start, NONE),
            log_end=np.where(readable, log_end, NONE),
            committed=commits,
            offset_lag=lags,
            no_commit=no_commit,
            events_expired=expired,
            staleness_s=staleness,
            staleness_method=method,
            data_age_s=np.where(has_times, age, np.nan),
            clock_skew=has_times & (skew | age_skew),
            consume_rate=consume,
            produce_rate=produce,
            eta_s=np.where(readable, eta, np.nan),
            status=status,
            errors={},
            offset_gap=gaps,
            offset_out_of_range=verdict.out_of_range & readable,
            replay_progress=np.where(readable, verdict.replay_progress, np.nan),
        )

    def _record_times(
        self,
        layout: Layout,
        commits: Ints,
        log_start: Ints,
        log_end: Ints,
        readable: Bools,
        ahead: ReadAhead | None = None,
    ) -> tuple[int, int]:
        """Refresh the per-slot record timestamps whose cached answer no longer holds:
        the commit moved; or "nothing after committed" while the log end moved; or the
        log start moved past what the answer read (no commit, or retention deleted
        records at or before the committed offset). Slots of one partition at the same
        committed offset share one read. Unreadable groups' slots keep their answers.
        ``ahead``: the reads started before the layout was built, used where they apply."""
        if self._readers is None:
            return 0, 0
        slots = self._slots
        asked = (log_end != NONE) & readable
        still_true = (
            slots.t_have
            & (slots.t_commit == commits)
            & (~np.isnan(slots.first_ts) | (slots.t_end == log_end))
            & (((commits != NONE) & (commits > log_start)) | (slots.t_start == log_start))
        )
        stale = np.flatnonzero(asked & ~still_true)
        hits = int(np.count_nonzero(asked)) - len(stale)
        if not len(stale):
            return hits, 0
        slots.t_have[stale] = False
        requests: dict[tuple[int, int], list[int]] = {}
        lp_of = layout.slot_lp
        for row, lp, commit in zip(
            stale.tolist(), lp_of[stale].tolist(), commits[stale].tolist(), strict=True
        ):
            requests.setdefault((lp, commit), []).append(row)
        hits += len(stale) - len(requests)
        by_rc: dict[bool, list[TimesRequest]] = {False: [], True: []}
        for lp, commit in requests:
            part = layout.log_partitions[lp]
            start = int(log_start[requests[(lp, commit)][0]])
            by_rc[part.read_committed].append(
                TimesRequest(
                    part.topic,
                    part.partition,
                    None if commit == NONE else commit,
                    None if start == NONE else start,
                )
            )
        answered: list[list[int]] = []
        firsts: list[float] = []
        lasts: list[float] = []
        for rc, batch in by_rc.items():
            if not batch:
                continue
            reader = self._readers[rc]
            answers = (
                reader.read(batch) if ahead is None else answer(batch, ahead.answers(rc), reader)
            )
            for request, result in answers.items():
                if result is None:
                    continue
                lp = layout.lp_index[LogPartition(rc, request.topic, request.partition)]
                commit = NONE if request.committed is None else request.committed
                answered.append(requests[(lp, commit)])
                firsts.append(_seconds(result.first_unconsumed_ts))
                lasts.append(_seconds(result.last_consumed_ts))
        if answered:
            # One assignment per column, not six per answer (0.4 s CPU at a cold start
            # with 27,000 answers): an answer's rows share its partition and committed
            # offset, hence their commits, log ends and log starts.
            rows = np.fromiter((row for group in answered for row in group), np.int64)
            counts = np.fromiter(map(len, answered), np.int64, len(answered))
            slots.t_have[rows] = True
            slots.t_commit[rows] = commits[rows]
            slots.t_end[rows] = log_end[rows]
            slots.t_start[rows] = log_start[rows]
            slots.first_ts[rows] = np.repeat(np.array(firsts), counts)
            slots.last_ts[rows] = np.repeat(np.array(lasts), counts)
        return hits, len(requests)

    def _estimated(
        self, now: float, layout: Layout, lags: Ints, commits: Ints, without_times: np.ndarray
    ) -> Floats:
        """``lag.estimated_staleness`` where no record timestamp is known: 0 where
        caught up, unknown where the lag is, interpolated (one call per row) where
        the lag is positive. Reading records is the normal path, so few rows get here."""
        out = np.where(lags == 0, 0.0, np.nan)
        rows = np.flatnonzero(without_times & (lags > 0))
        if len(rows):
            changes = self._log_end_changes
            for row, lp, lag_, commit in zip(
                rows.tolist(),
                layout.slot_lp[rows].tolist(),
                lags[rows].tolist(),
                commits[rows].tolist(),
                strict=True,
            ):
                history = changes.get(layout.log_partitions[lp], [])
                value = lag.estimated_staleness(
                    now, lag_, None if commit == NONE else commit, history
                )
                out[row] = np.nan if value is None else value
        return out

    def _push_log_ends(self, now: float, layout: Layout, log_end: Ints) -> None:
        """Record this cycle's log ends as the change points that estimation reads: the
        first point of every change plus the latest, which is all interpolation needs,
        so they stay short on idle topics."""
        changes = self._log_end_changes
        for lp, end in zip(layout.log_partitions, log_end.tolist(), strict=True):
            if end == NONE:
                continue
            points = changes.get(lp)
            if points is None:
                changes[lp] = [LogEndPoint(now, end)]
            elif len(points) >= 2 and points[-1].log_end == end == points[-2].log_end:
                points[-1] = LogEndPoint(now, end)  # extend the flat run
            else:
                points.append(LogEndPoint(now, end))
                if len(points) > ESTIMATION_POINTS:
                    del points[0]

    def error_rows(self, now: float, message: str, group: str | None = None) -> list[PartitionLag]:
        """ERROR rows for every known partition (of ``group``, if given): what to report
        while the cluster, or that group's offsets, cannot be read."""
        return [
            PartitionLag(
                key=key,
                observed_at=now,
                log_start=None,
                log_end=None,
                committed=None,
                offset_lag=None,
                no_commit=False,
                events_expired=False,
                staleness_s=None,
                staleness_method=StalenessMethod.UNKNOWN,
                data_age_s=None,
                clock_skew=False,
                consume_rate=None,
                produce_rate=None,
                eta_s=None,
                status=Status.ERROR,
                error=message,
            )
            for key in self.known_keys
            if group is None or key.group == group
        ]


def _seconds(value: float | None) -> float:
    return np.nan if value is None else value


def _log_partitions(
    wanted: Mapping[str, Mapping[TopicPart, object]], read_committed: Callable[[str], bool]
) -> list[LogPartition]:
    """The log partitions the layout of ``wanted`` will have (in no particular order)."""
    by_rc: dict[bool, dict[TopicPart, None]] = {False: {}, True: {}}
    for group, offsets in wanted.items():
        if offsets:
            by_rc[read_committed(group)].update(dict.fromkeys(offsets))
    return [LogPartition(rc, t, p) for rc, tps in by_rc.items() for t, p in tps]


def _log_offsets(
    layout: Layout, marks: dict[bool, dict[TopicPart, Watermarks]]
) -> tuple[Ints, Ints, dict[int, str]]:
    """log_start and log_end per log partition, and error texts by log partition."""
    starts, ends, errors = [], [], {}
    for i, lp in enumerate(layout.log_partitions):
        mark = marks[lp.read_committed].get((lp.topic, lp.partition), _NOT_REQUESTED)
        starts.append(NONE if mark.log_start is None else mark.log_start)
        ends.append(NONE if mark.log_end is None else mark.log_end)
        if mark.error:
            errors[i] = mark.error
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64), errors


def _committed_column(layout: Layout, wanted: dict[str, dict[TopicPart, int | None]]) -> Ints:
    """Committed offsets in slot order (NONE for no commit)."""
    values: list[int | None] = []
    for group in layout.groups:
        values += map(wanted[group].__getitem__, layout.group_tps[group])
    return _offsets_column(values)


def _offsets_column(values: list[int | None]) -> Ints:
    """Offsets as a column: None and negative offsets (a client's "no offset"
    sentinel: no commit, as in OffsetFetch) become ``NONE``."""
    if not values:
        return np.zeros(0, dtype=np.int64)
    try:
        column = np.array(values, dtype=np.int64)  # every row committed: the usual case
    except TypeError:  # a None among them
        # None -> NaN, in C; offsets stay exact below 2**53, far beyond any real log.
        floats = np.array(values, dtype=np.float64)
        return np.where(np.isnan(floats) | (floats < 0), NONE, floats).astype(np.int64)
    column[column < 0] = NONE
    return column


def _row_errors(
    layout: Layout,
    status: Ints,
    unreadable: dict[str, str],
    lp_errors: dict[int, str],
    log_end: Ints,
    errors: list[Problem],
) -> dict[int, str]:
    """Error text per ERROR row: the group's offset error, else its partition's
    watermark error (also reported in ``errors`` when the log end is unknown)."""
    out: dict[int, str] = {}
    for row in np.flatnonzero(status == _ERROR).tolist():
        group = layout.groups[layout.slot_group[row]]
        if group in unreadable:
            out[row] = unreadable[group]
            continue
        lp = int(layout.slot_lp[row])
        text = lp_errors.get(lp)
        if text is not None:
            out[row] = text
            if log_end[lp] == NONE:
                part = layout.log_partitions[lp]
                errors.append(Problem("list_offsets", text, group, part.topic, part.partition))
    return out


def _members(layout: Layout, descriptions: dict[str, GroupDescription | str]) -> Ints:
    """Member count per slot (``NONE`` for a group that could not be described)."""
    by_group = [
        d.members if isinstance(d := descriptions.get(g), GroupDescription) else NONE
        for g in layout.groups
    ]
    return np.array(by_group, dtype=np.int64)[layout.slot_group]
