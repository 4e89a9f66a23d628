"""Adapter: read consumer groups, committed offsets and watermarks from Kafka.

Every edge case of the brief's definitions comes back as a value, never an exception:
a group that never committed has ``committed=None``; a partition whose watermarks
cannot be read has ``log_start=None``/``log_end=None`` plus an error string per
partition. Admin calls return one future per group or partition, so one bad
partition never fails a whole cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future

from confluent_kafka import (
    ConsumerGroupTopicPartitions,
    IsolationLevel,
    KafkaError,
    KafkaException,
    TopicPartition,
    cimpl,
)
from confluent_kafka.admin import AdminClient, OffsetSpec

from collectors.core.model import (
    CommittedOffsets,
    GroupDescription,
    GroupListing,
    TopicPart,
    Watermarks,
)
from collectors.kafka.errors import error_text
from collectors.kafka.topic_parts import TopicParts


class ClusterUnavailable(RuntimeError):
    """The cluster could not be asked at all (e.g. every broker is down)."""


def _state_name(state: object) -> str:
    name = getattr(state, "name", None) or str(state or "UNKNOWN")
    return name.upper()


class KafkaOffsetsSource:
    """Thin wrapper over confluent-kafka's AdminClient.

    ``config`` is a librdkafka config (``bootstrap.servers`` plus any SASL/SSL
    settings); it is passed through unchanged and never logged.
    """

    def __init__(self, config: Mapping[str, object], request_timeout_s: float = 10.0) -> None:
        # librdkafka logs every refused connection; outages surface as values instead.
        self._config = config
        self._admin = AdminClient({"log_level": 2, **config})
        # A second client for OffsetFetch, made on first need (see _offset_futures).
        self._extra: AdminClient | None = None
        self._timeout = request_timeout_s
        # Groups whose offsets the log answered last cycle (see describe_and_fetch_offsets).
        self._log_answered: set[str] = set()
        # ListOffsets request lists by (offset spec, partitions): the same chunks are
        # asked every cycle, and building 4,000 TopicPartitions a cycle cost ~6 ms.
        self._requests: dict[tuple[int, tuple[TopicPart, ...]], list[TopicPartition]] = {}
        # Shared (topic, partition) keys of committed offsets (see topic_parts).
        self._keys = TopicParts()

    def list_groups(self) -> list[GroupListing]:
        """All consumer groups the broker knows (classic and consumer protocol).

        Raises ClusterUnavailable when the listing failed: librdkafka reports that as
        an empty result with errors, which must not read as "no groups".
        """
        try:
            result = self._admin.list_consumer_groups(request_timeout=self._timeout).result()
        except KafkaException as error:
            raise ClusterUnavailable(error_text(error)) from None
        if result.errors:
            raise ClusterUnavailable(
                "listing consumer groups failed: "
                + "; ".join(error_text(KafkaException(e)) for e in result.errors[:3])
            )
        return sorted(
            (
                GroupListing(g.group_id, _state_name(g.state), bool(g.is_simple_consumer_group))
                for g in result.valid
            ),
            key=lambda g: g.group,
        )

    def describe_groups(self, groups: Iterable[str]) -> dict[str, GroupDescription | str]:
        """Group state, member count and assignment; an error string for a failed group."""
        return self._descriptions(self._describe_futures(list(groups)))

    def committed_offsets(self, groups: Iterable[str]) -> dict[str, CommittedOffsets]:
        """Committed offsets of every partition each group has committed for.

        Requests run concurrently (the Admin API takes one group per request).
        A partition the group knows but never committed maps to None.
        """
        return self._committed(self._offset_futures(groups))

    def describe_and_fetch_offsets(
        self,
        groups: Iterable[str],
        from_log: Callable[[list[str]], dict[str, CommittedOffsets] | None] | None = None,
    ) -> tuple[dict[str, GroupDescription | str], dict[str, CommittedOffsets]]:
        """``describe_groups`` and committed offsets together.

        ``from_log`` (e.g. ``CommittedOffsetsFromLog.fetch``) supplies the committed
        offsets when given and not answering None; groups it leaves out, and all groups
        otherwise, are asked with OffsetFetch (``committed_offsets``), only once their
        coordinator has answered DescribeGroups (``_fetch_when_described``). Groups the
        log left out last cycle are asked while it is read; an answer for a group the
        log then does answer is dropped (the log's is as new and carries the commit
        time).
        """
        groups = list(groups)
        descriptions = self._descriptions(self._describe_futures(groups))
        if from_log is None:
            return descriptions, self._fetch_when_described(groups, descriptions)
        # The groups the log left out last cycle (every group at a cold start) are
        # asked before the log is read: librdkafka parses OffsetFetch answers on its
        # own thread (about 1 s of CPU per 100,000 group-partitions) while this one
        # reads the log, so a cold cycle pays the longer of the two, not their sum.
        early = self._offset_futures(
            g
            for g in groups
            if g not in self._log_answered and isinstance(descriptions.get(g), GroupDescription)
        )
        committed = from_log(groups) or {}
        self._log_answered = set(committed)
        missing = [g for g in groups if g not in committed]
        committed.update(self._committed({g: early[g] for g in missing if g in early}))
        later = [g for g in missing if g not in early]
        if later:
            committed.update(self._fetch_when_described(later, descriptions))
        return descriptions, committed

    def _fetch_when_described(
        self, groups: list[str], descriptions: Mapping[str, GroupDescription | str]
    ) -> dict[str, CommittedOffsets]:
        """OffsetFetch for the groups whose coordinator just answered DescribeGroups;
        the others are unreadable this cycle, with the describe error as the reason.

        Why: librdkafka (up to 2.16 at least, librdkafka#5040) crashes the whole process
        when an Admin ListConsumerGroupOffsets answer carries NOT_COORDINATOR, which is
        what a coordinator says while it moves or loads, e.g. right after a broker
        restart. A coordinator that has just described the group is up and has it
        loaded, which narrows that window to a coordinator moving between the two
        requests of one cycle.
        """
        ready = [g for g in groups if isinstance(descriptions.get(g), GroupDescription)]
        out = self._committed(self._offset_futures(ready))
        for group in groups:
            if group not in out:
                reason = descriptions.get(group) or "not described"
                out[group] = CommittedOffsets(
                    group, {}, f"offsets not asked: the group's coordinator did not "
                    f"answer DescribeGroups: {reason}"
                )  # fmt: skip
        return out

    def _describe_futures(self, groups: list[str]) -> dict[str, Future]:
        if not groups:
            return {}
        return self._admin.describe_consumer_groups(groups, request_timeout=self._timeout)

    def _descriptions(self, futures: dict[str, Future]) -> dict[str, GroupDescription | str]:
        out: dict[str, GroupDescription | str] = {}
        for group, future in futures.items():
            try:
                desc = future.result()
            except KafkaException as error:
                out[group] = str(error.args[0] if error.args else error)
                continue
            assigned = frozenset(
                (tp.topic, tp.partition)
                for member in desc.members
                for tp in (member.assignment.topic_partitions if member.assignment else [])
            )
            out[group] = GroupDescription(
                group, _state_name(desc.state), len(desc.members), assigned
            )
        return out

    def _offset_futures(self, groups: Iterable[str]) -> dict[str, Future]:
        """OffsetFetch futures, the groups spread over two clients when there are
        several: librdkafka parses each client's answers on that client's one thread
        (about 1 s of CPU per 100,000 group-partitions), so two parse side by side (50
        groups x 2,000 partitions: 0.9-1.0 s -> 0.5-0.7 s of wall clock). The second
        client is made only when first needed: with the log answering, never."""
        groups = list(groups)
        clients = [self._admin]
        if len(groups) > 1:
            if self._extra is None:
                self._extra = AdminClient({"log_level": 2, **self._config})
            clients.append(self._extra)
        futures = {}
        for i, group in enumerate(groups):
            futures.update(
                clients[i % len(clients)].list_consumer_group_offsets(
                    [ConsumerGroupTopicPartitions(group)], request_timeout=self._timeout
                )
            )
        return futures

    def _committed(self, futures: dict[str, Future]) -> dict[str, CommittedOffsets]:
        out: dict[str, CommittedOffsets] = {}
        for group, future in futures.items():
            try:
                result = future.result()
            except KafkaException as error:
                out[group] = CommittedOffsets(group, {}, error_text(error))
                continue
            offsets: dict[TopicPart, int | None] = {}
            share = self._keys.sharer()
            for tp in result.topic_partitions or []:
                offset = tp.offset
                key = (tp.topic, tp.partition)
                offsets[share(key, key)] = offset if offset >= 0 else None
            out[group] = CommittedOffsets(group, offsets)
        return out

    def committed_for(self, group: str, partitions: Iterable[TopicPart]) -> CommittedOffsets:
        """Committed offsets of a group for the given partitions (None = no commit)."""
        request = ConsumerGroupTopicPartitions(group, [TopicPartition(t, p) for t, p in partitions])
        future = self._admin.list_consumer_group_offsets([request], request_timeout=self._timeout)[
            group
        ]
        try:
            result = future.result()
        except KafkaException as error:
            return CommittedOffsets(group, {}, error_text(error))
        share = self._keys.sharer()
        offsets: dict[TopicPart, int | None] = {}
        for tp in result.topic_partitions or []:
            key = (tp.topic, tp.partition)
            offsets[share(key, key)] = tp.offset if tp.offset >= 0 else None
        return CommittedOffsets(group, offsets)

    def topic_partitions(self, topics: Iterable[str] | None = None) -> dict[str, list[int]]:
        """Partition ids per topic (all topics when ``topics`` is None)."""
        metadata = self._admin.list_topics(timeout=self._timeout)
        wanted = set(topics) if topics is not None else None
        return {
            name: sorted(t.partitions)
            for name, t in metadata.topics.items()
            if (wanted is None or name in wanted) and t.error is None
        }

    def watermarks(
        self, partitions: Iterable[TopicPart], read_committed: bool = False
    ) -> dict[TopicPart, Watermarks]:
        """Log start and end per partition, batched (librdkafka sends one ListOffsets
        per partition leader). With ``read_committed`` the end is the last stable offset.
        Asked anew at every call, never cached: a DeleteRecords or a retention step
        shows at the next call.
        """
        parts = list(dict.fromkeys(partitions))
        if not parts:
            return {}
        isolation = (
            IsolationLevel.READ_COMMITTED if read_committed else IsolationLevel.READ_UNCOMMITTED
        )
        # Every request goes out before any answer is awaited, in chunks: librdkafka's
        # cost per request grows faster than its partitions (2 x 2,000 partitions: 84
        # ms of CPU in one request each, 37 ms in chunks of 250).
        chunks = [
            parts[i : i + LIST_OFFSETS_CHUNK] for i in range(0, len(parts), LIST_OFFSETS_CHUNK)
        ]
        latest = [(c, self._request_offsets(c, OffsetSpec.latest(), isolation)) for c in chunks]
        earliest = [(c, self._request_offsets(c, OffsetSpec.earliest(), isolation)) for c in chunks]
        ends = {k: v for c, answer in latest for k, v in self._offsets(c, answer).items()}
        starts = {k: v for c, answer in earliest for k, v in self._offsets(c, answer).items()}
        out = {}
        for tp in parts:
            start, start_err = starts[tp]
            end, end_err = ends[tp]
            out[tp] = Watermarks(start, end, end_err or start_err)
        return out

    def _request_offsets(
        self, parts: list[TopicPart], spec: OffsetSpec, isolation: IsolationLevel
    ) -> Future | str:
        """One future for the ListOffsets answer of every partition in ``parts``, or the
        error text if the request failed at once.

        Why not ``AdminClient.list_offsets``: its Python wrapper makes one future per
        partition and sets each from librdkafka's background thread (a Condition, a
        lock and a callback each): at 2,000 partitions, asked twice a cycle, that was
        ~40% of the call's CPU (measured 124 vs 73 ms per watermarks call). The
        wrapper hands librdkafka a single request-level future whose result maps each
        TopicPartition to its answer or KafkaError; this takes that future directly.
        Where the C method is missing (another confluent-kafka), the public call is
        used and its per-partition futures are gathered into the same mapping.
        """
        global _LIST_OFFSETS
        future: Future = Future()
        future.set_running_or_notify_cancel()
        try:
            if _LIST_OFFSETS is not None:
                try:
                    request = self._request_list(parts, spec._value)
                    _LIST_OFFSETS(
                        self._admin,
                        request,
                        future,
                        isolation_level_value=isolation.value,
                        request_timeout=self._timeout,
                    )
                    return future
                except (TypeError, AttributeError):
                    # A confluent-kafka whose internals differ: the public call from now on.
                    _LIST_OFFSETS = None
            if _LIST_OFFSETS is None:
                futures = self._admin.list_offsets(
                    {TopicPartition(t, p): spec for t, p in parts},
                    isolation_level=isolation,
                    request_timeout=self._timeout,
                )
                future.set_result(_gathered(futures))
        except KafkaException as error:
            return error_text(error)
        return future

    def _request_list(self, parts: list[TopicPart], spec: int) -> list[TopicPartition]:
        """The TopicPartitions of one request (librdkafka only reads them), built once
        per (spec, partitions); the cache is emptied when the partitions change so
        much that it would hold more than ``_MAX_REQUEST_LISTS``."""
        key = (spec, tuple(parts))
        request = self._requests.get(key)
        if request is None:
            if len(self._requests) >= _MAX_REQUEST_LISTS:
                self._requests.clear()
            request = self._requests[key] = [TopicPartition(t, p, spec) for t, p in parts]
        return request

    @staticmethod
    def _offsets(
        parts: list[TopicPart], answer: Future | str
    ) -> dict[TopicPart, tuple[int | None, str | None]]:
        """(offset or None, error text or None) per partition of ``parts``; a failed
        request gives its error to every partition, a missing answer says so."""
        if isinstance(answer, str):
            return {tp: (None, answer) for tp in parts}
        try:
            results = answer.result()
        except KafkaException as error:
            text = error_text(error)
            return {tp: (None, text) for tp in parts}
        out: dict[TopicPart, tuple[int | None, str | None]] = {}
        for tp, value in results.items():
            key = (tp.topic, tp.partition)
            if isinstance(value, KafkaError):
                out[key] = (None, error_text(KafkaException(value)))
            else:
                offset = value.offset
                out[key] = (offset if offset >= 0 else None, None)
        for tp in parts:
            out.setdefault(tp, (None, "no answer for partition"))
        return out


# Partitions per ListOffsets request (see ``watermarks``).
LIST_OFFSETS_CHUNK = 250
# Cached request lists (see ``_request_list``): 2 specs x 2 isolations x chunks.
_MAX_REQUEST_LISTS = 256

# librdkafka's ListOffsets with one request-level future (see ``_request_offsets``).
_LIST_OFFSETS = getattr(getattr(cimpl, "_AdminClientImpl", None), "list_offsets", None)


def _gathered(futures: Mapping[TopicPartition, Future]) -> dict[TopicPartition, object]:
    """Per-partition futures as the request-level answer: the result or the KafkaError."""
    out: dict[TopicPartition, object] = {}
    for tp, future in futures.items():
        try:
            out[tp] = future.result()
        except KafkaException as error:
            out[tp] = error.args[0] if error.args else KafkaError(KafkaError._FAIL)
    return out
