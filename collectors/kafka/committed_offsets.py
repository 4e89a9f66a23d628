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
from collectors.kafka.offsets_log import CommittedOffsetsLog, OffsetsLogUnavailable

log = logging.getLogger(__name__)

CommittedFrom = Literal["auto", "offsets_topic", "admin"]

PROGRESS_EVERY_S = 5.0  # during the first, whole-topic read


class CommittedOffsetsFromLog:
    """Committed offsets from ``__consumer_offsets``, or None: "ask the Admin API".

    The log outlives client renewals after a broker restart (its consumer reconnects
    by itself), so a restart does not cost another cold read.
    """

    def __init__(
        self,
        open_log: Callable[[], CommittedOffsetsLog],
        mode: CommittedFrom,
        timeout_s: float,
    ) -> None:
        self._open_log = open_log
        self._mode = mode
        self._timeout = timeout_s
        self._log: CommittedOffsetsLog | None = None
        self._cold = True  # the next read is the first of a fresh log
        self._gave_up = mode == "admin"

    @property
    def active(self) -> bool:
        return not self._gave_up

    def fetch(self, groups: Iterable[str]) -> dict[str, CommittedOffsets] | None:
        """Committed offsets as of now, of every group whose commits the log can show: a
        group stored in a partition of the topic with records past the last stable
        offset is left out (an open transaction, of any producer, hides every later
        record of its partition), and the caller asks the Admin API for it. A read error
        becomes the error of every group (they read as ERROR, as with a failed
        OffsetFetch). None once the log is not permitted in ``auto`` mode: the caller
        asks the Admin API for all."""
        groups = list(groups)
        if self._gave_up:
            return None
        if self._log is None:
            self._log = self._open_log()
        try:
            if self._cold:
                self._cold_read(self._log)
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
        return {
            g: CommittedOffsets(g, self._log.offsets(g))
            for g in groups
            if not self._log.hides_commits_of(g)
        }

    def _cold_read(self, offsets_log: CommittedOffsetsLog) -> None:
        """The first read takes the whole topic: millions of records on a big cluster,
        about 3 s per million here. It goes on for as long as records keep arriving,
        logging its progress every ``PROGRESS_EVERY_S``, so the first snapshot is
        complete rather than every group reading as ERROR meanwhile; a stretch that
        brings nothing (broker gone) ends it with that error, and the next cycle
        resumes where it stopped."""
        started = time.monotonic()
        while True:
            before = offsets_log.records_parsed
            try:
                offsets_log.catch_up(min(PROGRESS_EVERY_S, self._timeout))
                break
            except OffsetsLogUnavailable as error:
                if error.permanent or offsets_log.records_parsed == before:
                    raise
            log.info(
                "reading __consumer_offsets: %s records after %.0f s",
                f"{offsets_log.records_parsed:,}",
                time.monotonic() - started,
            )
        self._cold = False
        log.info(
            "committed offsets from __consumer_offsets: %s records read in %.1f s",
            f"{offsets_log.records_parsed:,}",
            time.monotonic() - started,
        )

    def close(self) -> None:
        if self._log is not None:
            with contextlib.suppress(Exception):
                self._log.close()
            self._log = None
            self._cold = True
