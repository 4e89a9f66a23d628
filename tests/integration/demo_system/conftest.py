"""Fixtures: a demo stack per test (or per module) with fresh names on the real broker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from demo_stack_helpers import DemoStack, SupervisedDemo

pytestmark = pytest.mark.integration


def _make_stack(bootstrap: str, data_dir: Path, stem: str) -> DemoStack:
    prefix = f"t-{stem}-{uuid.uuid4().hex[:8]}-"
    return DemoStack(bootstrap, data_dir, prefix)


@pytest.fixture
def demo_stack(kafka_bootstrap: str, tmp_path: Path) -> Iterator[DemoStack]:
    """A fresh, not yet started stack (call ``start_all()``), stopped after the test."""
    stack = _make_stack(kafka_bootstrap, tmp_path, "demo")
    try:
        yield stack
    finally:
        stack.stop_all()


@pytest.fixture(scope="module")
def shared_stack(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoStack]:
    """One running stack for a module of short tests that tolerate each other."""
    stack = _make_stack(kafka_bootstrap, tmp_path_factory.mktemp("demo"), "shared")
    try:
        yield stack.start_all()
    finally:
        stack.stop_all()


@pytest.fixture
def supervised(kafka_bootstrap: str, tmp_path: Path) -> Iterator[SupervisedDemo]:
    """A fresh demo under ``demo up`` with its control API, started; stopped after."""
    stack = SupervisedDemo(kafka_bootstrap, tmp_path, f"t-sup-{uuid.uuid4().hex[:8]}-")
    try:
        yield stack.start_all()
    finally:
        stack.stop_all()
