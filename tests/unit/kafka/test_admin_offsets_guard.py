"""OffsetFetch only for groups whose coordinator just answered DescribeGroups
(librdkafka crashes the process on a NOT_COORDINATOR answer to the Admin API's
ListConsumerGroupOffsets: librdkafka#5040). A fake AdminClient: pure adapter logic."""

from __future__ import annotations

from concurrent.futures import Future
from types import SimpleNamespace

from confluent_kafka import KafkaError, KafkaException, TopicPartition

from collectors.core.model import GroupDescription
from collectors.kafka.admin import KafkaOffsetsSource


def done(value=None, error: KafkaException | None = None) -> Future:
    future: Future = Future()
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
    return future


class FakeAdmin:
    """Describes every group but ``loading`` (NOT_COORDINATOR); records OffsetFetches."""

    def __init__(self) -> None:
        self.offsets_asked: list[str] = []

    def describe_consumer_groups(self, groups, request_timeout=None):
        out = {}
        for g in groups:
            if g == "loading":
                out[g] = done(error=KafkaException(KafkaError(KafkaError.NOT_COORDINATOR)))
            else:
                out[g] = done(SimpleNamespace(members=[], state=None))
        return out

    def list_consumer_group_offsets(self, requests, request_timeout=None):
        (request,) = requests
        self.offsets_asked.append(request.group_id)
        result = SimpleNamespace(topic_partitions=[TopicPartition("t", 0, 42)])
        return {request.group_id: done(result)}


def source() -> tuple[KafkaOffsetsSource, FakeAdmin]:
    src = KafkaOffsetsSource({"bootstrap.servers": "127.0.0.1:1"})
    fake = FakeAdmin()
    src._admin = src._extra = fake  # the adapter's clients (the second: OffsetFetch)
    return src, fake


def test_a_group_whose_coordinator_did_not_answer_is_not_asked_for_offsets():
    src, fake = source()
    descriptions, committed = src.describe_and_fetch_offsets(["ready", "loading"])
    assert fake.offsets_asked == ["ready"]
    assert isinstance(descriptions["ready"], GroupDescription)
    assert committed["ready"].offsets == {("t", 0): 42} and committed["ready"].error is None
    # unreadable this cycle, saying why (the describe error names the code)
    assert committed["loading"].offsets == {}
    assert "offsets not asked" in committed["loading"].error
    assert "NOT_COORDINATOR" in committed["loading"].error


def test_groups_the_log_answered_are_not_asked_and_the_rest_follow_the_guard():
    src, fake = source()
    from_log = {"ready": None}  # placeholder value: only the keys matter here

    def log(groups):
        return {g: from_log[g] for g in groups if g in from_log}

    _, committed = src.describe_and_fetch_offsets(["ready", "other", "loading"], log)
    # First cycle: every described group is asked while the log is read (a cold log
    # answers few); the log's answer wins for "ready".
    assert sorted(fake.offsets_asked) == ["other", "ready"]
    assert committed["ready"] is None and committed["other"].offsets == {("t", 0): 42}
    assert "offsets not asked" in committed["loading"].error
    # Next cycles: only the groups the log left out last time are asked early ("other"
    # in the first, "ready" in the second), and a group the log stops answering is
    # still asked, after it ("ready" in the first).
    del from_log["ready"]
    from_log["other"] = None
    for asked in (["other", "ready"], ["ready"]):
        fake.offsets_asked.clear()
        _, committed = src.describe_and_fetch_offsets(["ready", "other", "loading"], log)
        assert fake.offsets_asked == asked
        assert committed["ready"].offsets == {("t", 0): 42} and committed["other"] is None
        assert "offsets not asked" in committed["loading"].error


def test_without_the_log_every_described_group_is_asked_each_cycle():
    src, fake = source()
    for _ in range(2):
        _, committed = src.describe_and_fetch_offsets(["ready", "other"], lambda groups: None)
        assert committed["ready"].offsets == {("t", 0): 42}
    assert sorted(fake.offsets_asked) == ["other", "other", "ready", "ready"]


def test_offset_fetches_are_spread_over_two_clients_made_on_first_need():
    src = KafkaOffsetsSource({"bootstrap.servers": "127.0.0.1:1"})
    first, second = FakeAdmin(), FakeAdmin()
    src._admin = first
    src._offset_futures(["only"])  # one group: one client, no second made
    assert src._extra is None and first.offsets_asked == ["only"]
    src._extra = second  # as made on first need (a real one would reach no broker here)
    committed = src.committed_offsets(["a", "b", "c", "d"])
    assert first.offsets_asked == ["only", "a", "c"] and second.offsets_asked == ["b", "d"]
    assert all(committed[g].offsets == {("t", 0): 42} for g in "abcd")
