from pathlib import Path

import pytest

from collectors.devtools import kafka_local


@pytest.mark.parametrize(
    ("text", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_392"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ("garbage", None),
    ],
)
def test_parse_java_version(text: str, major: int | None) -> None:
    assert kafka_local.parse_java_version(text) == major


def test_server_properties_bind_loopback_and_single_node_replication() -> None:
    props = kafka_local.server_properties(9092, 9093, Path("/x"))
    assert "listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093" in props
    assert "offsets.topic.replication.factor=1" in props
    assert "transaction.state.log.min.isr=1" in props


def test_cluster_ids_never_start_with_a_dash(monkeypatch) -> None:
    """The storage tool reads "-…" as an option; such ids must be skipped."""
    import uuid

    dashed = uuid.UUID(bytes=b"\xfb" + bytes(15))  # base64 of 0xfb... starts with "-"
    fresh = iter([dashed, uuid.UUID(int=1)])
    monkeypatch.setattr(kafka_local.uuid, "uuid4", lambda: next(fresh))
    cluster_id = kafka_local._cluster_id()
    assert not cluster_id.startswith("-")
    assert len(cluster_id) == 22
