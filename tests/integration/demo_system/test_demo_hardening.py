"""Issue 11 on the real broker: bounded amounts, clear 422s, no event wedges a projection."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from confluent_kafka import Consumer, Producer
from demo_stack_helpers import DemoStack, wait_until

from demo_system import domain
from demo_system.domain import MAX_AMOUNT, MAX_BALANCE

pytestmark = pytest.mark.integration


def new_account(stack: DemoStack, balance: int = 1000) -> str:
    account = f"acct-{uuid.uuid4().hex[:8]}"
    ids = stack.send(
        {"type": "open_account", "account_id": account, "owner": "Ada"},
        {"type": "deposit", "account_id": account, "amount": balance},
    )
    stack.wait_visible(ids)
    return account


def status(stack: DemoStack, command_id: str) -> dict:
    return stack.query.get(f"/commands/{command_id}").json()


@pytest.mark.parametrize("amount", [10**30, 2**63 - 1, MAX_AMOUNT + 1, -(10**30)])
def test_amount_out_of_range_gets_422(shared_stack: DemoStack, amount: int) -> None:
    body = {"type": "deposit", "account_id": "a", "amount": amount}
    response = shared_stack.api.post("/commands", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "amount"
    assert str(MAX_AMOUNT) in response.json()["detail"]


def test_malformed_json_gets_422_saying_where(shared_stack: DemoStack) -> None:
    body = b'{"type": "deposit", "account_id": "a",\n  "amount": 10,,}'
    response = shared_stack.api.post(
        "/commands", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "body"
    assert (error["line"], error["column"]) == (2, 16)  # the second comma
    assert response.json()["detail"].startswith("body is not valid JSON: ")
    assert "line 2, column 16" in response.json()["detail"]


def send_raw(stack: DemoStack, *commands: dict) -> list[str]:
    """Commands straight onto ``bank.commands``, past the API's checks (as a buggy or
    hostile producer would)."""
    producer = Producer({"bootstrap.servers": stack.bootstrap, "enable.idempotence": True})
    ids = []
    for command in commands:
        command_id = str(uuid.uuid4())
        stamped = {**command, "command_id": command_id, "accepted_at_ms": int(time.time() * 1000)}
        producer.produce(stack.names.commands, key=command["account_id"].encode(),
                         value=json.dumps(stamped).encode())  # fmt: skip
        ids.append(command_id)
    assert producer.flush(10) == 0
    return ids


def test_int64_max_then_one_is_rejected_with_a_reason_and_nothing_turns_float(
    shared_stack: DemoStack,
) -> None:
    account = new_account(shared_stack, balance=0)
    huge, one = send_raw(
        shared_stack,
        {"type": "deposit", "account_id": account, "amount": 2**63 - 1},
        {"type": "deposit", "account_id": account, "amount": 1},
    )
    shared_stack.wait_visible([huge, one])
    assert status(shared_stack, huge)["status"] == "rejected"
    assert f"above the maximum of {MAX_AMOUNT} cents" in status(shared_stack, huge)["reason"]
    assert status(shared_stack, one)["status"] == "applied"
    view = shared_stack.query.get(f"/accounts/{account}").json()
    assert view["balance"] == 1 and isinstance(view["balance"], int)


def test_balance_stops_exactly_at_the_maximum(shared_stack: DemoStack) -> None:
    account = new_account(shared_stack, balance=MAX_BALANCE % MAX_AMOUNT)
    deposit = {"type": "deposit", "account_id": account, "amount": MAX_AMOUNT}
    ids = []
    for _ in range(MAX_BALANCE // MAX_AMOUNT // 1000 + 1):  # 9007 maximal deposits
        ids += shared_stack.send(*[deposit] * min(1000, MAX_BALANCE // MAX_AMOUNT - len(ids)))
    (over,) = shared_stack.send({"type": "deposit", "account_id": account, "amount": 1})
    shared_stack.wait_visible([*ids, over], timeout=120)
    answer = status(shared_stack, over)
    assert answer["status"] == "rejected"
    assert f"balance would exceed the maximum of {MAX_BALANCE} cents" in answer["reason"]
    view = shared_stack.query.get(f"/accounts/{account}").json()
    assert view["balance"] == MAX_BALANCE
    # the write side agrees, exactly, as an integer
    write_side = wait_until(
        lambda: (r := shared_stack.api.get(f"/accounts/{account}/write-side")).status_code
        == 200 and r.json()["balance"] == MAX_BALANCE and r.json(),
        30, "write side at the maximum",
    )  # fmt: skip
    assert isinstance(write_side["balance"], int) and write_side["as_of_ms"] > 0


def test_write_side_of_an_unknown_account_is_null(shared_stack: DemoStack) -> None:
    response = wait_until(
        lambda: (r := shared_stack.api.get("/accounts/nobody-xyz/write-side")).status_code
        == 200 and r,
        30, "write-side view ready",
    )  # fmt: skip
    assert response.json()["balance"] is None
    assert abs(response.json()["as_of_ms"] / 1000 - time.time()) < 30


def forced_event(account: str, kind: str, **extra: object) -> bytes:
    return domain.encode({
        "event_id": str(uuid.uuid4()), "type": kind, "account_id": account,
        "command_id": str(uuid.uuid4()), "accepted_at_ms": int(time.time() * 1000),
        "occurred_at_ms": int(time.time() * 1000), **extra,
    })  # fmt: skip


def dead_letters(stack: DemoStack, wanted: int, timeout: float = 60) -> list:
    consumer = Consumer({"bootstrap.servers": stack.bootstrap,
                         "group.id": f"{stack.prefix}dlq-{uuid.uuid4().hex[:6]}",
                         "auto.offset.reset": "earliest"})  # fmt: skip
    consumer.subscribe([stack.names.dlq])
    letters: list = []
    try:

        def enough() -> bool:
            message = consumer.poll(0.5)
            if message is not None and not message.error():
                letters.append(message)
            return len(letters) >= wanted

        wait_until(enough, timeout, f"{wanted} dead letters")
    finally:
        consumer.close()
    return letters


def test_event_the_read_model_cannot_store_is_dead_lettered_and_it_carries_on(
    shared_stack: DemoStack,
) -> None:
    account = new_account(shared_stack, balance=100)
    before = {p: shared_stack.snapshot(p).dead_letters for p in ("balances", "activity")}
    producer = Producer({"bootstrap.servers": shared_stack.bootstrap})
    # valid shape, but it would take the balance to -9900: balances refuses to store it
    overdraw = forced_event(account, "withdrawn", amount=10_000)
    producer.produce(shared_stack.names.events, key=account.encode(), value=overdraw)
    assert producer.flush(10) == 0
    later = shared_stack.send({"type": "deposit", "account_id": account, "amount": 5})
    shared_stack.wait_visible(later)  # later events are applied
    assert shared_stack.query.get(f"/accounts/{account}").json()["balance"] == 105

    letters = [m for m in dead_letters(shared_stack, sum(before.values()) + 1)
               if m.value() == overdraw]  # fmt: skip
    (letter,) = letters
    headers = dict(letter.headers())
    assert headers["projection"] == b"balances"
    assert headers["reason"].startswith(b"cannot apply: Refused: balance of")
    audit = shared_stack.wait_caught_up()
    assert audit["ok"], audit
    balances = audit["read_models"]["balances"]
    assert balances["refused"] >= 1
    assert balances["dead_letters"] == before["balances"] + 1
    # activity can store a withdrawal of any size: it applied the event
    assert audit["read_models"]["activity"]["dead_letters"] == before["activity"]
