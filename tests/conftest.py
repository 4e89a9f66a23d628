"""Shared fixtures: a real Kafka broker for the session, fresh names per test, and
topic creation on it (integration and e2e tests)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

_SERVICES = Path(__file__).parent
_NEEDS_SERVICES = (_SERVICES / "integration", _SERVICES / "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/integration and tests/e2e is marked ``integration``.

    A ``pytestmark`` in a conftest.py applies to nothing, so the mark is given here;
    ``pytest -m "not integration"`` then runs the unit tests alone, without a broker.
    """
    for item in items:
        path = Path(str(item.fspath))
        if any(root in path.parents for root in _NEEDS_SERVICES):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of a real broker.

    Uses ``LAGWATCH_BOOTSTRAP`` when set; otherwise starts a single-node KRaft broker
    on a free port through the project's own launcher and stops it at the end.
    """
    if env := os.environ.get("LAGWATCH_BOOTSTRAP"):
        yield env
        return
    from collectors.devtools import kafka_local

    port = kafka_local.free_port()
    data_dir: Path = tmp_path_factory.mktemp("kafka")
    state, _ = kafka_local.start(port, data_dir, timeout_s=120)
    try:
        yield state.bootstrap
    finally:
        kafka_local.stop(port, data_dir)


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Factory of fresh names: ``unique_name("topic")`` -> ``t-<test>-topic-<hex>``."""
    stem = "".join(ch if ch.isalnum() else "-" for ch in request.node.name)[:40]

    def make(kind: str) -> str:
        return f"t-{stem}-{kind}-{uuid.uuid4().hex[:8]}"

    return make


@pytest.fixture
def topic_name(unique_name: Callable[[str], str]) -> Callable[[], str]:
    return lambda: unique_name("topic")


@pytest.fixture
def group_name(unique_name: Callable[[str], str]) -> Callable[[], str]:
    return lambda: unique_name("group")


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
