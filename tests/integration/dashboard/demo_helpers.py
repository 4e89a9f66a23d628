"""The supervised demo (``demo_system.cli up`` with its control API) for dashboard tests,
and a collector config that watches its pipeline. Skips cleanly when this checkout's
demo has no control API yet."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest


def supervised_demo(bootstrap: str, data_dir: Path):
    """A started SupervisedDemo (tests/integration/demo_system), or a skip with the reason."""
    try:
        import demo_system.control_api  # noqa: F401
        from tests.integration.demo_system.demo_stack_helpers import SupervisedDemo
    except ImportError as error:
        pytest.skip(f"the demo control API is not in this checkout yet ({error})")
    demo = SupervisedDemo(bootstrap, data_dir, f"t-dashdemo-{uuid.uuid4().hex[:8]}-")
    try:
        demo.start_all()
    except Exception:
        demo.stop_all()
        raise
    return demo


def demo_collector_config(prefix: str) -> str:
    return f"""
[collector]
interval_s = 0.5

[[clusters]]
name = "local"
include = ["{prefix}.*"]
read_committed_groups = ["{prefix}bank-balances", "{prefix}bank-activity"]

[[pipelines]]
name = "bank"
cluster = "local"
commands_topic = "{prefix}bank.commands"
handler_group = "{prefix}bank-command-handler"
events_topic = "{prefix}bank.events"
projection_groups = ["{prefix}bank-balances", "{prefix}bank-activity"]
"""
