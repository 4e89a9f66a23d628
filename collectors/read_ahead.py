"""Record-timestamp reads started before the slot layout is built (cold cycles).

At a cold start every row needs a read, and the reads wait on the broker far more than
they compute (replaying one at 100,000 group-partitions: about 1 s of waiting for
0.4 s of CPU), while building the first layout is pure CPU (about 0.5 s). A read
needs only each group's committed offsets and its partitions' log start and end,
which are known before the layout, so the cycle starts the reads on a thread, builds
the layout meanwhile, and takes the answers where it would otherwise have read.

The requests are exactly those ``ClusterCollector._record_times`` makes from the
layout when no row has a cached answer: one per (isolation, partition, committed
offset) of a readable group whose log end is known, from the log start. A request
the cycle makes that was not read ahead is read then, so the answers never depend
on the two agreeing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from collectors.core.model import RecordTimes, TimesRequest, TopicPart, Watermarks
from collectors.core.ports import RecordTimesSource

Answers = dict[TimesRequest, RecordTimes | None]


def cold_requests(
    wanted: Mapping[str, Mapping[TopicPart, int | None]],
    unreadable: Mapping[str, str],
    read_committed: Callable[[str], bool],
    marks: Mapping[bool, Mapping[TopicPart, Watermarks]],
) -> dict[bool, list[TimesRequest]]:
    """The timestamp reads of a cycle with no cached answer, by isolation: each
    readable group's partitions whose log end is known, at their committed offset (a
    negative offset, a client's "none", reads as no commit), deduplicated across
    groups. Groups with no partitions and unreadable groups ask nothing."""
    positions: dict[bool, dict[TopicPart, set[int | None]]] = {False: {}, True: {}}
    for group, offsets in wanted.items():
        if not offsets or group in unreadable:
            continue
        rc = read_committed(group)
        by_tp = positions[rc]
        for tp, commit in offsets.items():
            at = by_tp.get(tp)
            if at is None:
                at = by_tp[tp] = set()
            at.add(None if commit is None or commit < 0 else commit)
    out: dict[bool, list[TimesRequest]] = {False: [], True: []}
    for rc, by_tp in positions.items():
        for tp, commits in by_tp.items():
            mark = marks[rc].get(tp)
            if mark is None or mark.log_end is None:
                continue
            out[rc] += [TimesRequest(tp[0], tp[1], c, mark.log_start) for c in commits]
    return out


class ReadAhead:
    """Reads on a thread while the caller goes on; ``answers`` waits for them.

    ``join`` must be called before the readers are used again (``answers`` does):
    a reader is one Kafka consumer, never shared between threads at once.
    """

    def __init__(
        self,
        readers: Mapping[bool, RecordTimesSource],
        requests: Callable[[], dict[bool, list[TimesRequest]]],
    ) -> None:
        self._answers: dict[bool, Answers] = {}
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(readers, requests), name="lagwatch-read-ahead", daemon=True
        )
        self._thread.start()

    def _run(
        self,
        readers: Mapping[bool, RecordTimesSource],
        requests: Callable[[], dict[bool, list[TimesRequest]]],
    ) -> None:
        try:
            for rc, batch in requests().items():
                if batch:
                    self._answers[rc] = readers[rc].read(batch)
        except BaseException as error:  # re-raised in the cycle's thread by ``answers``
            self._error = error

    def join(self) -> None:
        self._thread.join()

    def answers(self, read_committed: bool) -> Answers:
        """The answers read ahead for one isolation (empty if none was asked); raises
        what the reads raised."""
        self.join()
        if self._error is not None:
            raise self._error
        return self._answers.get(read_committed, {})


def answer(batch: list[TimesRequest], ahead: Answers, reader: RecordTimesSource) -> Answers:
    """Answers to ``batch``: those read ahead, and the rest read now."""
    out = {r: ahead[r] for r in batch if r in ahead}
    missing = [r for r in batch if r not in out]
    if missing:
        out.update(reader.read(missing))
    return out
