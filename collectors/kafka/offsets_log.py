"""Adapter: committed offsets materialised from the internal ``__consumer_offsets`` topic.

The Admin API answers "committed offsets of group g" with one OffsetFetch per group,
and librdkafka's handling of large OffsetFetch responses is quadratic in the number of
partitions. Like Burrow and KMinion's "offsetsTopic" mode, this adapter instead reads
the log the group coordinator itself writes every commit to: after a cold start, a
cycle costs in proportion to the commits made since the previous cycle.

One consumer, ``assign()``-ed to every partition of ``__consumer_offsets`` from the
beginning, reads ``read_committed``: a transactional offset commit
(``send_offsets_to_transaction``) is only delivered once its transaction commits, and
never when it aborts, exactly as the coordinator applies it. Records of one group all
live in one partition of the topic and arrive in log order, so "last record wins per
(group, topic, partition)" reproduces the coordinator's state; a tombstone (null value)
deletes the commit.

Transaction control markers never reach the application, but librdkafka still moves
the consumer's position past them, and past aborted records (verified with
confluent-kafka / librdkafka 2.16: a partition whose tail is a commit or abort marker
reports its position at the last stable offset, and so does its end-of-partition
event). A partition never delivered anything has no position (-1001); its
end-of-partition event carries the offset instead. ``catch_up`` uses both; each alone
sufficed in the tests. Note that a marker moves the position without waking
``poll()``, hence the short waits.

One consequence of ``read_committed``: while a transaction that commits offsets is
open, later commits of every group in the same ``__consumer_offsets`` partition (one
of 50 by default) stay invisible until it ends. The coordinator applies them at once;
here they wait for the transaction, normally a fraction of a second (Kafka Streams'
exactly-once commits every 100 ms), but up to ``transaction.timeout.ms`` when its
producer died. librdkafka exposes neither control records nor producer ids, so the
pending state cannot be tracked the way the coordinator does; instead ``catch_up``
notes which partitions have records past their last stable offset, and
``hides_commits_of`` tells the caller which groups to ask the coordinator about.

Not thread-safe: one caller drives ``catch_up`` and reads the results.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from confluent_kafka import (
    Consumer,
    IsolationLevel,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, OffsetSpec

from collectors.core.model import TopicPart
from collectors.kafka.errors import error_text
from collectors.kafka.offsets_codec import MalformedRecord, decode_key, decode_offset

OFFSETS_TOPIC = "__consumer_offsets"


# Errors no retry can fix: the principal may not read the topic. The caller falls back
# to the Admin API, which needs only Describe on groups.
_PERMANENT = frozenset({KafkaError.TOPIC_AUTHORIZATION_FAILED})

# How many partitions of the topic a partial (cold) read fetches at once; see _focus.
ACTIVE_PARTITIONS = 2

# How long one wait for records lasts before positions are looked at again.
_WAIT_SLICE_S = 0.02

_EMPTY: Mapping[TopicPart, int] = MappingProxyType({})
_EMPTY_SINCE: Mapping[TopicPart, float] = MappingProxyType({})

# librdkafka's fetch and queue sizes for this reader (its records are ~100 bytes).
_FETCH_BOUNDS = {
    # Per partition; default 100,000. A cold read fetches ACTIVE_PARTITIONS at a time:
    # 20,000 each lets the queue fill to its 4 MB between cycles.
    "queued.min.messages": 20_000,
    "queued.max.messages.kbytes": 4096,  # whole queue; default 65,536
    "fetch.max.bytes": 2 * 1024 * 1024,  # per fetch response; default 50 MB
    "max.partition.fetch.bytes": 256 * 1024,  # default 1 MB
}


@dataclass(frozen=True, slots=True)
class ReadProgress:
    """How far the last ``catch_up`` got: offsets read of the offsets it aimed at
    (summed over the partitions of the topic; both 0 before any target is known)."""

    read: int
    target: int


class OffsetsLogUnavailable(RuntimeError):
    """``__consumer_offsets`` could not be read up to date.

    ``permanent`` is True when retrying cannot help (authorization); False for
    timeouts, brokers down, leaders moving.
    """

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class CommittedOffsetsLog:
    """Committed offsets of the wanted groups, as read from ``__consumer_offsets``.

    ``config`` is a librdkafka config (``bootstrap.servers`` plus any SASL/SSL
    settings), passed through unchanged and never logged. ``wanted`` decides once per
    group name whether the group is kept (the decision is cached for the lifetime of
    this object); only wanted groups take memory, besides that one cached decision
    per group name seen.

    The topic is assigned, and read, from the first ``catch_up`` on.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        wanted: Callable[[str], bool],
        batch_size: int = 10_000,
    ) -> None:
        self._wanted = wanted
        self._batch = batch_size
        # librdkafka logs every refused connection; outages surface as exceptions instead.
        self._admin = AdminClient({"log_level": 2, **config})
        self._consumer = Consumer(
            {
                "log_level": 2,
                **config,
                # Required by the Python client; we only assign() and never commit, so
                # no group is ever formed under this id.
                "group.id": f"lagwatch-offsets-log-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
                "isolation.level": "read_committed",
                # Only if the log were truncated under us: re-reading from the start
                # rebuilds the same state (last record wins).
                "auto.offset.reset": "earliest",
                # A cold start reads the whole topic, faster than Python drains the
                # queue: the default 1 s back-off when the queue is full leaves the
                # fetcher idle most of the time (5 s instead of 2 s for 1M records).
                "fetch.queue.backoff.ms": 10,
                # Bounded prefetch: by default librdkafka keeps up to 100,000 messages
                # per partition (and 64 MB) queued, so a cold read of a big topic held
                # ~130 MB more than Python ever needs at once. A few MB keep the
                # fetcher ahead of the decoder.
                **_FETCH_BOUNDS,
            }
        )
        self._partitions: list[int] = []  # of __consumer_offsets; empty until discovered
        self._hidden: frozenset[int] = frozenset()  # partitions with records past the LSO
        self._unread: frozenset[int] = frozenset()  # partitions a partial read left behind
        self._paused: set[int] = set()  # partitions a partial read holds back
        self._reached: set[int] = set()  # partitions read up to a target once: never paused
        self._targets_seen: dict[int, int] = {}  # the last catch_up's targets
        self._next: dict[int, int] = {}  # partition -> next offset we have not read
        self._decisions: dict[str, bool] = {}
        self._offsets: dict[str, dict[TopicPart, int]] = {}
        # When each committed offset was first committed (its commit record's time):
        # the offset has not moved since. Absent when the record carried no time.
        self._since: dict[str, dict[TopicPart, float]] = {}
        # Raw key (version-1 bytes) -> its (topic, partition), and the group's name
        # as it is in the key -> (the group's offsets, its since times): lets the common
        # record, a new offset for a known key, skip decoding the key. A (dicts, key)
        # tuple per raw key would cost 8 MB more at 100,000 group-partitions.
        self._known: dict[bytes, TopicPart] = {}
        self._known_groups: dict[bytes, tuple[dict[TopicPart, int], dict[TopicPart, float]]] = {}
        self._layout: dict[str, int] = {}
        self._layout_clock = 0
        self._tps: dict[TopicPart, TopicPart] = {}  # shared keys (see _apply_slow)
        self._records = 0
        self._malformed = 0

    # -- reading -------------------------------------------------------------------

    def catch_up(self, timeout_s: float, partial: bool = False) -> bool:
        """Read until every partition of ``__consumer_offsets`` is past the last stable
        offset it had when this call started (so every commit acknowledged before the
        call is applied; later ones may be too). A transactional offset commit counts
        once the broker has written its commit markers, which it does shortly after
        the producer's ``commit_transaction()`` returns; an aborted one never counts.
        Returns True once every partition is read up to its target.

        ``partial=True`` (a cold read in slices): reaching ``timeout_s`` first is not an
        error; the call returns False and ``hides_commits_of`` is True for the groups
        of the partitions not read up to their target yet, until a later call reads
        them. The groups of the other partitions are exact as of the call. A partial call
        applies what is already fetched at least once, even past ``timeout_s`` (at most
        ``batch_size`` records), so slices shorter than a round trip still advance.

        Raises ``OffsetsLogUnavailable``: ``permanent=True`` when the topic may not be
        read; ``permanent=False`` when the targets could not be fetched or (unless
        ``partial``) not reached within ``timeout_s`` (broker down, leader moving).
        Whatever was read before the error stays applied, and the next call resumes
        from there; the consumer reconnects by itself once the broker is back. A
        cluster without ``__consumer_offsets`` (no group ever coordinated) has no
        commits: the call returns at once (True).
        """
        deadline = time.monotonic() + timeout_s
        if not self._partitions and not self._discover(deadline):
            return True
        targets = self._targets_seen = self._targets(deadline)
        pending = self._behind(targets)
        self._reached.update(p for p in targets if p not in pending)
        self._focus(pending if partial else {})
        drained = False
        while pending:
            remaining = deadline - time.monotonic()
            # A partial read drains what is already fetched at least once, so it moves
            # on even when asking for the targets took its whole time (a busy broker).
            if remaining <= 0 and (drained or not partial):
                if partial:
                    self._unread = frozenset(pending)
                    return False
                raise OffsetsLogUnavailable(
                    f"{OFFSETS_TOPIC}: {len(pending)} of {len(targets)} partitions not "
                    f"caught up within {timeout_s:g}s"
                )
            # Drain what is already fetched; when nothing is, wait for the first record
            # only (consume() would wait for its full timeout even after one arrives),
            # and briefly: a control marker moves the position but wakes no poll().
            try:
                batch = self._consumer.consume(num_messages=self._batch, timeout=0)
                drained = True
                if not batch and remaining > 0:
                    message = self._consumer.poll(min(remaining, _WAIT_SLICE_S))
                    batch = [message] if message is not None else []
            except KafkaException as error:  # fatal client errors only
                raise _unavailable("consume", error.args[0] if error.args else error) from None
            self._apply(batch)
            behind = self._behind(pending)
            self._reached.update(p for p in pending if p not in behind)
            if partial and len(behind) < len(pending):
                self._focus(behind)
            pending = behind
        self._focus({})
        self._unread = frozenset()
        return True

    def _focus(self, pending: dict[int, int]) -> None:
        """Fetch only the ``ACTIVE_PARTITIONS`` pending partitions with the fewest
        offsets left, the others paused: a cold read spread over calls then finishes
        whole partitions one after another, and the groups of each are answered from
        the log from then on, instead of every partition finishing at the very end.
        Empty ``pending``: fetch every partition again. Pausing only stops fetching;
        the next record read is still the one after the last one applied."""
        # A partition read up to date once only has new commits left: always fetched, it
        # takes no slot (or the trickle of new commits would keep taking the slots).
        cold = [p for p in pending if p not in self._reached]
        order = sorted(cold, key=lambda p: (pending[p] - self._next.get(p, 0), p))
        hold = set(order[ACTIVE_PARTITIONS:])
        resume, pause = self._paused - hold, hold - self._paused
        if resume:
            self._consumer.resume([TopicPartition(OFFSETS_TOPIC, p) for p in sorted(resume)])
        if pause:
            self._consumer.pause([TopicPartition(OFFSETS_TOPIC, p) for p in sorted(pause)])
        self._paused = hold

    @property
    def discovered(self) -> bool:
        """True once the topic's partitions are known and assigned."""
        return bool(self._partitions)

    def progress(self) -> ReadProgress:
        """Offsets read of those the last ``catch_up`` aimed at, over all partitions."""
        targets = self._targets_seen
        read = sum(min(self._next.get(p, 0), end) for p, end in targets.items())
        return ReadProgress(read, sum(targets.values()))

    def _behind(self, targets: dict[int, int]) -> dict[int, int]:
        """The partitions not yet read up to their target. Positions are asked only for
        partitions that look behind (a local call, no request): records keep arriving
        for partitions past their target while others catch up."""
        behind = {p: end for p, end in targets.items() if self._next.get(p, 0) < end}
        if behind:
            asked = [TopicPartition(OFFSETS_TOPIC, p) for p in behind]
            for tp in self._consumer.position(asked):
                if tp.offset >= 0:
                    self._next[tp.partition] = tp.offset
            behind = {p: end for p, end in behind.items() if self._next.get(p, 0) < end}
        return behind

    def _discover(self, deadline: float) -> bool:
        """Learn the partitions of the topic and assign them all from the beginning.
        False when the topic does not exist (yet)."""
        try:
            metadata = self._admin.list_topics(
                topic=OFFSETS_TOPIC, timeout=max(deadline - time.monotonic(), 0.1)
            )
        except KafkaException as error:
            raise _unavailable("metadata", error.args[0] if error.args else error) from None
        topic = metadata.topics.get(OFFSETS_TOPIC)
        if topic is None or topic.error is not None:
            error = topic.error if topic is not None else None
            if error is None or error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                return False
            raise _unavailable("metadata", error)
        if not topic.partitions:
            return False
        self._partitions = sorted(topic.partitions)
        # Offset 0 rather than OFFSET_BEGINNING: the logical offset costs an extra
        # ListOffsets round and ~0.5 s before the first fetch. Should the log start
        # later, auto.offset.reset=earliest moves the fetch there.
        self._consumer.assign([TopicPartition(OFFSETS_TOPIC, p, 0) for p in self._partitions])
        return True

    def _targets(self, deadline: float) -> dict[int, int]:
        """Last stable offset of every partition, and (in the same round trip) the high
        watermark, to tell which partitions hold records this reader cannot see yet."""
        timeout = max(deadline - time.monotonic(), 0.1)
        stable = self._list_offsets(IsolationLevel.READ_COMMITTED, timeout)
        high = self._list_offsets(IsolationLevel.READ_UNCOMMITTED, timeout)
        targets = self._offsets_of(stable)
        ends = self._offsets_of(high)
        self._hidden = frozenset(p for p, end in ends.items() if targets.get(p, end) < end)
        return targets

    def _list_offsets(self, isolation: IsolationLevel, timeout: float) -> dict:
        request = {TopicPartition(OFFSETS_TOPIC, p): OffsetSpec.latest() for p in self._partitions}
        try:
            return self._admin.list_offsets(
                request, isolation_level=isolation, request_timeout=timeout
            )
        except KafkaException as error:
            raise _unavailable("list offsets", error.args[0] if error.args else error) from None

    @staticmethod
    def _offsets_of(futures: dict[TopicPartition, Future]) -> dict[int, int]:
        out = {}
        for tp, future in futures.items():
            try:
                out[tp.partition] = future.result().offset
            except KafkaException as error:
                raise _unavailable("list offsets", error.args[0] if error.args else error) from None
        return out

    def hides_commits_of(self, group: str) -> bool:
        """True when commits of ``group`` may be past what the last ``catch_up`` could
        read: its partition of the topic had records beyond the last stable offset (an
        open transaction there, of any producer, hides every later record of that
        partition from a read_committed reader until it ends), or a partial
        ``catch_up`` did not read it up to its target yet. Ask the coordinator
        (OffsetFetch) for such a group. Also True for every group while the topic
        has not been found: a metadata answer can miss it (seen on a loaded broker),
        and "no commits" would then read as every group caught up (a false IDLE)."""
        if not self._partitions:
            return True
        if not self._hidden and not self._unread:
            return False
        partition = partition_for(group, len(self._partitions))
        return partition in self._hidden or partition in self._unread

    def _apply(self, batch: list[Any]) -> None:
        """Apply records in order; end-of-partition events record how far a partition
        has been read. A fetch error the topic's ACLs cause raises, after the whole
        batch is applied (the consumer has moved past all of it)."""
        known = self._known
        known_groups = self._known_groups
        records = 0
        refused: KafkaError | None = None
        try:
            for message in batch:
                key = message.key()
                if key is None:  # events carry no key; nor does a (malformed) keyless record
                    refused = self._event(message) or refused
                    continue
                records += 1
                try:
                    # Fast path, most records: a new offset for a key already materialised.
                    tp = known.get(key)
                    if tp is not None:
                        offset = decode_offset(message.value())
                        if offset is not None:
                            offsets, since = known_groups[_group_bytes(key)]
                            if offsets[tp] != offset:  # a re-commit keeps its first time
                                offsets[tp] = offset
                                _set_since(since, tp, message)
                            continue
                    self._apply_slow(key, message.value(), message)
                except MalformedRecord:
                    self._malformed += 1
        finally:
            self._records += records
        if refused is not None:
            raise _unavailable("fetch", refused)

    def _event(self, message: Any) -> KafkaError | None:
        """Handle a keyless message; return the error if it is permanent."""
        error = message.error()
        if error is None:
            self._records += 1
            self._malformed += 1
        elif error.code() == KafkaError._PARTITION_EOF:
            self._next[message.partition()] = message.offset()
        elif error.code() in _PERMANENT:
            return error
        # Anything else (transport, leader moves) librdkafka retries by itself.
        return None

    def _apply_slow(self, key: bytes, value: bytes | None, message: Any = None) -> None:
        """A record whose key is not materialised yet, or a tombstone; ``message``
        (None: no time known) carries the commit's time."""
        parts = decode_key(key)
        if parts is None:
            return  # group metadata, KIP-848 or share-group record
        group, topic, partition = parts
        keep = self._decisions.get(group)
        if keep is None:
            keep = self._decisions[group] = bool(self._wanted(group))
        if not keep:
            return
        offset = decode_offset(value)
        # Key versions 0 and 1 share a layout: index by the version-1 bytes, so one
        # (group, topic, partition) has one entry whichever version wrote it. A
        # version-0 key never matches the fast path and always comes here.
        canonical = key if key[1] == 1 else b"\x00\x01" + key[2:]
        # One (topic, partition) object for every group that commits it: 50 groups on
        # 2,000 partitions keep 2,000 tuples and 20 topic names, not 100,000 of each.
        tp = self._tps.setdefault((topic, partition), (topic, partition))
        offsets = self._offsets.get(group)
        if offset is None:  # tombstone
            if offsets is None or tp not in offsets:
                return
            del offsets[tp]
            self._since[group].pop(tp, None)
            self._known.pop(canonical, None)
            if offsets:
                self._bump(group)
            else:
                del self._offsets[group]
                del self._since[group]
                del self._layout[group]
                del self._known_groups[_group_bytes(canonical)]
            return
        if offsets is None:
            offsets = self._offsets[group] = {}
            self._since[group] = {}
            self._known_groups[_group_bytes(canonical)] = (offsets, self._since[group])
        since = self._since[group]
        if tp not in offsets:
            self._bump(group)
        if offsets.get(tp) != offset:
            _set_since(since, tp, message)
        offsets[tp] = offset
        self._known[canonical] = tp

    def _bump(self, group: str) -> None:
        # One clock for all groups: a group deleted and created again never gets a
        # version it had before.
        self._layout_clock += 1
        self._layout[group] = self._layout_clock

    # -- results -------------------------------------------------------------------

    def offsets(self, group: str) -> Mapping[TopicPart, int]:
        """Committed offset per (topic, partition) of a wanted group, as read so far.

        Empty for a group that is not wanted or has no commit. The mapping is a
        read-only view of live state: later ``catch_up`` calls change it; copy it
        (``dict(...)``) to keep a snapshot. Offsets are as committed, so a client's
        negative sentinel would show as such.
        """
        offsets = self._offsets.get(group)
        return _EMPTY if offsets is None else MappingProxyType(offsets)

    def since(self, group: str) -> Mapping[TopicPart, float]:
        """When each committed offset of ``group`` was committed first (epoch seconds,
        the commit record's time): the offset has not moved since. Compaction may have
        removed the first record of a re-committed offset, so this is the oldest one
        still in the log: never earlier than the truth. A partition whose record carried
        no time is absent. A read-only view of live state, like ``offsets``."""
        since = self._since.get(group)
        return _EMPTY_SINCE if since is None else MappingProxyType(since)

    def groups(self) -> frozenset[str]:
        """Wanted groups with at least one committed offset."""
        return frozenset(self._offsets)

    def layout_version(self, group: str) -> int:
        """Changes whenever a (topic, partition) is added to or removed from the group's
        offsets; stays put while only offset values move. 0 for a group without
        offsets; never repeats a value for a given group."""
        return self._layout.get(group, 0)

    @property
    def records_parsed(self) -> int:
        """Records read from the topic so far (every type, every group)."""
        return self._records

    @property
    def malformed_skipped(self) -> int:
        """Records skipped because their bytes did not follow the schema."""
        return self._malformed

    def close(self) -> None:
        """Leave the topic; no other call is allowed afterwards."""
        self._consumer.close()


