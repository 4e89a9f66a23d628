"""The two long demo tests: convergence under load, and SIGKILL at random moments.

Both end with ``GET /audit``: each read model equals a replay of ``bank.events`` up to
its checkpoint, with no event lost and none applied twice.
"""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
from confluent_kafka import Consumer, TopicPartition
from demo_stack_helpers import DemoStack, wait_until

from demo_system import domain
from demo_system.load import run_load
from demo_system.topics import PROJECTIONS, read_all_records

pytestmark = pytest.mark.integration


def write_model(stack: DemoStack) -> dict[str, int]:
    """The handler's truth: its balances rebuilt from the event log, as it does itself."""
    events = []
    for record in read_all_records(stack.bootstrap, stack.names.events):
        try:
            events.append(domain.parse_event(record.value()))
        except domain.MalformedEvent:
            continue
    return domain.replay(events)


def assert_converged(stack: DemoStack, command_ids: list[str]) -> None:
    stack.wait_visible(command_ids, timeout=90)
    audit = stack.wait_caught_up(timeout=60)
    assert audit["ok"], audit
    for result in audit["read_models"].values():
        assert result["behind"] == 0 and result["differences"] == 0
        assert result["applied"] == result["expected_applied"] == audit["events_in_log"]
    balances = stack.query.get("/balances", params={"limit": 100_000}).json()["balances"]
    assert balances == write_model(stack)


def test_read_models_converge_under_200_commands_per_second(demo_stack: DemoStack) -> None:
    demo_stack.start_all()
    api = str(demo_stack.api.base_url)
    result = run_load(api, rate=200, duration_s=30, accounts=50, seed=7)
    assert result.failed_requests == 0
    assert result.sent >= 200 * 30 * 0.95
    assert_converged(demo_stack, result.command_ids)
    statuses = demo_stack.statuses(result.command_ids)
    assert set(statuses.values()) == {"applied", "rejected"}  # the mix includes bad ones
    # the offsets committed to Kafka (what lagwatch sees) catch up with the databases
    for projection in PROJECTIONS:
        checkpoints = demo_stack.snapshot(projection).checkpoints
        wait_until(lambda p=projection, c=checkpoints: committed(demo_stack, p) == c, 30,
                   f"{projection} offsets committed to Kafka")  # fmt: skip


def committed(stack: DemoStack, projection: str) -> dict[int, int]:
    consumer = Consumer(
        {"bootstrap.servers": stack.bootstrap, "group.id": stack.names.projection_group(projection)}
    )
    try:
        partitions = [TopicPartition(stack.names.events, p) for p in range(4)]
        return {tp.partition: tp.offset for tp in consumer.committed(partitions, timeout=10)
                if tp.offset >= 0}  # fmt: skip
    finally:
        consumer.close()


def test_projection_sigkilled_ten_times_during_load_loses_and_repeats_nothing(
    demo_stack: DemoStack,
) -> None:
    demo_stack.start_all()
    stop = threading.Event()
    results = []
    load = threading.Thread(
        target=lambda: results.append(
            run_load(str(demo_stack.api.base_url), 200, 120, accounts=50, seed=11, stop=stop)
        )
    )
    load.start()
    rng = random.Random(5)
    try:
        for _ in range(10):
            before = demo_stack.snapshot("balances").applied
            # kill only once the (re)started projection is applying, at a random moment
            wait_until(lambda b=before: demo_stack.snapshot("balances").applied > b + 20, 60,
                       "projection applying")  # fmt: skip
            threading.Event().wait(rng.uniform(0.0, 0.5))
            assert demo_stack.processes["projection-balances"].poll() is None
            demo_stack.kill("projection-balances")
            demo_stack.start("projection-balances")
    finally:
        stop.set()
        load.join(30)
    (result,) = results
    assert result.failed_requests == 0
    assert_converged(demo_stack, result.command_ids)


def test_command_handler_sigkilled_mid_load_handles_every_command_once(
    demo_stack: DemoStack,
) -> None:
    demo_stack.start_all()
    stop = threading.Event()
    results = []
    load = threading.Thread(
        target=lambda: results.append(
            run_load(str(demo_stack.api.base_url), 200, 60, accounts=20, seed=3, stop=stop)
        )
    )
    load.start()
    try:
        for _ in range(3):
            before = demo_stack.snapshot("balances").applied
            wait_until(lambda b=before: demo_stack.snapshot("balances").applied > b + 50, 60,
                       "handler producing events")  # fmt: skip
            demo_stack.kill("command-handler")
            demo_stack.start("command-handler")
    finally:
        stop.set()
        load.join(30)
    (result,) = results
    assert_converged(demo_stack, result.command_ids)
    events = [
        domain.parse_event(r.value())
        for r in read_all_records(demo_stack.bootstrap, demo_stack.names.events)
    ]
    steps = [(e["command_id"], e["type"]) for e in events]
    assert len(steps) == len(set(steps))  # no saga step handled twice
    follow_ups = {"transfer_credited", "transfer_failed", "transfer_refunded"}
    first = Counter(e["command_id"] for e in events if e["type"] not in follow_ups)
    assert set(first) == set(result.command_ids)  # every command handled ...
    assert set(first.values()) == {1}  # ... exactly once
