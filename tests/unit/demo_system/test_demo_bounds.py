"""Amount and balance bounds: pure domain rules, no I/O."""

from __future__ import annotations

import json

import pytest

from demo_system import domain
from demo_system.domain import MAX_AMOUNT, MAX_BALANCE

NOW = 1_700_000_000_000


def command(kind: str, account: str = "a", **extra: object) -> dict:
    return {"type": kind, "account_id": account, "command_id": "c", "accepted_at_ms": NOW,
            **extra}  # fmt: skip


def run(balances: dict, in_flight: dict, cmd: dict) -> domain.Outcome:
    outcome = domain.decide(balances, cmd, NOW, in_flight)
    for event in outcome.events:
        domain.apply(balances, event)
        domain.apply_in_flight(in_flight, event)
    return outcome


def test_bounds_sit_well_inside_sqlite_int64_and_json_doubles() -> None:
    assert MAX_BALANCE == 2**53 - 1 and float(MAX_BALANCE) == MAX_BALANCE
    assert MAX_AMOUNT == 10**12
    assert MAX_BALANCE + 2 * MAX_AMOUNT < 2**63 - 1


@pytest.mark.parametrize("amount", [MAX_AMOUNT + 1, 2**63 - 1, 10**30])
@pytest.mark.parametrize("kind", ["deposit", "withdraw", "transfer"])
def test_amount_above_maximum_is_rejected_with_reason(kind: str, amount: int) -> None:
    balances = {"a": 10, "b": 0}
    outcome = run(balances, {}, command(kind, amount=amount, to_account_id="b"))
    (event,) = outcome.events
    assert event["type"] == "command_rejected"
    assert f"above the maximum of {MAX_AMOUNT}" in event["reason"]
    assert balances == {"a": 10, "b": 0}


def test_balance_reaches_the_maximum_exactly_and_not_one_cent_more() -> None:
    balances, in_flight = {"a": MAX_BALANCE - 5}, {}
    assert run(balances, in_flight, command("deposit", amount=5)).events[0]["type"] == "deposited"
    assert balances["a"] == MAX_BALANCE and isinstance(balances["a"], int)
    (event,) = run(balances, in_flight, command("deposit", amount=1)).events
    assert event["type"] == "command_rejected"
    assert "balance would exceed the maximum" in event["reason"]
    assert balances["a"] == MAX_BALANCE


def test_money_in_flight_counts_so_a_refund_never_breaks_the_maximum() -> None:
    balances, in_flight = {"a": MAX_BALANCE}, {}
    outcome = run(balances, in_flight, command("transfer", amount=100, to_account_id="z"))
    assert outcome.events[0]["type"] == "transfer_debited"
    assert in_flight == {"a": 100} and balances["a"] == MAX_BALANCE - 100
    # while 100 is in flight, a deposit that would not fit after a refund is refused
    (rejected,) = run(balances, in_flight, command("deposit", amount=1)).events
    assert rejected["type"] == "command_rejected" and "in flight 100" in rejected["reason"]
    (credit,) = outcome.commands  # destination unknown: failed, refunded in full
    failed = run(balances, in_flight, credit)
    assert failed.events[0]["type"] == "transfer_failed"
    refunded = run(balances, in_flight, failed.commands[0])
    assert refunded.events[0]["type"] == "transfer_refunded"
    assert balances["a"] == MAX_BALANCE and in_flight == {"a": 0}


def test_transfer_credit_past_the_maximum_fails_and_is_refunded() -> None:
    balances, in_flight = {"a": 1000, "b": MAX_BALANCE - 10}, {}
    outcome = run(balances, in_flight, command("transfer", amount=11, to_account_id="b"))
    failed = run(balances, in_flight, outcome.commands[0])
    assert failed.events[0]["type"] == "transfer_failed"
    assert "balance would exceed the maximum" in failed.events[0]["reason"]
    run(balances, in_flight, failed.commands[0])
    assert balances == {"a": 1000, "b": MAX_BALANCE - 10} and in_flight == {"a": 0}


def test_in_flight_replays_from_the_event_log() -> None:
    balances, in_flight, events = {"a": 500, "b": 0}, {}, []
    for cmd in (command("transfer", amount=100, to_account_id="b"),
                command("transfer", amount=50, to_account_id="b")):  # fmt: skip
        outcome = run(balances, in_flight, cmd)
        events += outcome.events
    credit = run(balances, in_flight, outcome.commands[0])  # the second one lands
    events += credit.events
    assert domain.replay_in_flight(events) == in_flight == {"a": 100}


def event(kind: str, **extra: object) -> bytes:
    base = {"event_id": "e", "type": kind, "account_id": "a", "command_id": "c",
            "accepted_at_ms": NOW, "occurred_at_ms": NOW}  # fmt: skip
    return json.dumps({**base, **extra}).encode()


def test_parse_event_dead_letters_an_amount_above_the_maximum() -> None:
    with pytest.raises(domain.MalformedEvent, match="above the maximum"):
        domain.parse_event(event("deposited", amount=10**30))
    assert domain.parse_event(event("deposited", amount=MAX_AMOUNT))["amount"] == MAX_AMOUNT


def test_parse_event_dead_letters_an_owner_that_is_not_a_string() -> None:
    with pytest.raises(domain.MalformedEvent, match="owner"):
        domain.parse_event(event("account_opened", owner={"name": "x"}))


def test_write_model_rebuild_survives_events_the_handler_never_wrote() -> None:
    """Forced records (a credit to an account never opened, a second opening) must not
    stop the handler from rebuilding its write model on start."""
    events = [json.loads(v) for v in (
        event("account_opened"), event("deposited", amount=5),
        event("deposited", account_id="nobody", amount=7), event("account_opened"),
    )]  # fmt: skip
    assert domain.replay(events) == {"a": 5}
