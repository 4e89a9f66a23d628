"""Where committed offsets come from: ``__consumer_offsets`` or the Admin API.

``offsets_topic`` reads the log the group coordinators write every commit to (see
``offsets_log``): after a cold start a cycle costs in proportion to the commits since
the last one. ``admin`` asks every group with OffsetFetch: no extra permission beyond
Describe on the groups, but about a second of librdkafka CPU per 100,000
group-partitions. ``auto`` (the default) reads the log and falls back to the Admin
API for good, with one warning, when the principal may not read the internal topic.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Literal

from collectors.core.model import CommittedOffsets
from collectors.kafka.offsets_log import CommittedOffsetsLog, OffsetsLogUnavailable, ReadProgress

log = logging.getLogger(__name__)

CommittedFrom = Literal["auto", "offsets_topic", "admin"]

# The first, whole-topic read is spread over cycles: each cycle reads it for at most
# ``cold_budget_s(interval_s)`` (the first for COLD_FIRST_SLICE_S at most, so the first
# snapshot comes soon) and resumes where the previous one stopped; the groups not read up
# to date yet are asked with the Admin API meanwhile. A progress line per PROGRESS_EVERY_S
# of reading. With ``admin_first`` the first cycle reads none of it (see the class).
COLD_FIRST_SLICE_S = 0.5
COLD_MIN_SLICE_S = 0.25
PROGRESS_EVERY_S = 2.0


def cold_budget_s(interval_s: float) -> float:
    """Reading time a cycle gives the cold read: a quarter of the interval, at least
    ``COLD_MIN_SLICE_S``. The rest of the interval is for the cycle itself, which
    meanwhile also asks OffsetFetch for the groups not read yet: a cycle of the cold read
    should still end within its interval, so snapshots keep coming on time."""
    return max(COLD_MIN_SLICE_S, interval_s / 4)


class CommittedOffsetsFromLog:
    """Committed offsets from ``__consumer_offsets``, or None: "ask the Admin API".

    The log outlives client renewals after a broker restart (its consumer reconnects
    by itself), so a restart does not cost another cold read.

    ``admin_first``: the first cycle reads none of the log and leaves every group to
    the Admin API. For a caller that asks OffsetFetch while the log is read (as
    ``KafkaOffsetsSource.describe_and_fetch_offsets`` does for the groups the log left
    out last cycle: at a cold start, all): a first slice of a cold log answers few
    groups, and decoding it beside librdkafka parsing the OffsetFetch answers slowed
    them on 2 cores (0.81 -> 1.05 s at 100,000 group-partitions), and the first
    snapshot with them.
    """

    def __init__(
        self,
        open_log: Callable[[], CommittedOffsetsLog],
        mode: CommittedFrom,
        timeout_s: float,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        admin_first: bool = False,
    ) -> None:
        self._open_log = open_log
        self._mode = mode
        self._timeout = timeout_s
        self._budget = min(cold_budget_s(interval_s), timeout_s)
        self._clock = clock
        self._log: CommittedOffsetsLog | None = None
        self._cold = True  # the cold read of a fresh log is not done yet
        self._cold_started: float | None = None  # when the first slice read
        # A cold read's first progress line is said by the first slice that returns:
        # a first slice that raised (a broker still loading) must not lose it.
        self._progress_said = False
        self._skip_cycle = admin_first
        self._unlogged_s = 0.0  # reading time since the last progress line
        self._gave_up = mode == "admin"

    @property
    def active(self) -> bool:
        return not self._gave_up

    @property
    def cold(self) -> bool:
        """True until the first read of the whole topic is done (groups then move from
        the Admin API's answers to the log's, cycle by cycle)."""
        return self._cold and not self._gave_up

    def fetch(self, groups: Iterable[str]) -> dict[str, CommittedOffsets] | None:
        """Committed offsets as of now, of every group whose commits the log can show: a
        group stored in a partition of the topic with records past the last stable
        offset is left out (an open transaction, of any producer, hides every later
        record of its partition), and the caller asks the Admin API for it; so is,
        while the first read of the whole topic goes on (``_cold_read``), a group whose
        partition was not read up to date yet. A read error
        becomes the error of every group (they read as ERROR, as with a failed
        OffsetFetch). None once the log is not permitted in ``auto`` mode: the caller
        asks the Admin API for all."""
        groups = list(groups)
        if self._gave_up:
            return None
        if self._skip_cycle:  # ``admin_first``: nothing read, every group asked
            self._skip_cycle = False
            return {}
        if self._log is None:
            self._log = self._open_log()
        report_cold = None
        try:
            if self._cold:
                report_cold = self._cold_read(self._log)
            else:
                self._log.catch_up(self._timeout)
        except OffsetsLogUnavailable as error:
            if error.permanent and self._mode == "auto":
                log.warning(
                    "committed offsets: %s; asking the Admin API instead from now on "
                    "(grant Describe and Read on __consumer_offsets for cheaper cycles)",
                    error,
                )
                self.close()
                self._gave_up = True
                return None
            return {g: CommittedOffsets(g, {}, str(error)) for g in groups}
        # Groups whose partition of the topic has records past its last stable offset
        # (an open transaction hides them) are left out: the caller asks the coordinator.
        out = {
            g: CommittedOffsets(g, self._log.offsets(g), since=self._log.since(g))
            for g in groups
            if not self._log.hides_commits_of(g)
        }
        if report_cold is not None:  # a slice of the cold read: say how far it got
            report_cold(len(out), len(groups))
        return out

    def _cold_read(self, offsets_log: CommittedOffsetsLog) -> Callable[[int, int], None]:
        """The first read takes the whole topic: millions of records on a big cluster,
        about 3 s of CPU per million here, while OffsetFetch answers 100,000
        group-partitions in about 1 s. So each cycle reads it for its budget only
        (``cold_budget_s``; the first cycle ``COLD_FIRST_SLICE_S`` at most) and the next
        resumes where it stopped; the groups of the partitions read up to date come from
        the log, the others (``hides_commits_of``) from the Admin API, so every value is
        exact from the first snapshot on and no cycle of the cold read runs long. A
        progress line after every ``PROGRESS_EVERY_S`` of reading (and after the first
        slice that returned: a first cycle whose slice could not start says it in the
        next), one line when it is done. A slice that brings nothing (broker gone) just
        uses up the budget. Returns what logs the outcome once the caller knows how many
        groups the log answered. A slice that cannot even learn its targets raises that
        error (every group's, as before)."""
        first = self._cold_started is None
        start = self._clock()
        if first:
            self._cold_started = start
        budget = min(COLD_FIRST_SLICE_S, self._budget) if first else self._budget
        done = False
        while not done:
            left = budget - (self._clock() - start)
            if left <= 0:
                break
            # Slices end at the next progress line, so a long budget still logs on time
            # (never tiny ones: each slice first asks the broker for its targets).
            slice_s = min(left, max(PROGRESS_EVERY_S - self._unlogged_s, COLD_MIN_SLICE_S))
            before = self._clock()
            done = offsets_log.catch_up(slice_s, partial=True)
            self._unlogged_s += self._clock() - before
            if not done and self._unlogged_s >= PROGRESS_EVERY_S and budget > self._clock() - start:
                log.info(self._progress(offsets_log))
                self._unlogged_s = 0.0
        # Done only once the topic was found: until then every group is asked with the
        # Admin API, and the next cycle looks for the topic again.
        self._cold = not (done and offsets_log.discovered)
        say = done or not self._progress_said or self._unlogged_s >= PROGRESS_EVERY_S
        if say:
            self._unlogged_s = 0.0
            self._progress_said = True
        line = self._progress(offsets_log)
        records = offsets_log.records_parsed
        elapsed = self._clock() - (self._cold_started or start)

        def report(from_log: int, groups: int) -> None:
            if done:
                log.info(
                    "committed offsets from __consumer_offsets: %s records read in %.1f s",
                    f"{records:,}",
                    elapsed,
                )
            elif say:
                log.info(
                    "%s; %d of %d groups read from it, the others asked with the Admin "
                    "API meanwhile",
                    line,
                    from_log,
                    groups,
                )

        return report

    def _progress(self, offsets_log: CommittedOffsetsLog) -> str:
        now = self._clock()
        elapsed = now - (self._cold_started if self._cold_started is not None else now)
        return progress_line(offsets_log.progress(), offsets_log.records_parsed, elapsed)

    def close(self) -> None:
        if self._log is not None:
            with contextlib.suppress(Exception):
                self._log.close()
            self._log = None
            self._cold = True
            self._cold_started = None
            self._unlogged_s = 0.0
            self._progress_said = False


def progress_line(progress: ReadProgress, records: int, elapsed_s: float) -> str:
    """``reading __consumer_offsets: 40% (1.2M records), 3.1 s``. The percentage is of
    the offsets aimed at, rounded down: 100% only when everything was read (or there
    was nothing to read)."""
    if progress.target <= 0:
        percent = 100
    else:
        percent = max(0, min(progress.read, progress.target)) * 100 // progress.target
    return f"reading __consumer_offsets: {percent}% ({_count(records)} records), {elapsed_s:.1f} s"


def _count(n: int) -> str:
    """999, 12k, 1.2M: three significant figures at most (rounded down, so 999,999
    records never read as 1.0M)."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n // 1000}k"
    tenths = n // 100_000
    return f"{tenths // 10}.{tenths % 10}M" if tenths < 100 else f"{n // 1_000_000}M"
