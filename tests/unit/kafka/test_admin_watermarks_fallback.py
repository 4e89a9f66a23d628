"""Watermarks take librdkafka's request-level ListOffsets answer directly; where the
confluent-kafka internals differ (another version), the public per-partition call
answers the same mapping from then on. A fake AdminClient: pure adapter logic."""

from __future__ import annotations

from concurrent.futures import Future
from types import SimpleNamespace

from confluent_kafka import TopicPartition

from collectors.kafka import admin
from collectors.kafka.admin import KafkaOffsetsSource


class PublicOnly:
    """Answers ``list_offsets`` the public way: one future per partition."""

    def __init__(self) -> None:
        self.calls = 0

    def list_offsets(self, request, isolation_level=None, request_timeout=None):
        self.calls += 1
        out = {}
        for tp, spec in request.items():
            future: Future = Future()
            # earliest 3, latest 10 + partition: distinguishable answers
            latest = spec._value == admin.OffsetSpec.latest()._value
            future.set_result(SimpleNamespace(offset=10 + tp.partition if latest else 3))
            out[TopicPartition(tp.topic, tp.partition)] = future
        return out


def test_changed_internals_fall_back_to_the_public_call_with_the_same_answer(monkeypatch):
    def changed_signature(*args, **kwargs):
        raise TypeError("list_offsets() got an unexpected keyword argument")

    monkeypatch.setattr(admin, "_LIST_OFFSETS", changed_signature)
    src = KafkaOffsetsSource({"bootstrap.servers": "127.0.0.1:1"})
    fake = PublicOnly()
    src._admin = fake
    marks = src.watermarks([("t", 0), ("t", 1)])
    assert {tp: (m.log_start, m.log_end) for tp, m in marks.items()} == {
        ("t", 0): (3, 10),
        ("t", 1): (3, 11),
    }
    assert admin._LIST_OFFSETS is None  # decided once: no TypeError per cycle
    assert fake.calls == 2  # earliest and latest