def _group_bytes(key: bytes) -> bytes:
    """The group's name as a version-1 commit key holds it (after the version and the
    name's length, two bytes each)."""
    return key[4 : 4 + (key[2] << 8 | key[3])]


def _set_since(since: dict[TopicPart, float], tp: TopicPart, message: Any) -> None:
    """Record when the offset of ``tp`` changed: its commit record's timestamp."""
    kind, millis = message.timestamp() if message is not None else (0, -1)
    if kind != 0 and millis >= 0:  # 0: TIMESTAMP_NOT_AVAILABLE
        since[tp] = millis / 1000.0
    else:
        since.pop(tp, None)


def _unavailable(action: str, error: object) -> OffsetsLogUnavailable:
    code = error.code() if isinstance(error, KafkaError) else None
    text = error_text(KafkaException(error)) if isinstance(error, KafkaError) else str(error)
    return OffsetsLogUnavailable(f"{OFFSETS_TOPIC} {action}: {text}", code in _PERMANENT)


def partition_for(group: str, partitions: int) -> int:
    """The ``__consumer_offsets`` partition of ``group``, as the broker picks it:
    ``abs(group.hashCode()) % partitions`` with Java's ``String.hashCode`` over UTF-16
    code units, and Kafka's ``Utils.abs`` (``Integer.MIN_VALUE`` maps to 0)."""
    h = 0
    units = group.encode("utf-16-be")
    for i in range(0, len(units), 2):
        h = (31 * h + (units[i] << 8 | units[i + 1])) & 0xFFFFFFFF
    if h & 0x80000000:
        h -= 1 << 32
    return (0 if h == -(1 << 31) else abs(h)) % partitions
