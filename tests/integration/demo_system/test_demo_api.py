"""Short end-to-end checks on one shared demo stack: commands, statuses, faults."""

from __future__ import annotations

import json
import uuid

import pytest
from confluent_kafka import Consumer, Producer
from demo_stack_helpers import DemoStack, wait_until

from demo_system import faults
from demo_system.topics import read_all_records

pytestmark = pytest.mark.integration


def new_account(stack: DemoStack, balance: int = 1000) -> str:
    account = f"acct-{uuid.uuid4().hex[:8]}"
    ids = stack.send(
        {"type": "open_account", "account_id": account, "owner": "Ada"},
        {"type": "deposit", "account_id": account, "amount": balance},
    )
    stack.wait_visible(ids)
    return account


def set_balances_control(stack: DemoStack, **settings: object) -> None:
    """Set a fault on the balances projection and wait until it is in effect."""
    process = faults.process_name("balances")
    faults.set_control(stack.data_dir, process, **settings)
    assert faults.wait_acknowledged(stack.data_dir, process, timeout_s=30)


def status(stack: DemoStack, command_id: str) -> dict:
    response = stack.query.get(f"/commands/{command_id}")
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "deposit", "account_id": "a", "amount": "ten"}, "amount"),
        ({"type": "deposit", "amount": 5}, "account_id"),
        ({"type": "withdraw", "account_id": "a", "amount": 1.5}, "amount"),
        ({"type": "transfer", "account_id": "a", "amount": 5}, "to_account_id"),
        ({"type": "steal", "account_id": "a"}, "type"),
        ({"type": "open_account", "account_id": "has space"}, "account_id"),
    ],
)
def test_malformed_commands_get_422_naming_the_field(
    shared_stack: DemoStack, body: dict, field: str
) -> None:
    response = shared_stack.api.post("/commands", json=body)
    assert response.status_code == 422
    assert field in response.json()["detail"]
    assert field in {e["field"] for e in response.json()["errors"]} or field == "type"


def test_batch_422_points_at_the_bad_item(shared_stack: DemoStack) -> None:
    good = {"type": "deposit", "account_id": "a", "amount": 5}
    response = shared_stack.api.post("/commands/batch", json={"commands": [good, {**good,
                                     "amount": None}]})  # fmt: skip
    assert response.status_code == 422
    assert "commands.1.amount" in response.json()["detail"]


def test_rule_breaking_commands_are_rejected_with_reason(shared_stack: DemoStack) -> None:
    account = new_account(shared_stack, balance=100)
    ids = shared_stack.send(
        {"type": "deposit", "account_id": "acct-nobody-" + account, "amount": 5},
        {"type": "withdraw", "account_id": account, "amount": 101},
        {"type": "deposit", "account_id": account, "amount": 0},
        {"type": "open_account", "account_id": account},
    )
    shared_stack.wait_visible(ids)
    answers = [status(shared_stack, i) for i in ids]
    assert [a["status"] for a in answers] == ["rejected"] * 4
    reasons = [a["reason"] for a in answers]
    for reason, expected in zip(
        reasons, ("unknown account", "insufficient funds", "positive", "already exists"),
        strict=True,
    ):  # fmt: skip
        assert expected in reason
    assert shared_stack.query.get(f"/accounts/{account}").json()["balance"] == 100


def test_command_goes_from_pending_to_applied(shared_stack: DemoStack) -> None:
    account = new_account(shared_stack)
    set_balances_control(shared_stack, paused=True)
    try:
        (command_id,) = shared_stack.send({"type": "deposit", "account_id": account, "amount": 7})
        # while the projection is paused the command cannot be visible
        assert status(shared_stack, command_id)["status"] == "pending"
    finally:
        set_balances_control(shared_stack, paused=False)
    answer = wait_until(
        lambda: (s := status(shared_stack, command_id))["status"] == "applied" and s, 30,
        "command applied",
    )  # fmt: skip
    assert answer["command_to_visible_s"] > 0
    account_view = shared_stack.query.get(f"/accounts/{account}").json()
    assert account_view["balance"] == 1007
    assert account_view["as_of"]["offsets"]


def test_a_command_answer_carries_its_accept_time_and_each_read_model_says_visible(
    shared_stack: DemoStack,
) -> None:
    """A probe times read-your-writes from the acceptance the API reports, and can ask
    either read model whether the effect shows there."""
    import time

    account = new_account(shared_stack)
    before_ms = time.time() * 1000
    answer = shared_stack.api.post(
        "/commands", json={"type": "deposit", "account_id": account, "amount": 3}
    )
    assert answer.status_code == 202
    body = answer.json()
    assert before_ms - 1 <= body["accepted_at_ms"] <= time.time() * 1000 + 1
    for read_model in ("balances", "activity"):
        seen = wait_until(
            lambda rm=read_model: (
                (s := shared_stack.query.get(
                    f"/commands/{body['command_id']}", params={"read_model": rm}
                ).json())["status"] == "applied" and s
            ),
            30,
            f"deposit applied in {read_model}",
        )  # fmt: skip
        assert seen["read_model"] == read_model
        assert seen["command_to_visible_s"] >= 0
    wrong = shared_stack.query.get(f"/commands/{body['command_id']}?read_model=ledger")
    assert wrong.status_code == 422
    assert "read_model" in wrong.text


def test_transfer_between_accounts_settles(shared_stack: DemoStack) -> None:
    a, b = new_account(shared_stack, 500), new_account(shared_stack, 0)
    (command_id,) = shared_stack.send(
        {"type": "transfer", "account_id": a, "to_account_id": b, "amount": 120}
    )
    wait_until(
        lambda: shared_stack.query.get(f"/accounts/{b}").json()["balance"] == 120, 30, "credit"
    )
    assert shared_stack.query.get(f"/accounts/{a}").json()["balance"] == 380
    assert status(shared_stack, command_id)["status"] == "applied"


