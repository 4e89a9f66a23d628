"""Integration helpers: topic creation and producing against the real broker."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def admin(kafka_bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": kafka_bootstrap})


@pytest.fixture
def create_topic(admin: AdminClient, topic_name: Callable[[], str]) -> Callable[..., str]:
    """Create a fresh topic and wait until it exists; returns its name."""

    def create(partitions: int = 1, config: dict[str, str] | None = None) -> str:
        name = topic_name()
        futures = admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})]
        )
        futures[name].result(timeout=30)
        return name

    return create
