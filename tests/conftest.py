"""Shared fixtures: a real Kafka broker for the session, fresh names per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of a real broker.

    Uses ``LAGWATCH_BOOTSTRAP`` when set; otherwise starts a single-node KRaft broker
    on a free port through the project's own launcher and stops it at the end.
    """
    if env := os.environ.get("LAGWATCH_BOOTSTRAP"):
        yield env
        return
    from collectors import kafka_local

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