def staleness(stack: DemoStack) -> float | None:
    return stack.query.get("/balances", params={"limit": 1}).json()["as_of"]["staleness_s"]


def test_pause_makes_staleness_grow_and_resume_brings_it_to_zero(
    shared_stack: DemoStack,
) -> None:
    account = new_account(shared_stack)
    wait_until(lambda: staleness(shared_stack) == 0, 30, "staleness 0 before the pause")
    set_balances_control(shared_stack, paused=True)
    try:
        ids = shared_stack.send({"type": "deposit", "account_id": account, "amount": 1})
        first = wait_until(lambda: (s := staleness(shared_stack)) and s > 1.0 and s, 30, "> 1 s")
        wait_until(lambda: (staleness(shared_stack) or 0) > first + 0.5, 30, "staleness grows")
        assert shared_stack.statuses(ids) == {}
    finally:
        set_balances_control(shared_stack, paused=False)
    wait_until(lambda: staleness(shared_stack) == 0, 30, "staleness back to 0")
    shared_stack.wait_visible(ids)


def test_answers_under_steady_load_carry_a_known_staleness(shared_stack: DemoStack) -> None:
    """The checkpoint moves between background refreshes under load; an answer still
    says how stale it is (its own checkpoint is looked up), not null."""
    import threading

    account = new_account(shared_stack)
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            shared_stack.send(*({"type": "deposit", "account_id": account, "amount": 1},) * 10)
            stop.wait(0.05)  # about 200 commands/s

    sender = threading.Thread(target=load, daemon=True)
    sender.start()
    try:
        before = shared_stack.query.get("/balances", params={"limit": 1}).json()["as_of"]
        wait_until(
            lambda: (
                shared_stack.query.get("/balances", params={"limit": 1}).json()["as_of"]["offsets"]
                != before["offsets"]
            ),
            30,
            "the checkpoint moves under load",
        )
        seen = [staleness(shared_stack) for _ in range(20)]
    finally:
        stop.set()
        sender.join(10)
    known = [s for s in seen if s is not None]
    assert len(known) >= 15, f"staleness unknown in {20 - len(known)} of 20 answers: {seen}"
    assert all(s >= 0 for s in known)


def test_activity_has_per_minute_totals(shared_stack: DemoStack) -> None:
    account = new_account(shared_stack)
    ids = shared_stack.send({"type": "withdraw", "account_id": account, "amount": 300})
    shared_stack.wait_visible(ids)
    wait_until(lambda: shared_stack.wait_caught_up(), 30, "activity caught up")
    body = shared_stack.query.get("/activity").json()
    assert body["activity"] and "as_of" in body
    assert sum(m["withdrawals"] for m in body["activity"]) >= 1


def test_poison_event_is_dead_lettered_and_projections_carry_on(
    shared_stack: DemoStack,
) -> None:
    faults.poison(shared_stack.bootstrap, shared_stack.names)
    dlq = Consumer(
        {
            "bootstrap.servers": shared_stack.bootstrap,
            "group.id": f"{shared_stack.prefix}dlq-reader",
            "auto.offset.reset": "earliest",
        }
    )
    dlq.subscribe([shared_stack.names.dlq])
    letters: list = []
    try:

        def two_letters() -> bool:
            message = dlq.poll(0.5)
            if message is not None and not message.error():
                letters.append(message)
            return len(letters) >= 2  # one per projection

        wait_until(two_letters, 60, "poison in the dead-letter topic")
    finally:
        dlq.close()
    headers = [dict(m.headers()) for m in letters]
    assert {h["projection"] for h in headers} == {b"balances", b"activity"}
    assert all(b"missing or of the wrong type" in h["reason"] for h in headers)
    assert all(m.value() == faults.POISON for m in letters)
    account = new_account(shared_stack)  # still applying
    audit = shared_stack.wait_caught_up()
    assert audit["ok"], audit
    assert all(r["dead_letters"] >= 1 for r in audit["read_models"].values())
    assert shared_stack.query.get(f"/accounts/{account}").json()["balance"] == 1000


def test_extra_consumer_rebalance_loses_nothing(shared_stack: DemoStack) -> None:
    account = new_account(shared_stack)
    taken = faults.rebalance(shared_stack.bootstrap, shared_stack.names, "balances", 6.0)
    assert taken >= 1  # the extra member really got partitions
    ids = shared_stack.send(*[{"type": "deposit", "account_id": account, "amount": 1}] * 10)
    shared_stack.wait_visible(ids)
    audit = shared_stack.wait_caught_up()
    assert audit["ok"], audit
    assert shared_stack.query.get(f"/accounts/{account}").json()["balance"] == 1010


def test_garbage_on_the_commands_topic_is_rejected_not_fatal(shared_stack: DemoStack) -> None:
    producer = Producer({"bootstrap.servers": shared_stack.bootstrap})
    producer.produce(shared_stack.names.commands, key=b"garbage", value=b"\x00not json")
    assert producer.flush(10) == 0
    account = new_account(shared_stack)  # the handler is still handling commands

    def rejection() -> dict | None:
        for record in read_all_records(shared_stack.bootstrap, shared_stack.names.events):
            event = json.loads(record.value()) if record.key() == b"garbage" else None
            if event and event["type"] == "command_rejected":
                return event
        return None

    event = wait_until(rejection, 30, "rejection of the garbage command")
    assert "malformed command" in event["reason"]
    assert shared_stack.query.get(f"/accounts/{account}").json()["balance"] == 1000
