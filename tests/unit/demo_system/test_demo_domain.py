"""The bank's rules, pure: commands in, events out."""

from __future__ import annotations

import pytest

from demo_system import domain

NOW = 1_700_000_000_000


def command(kind: str, account: str = "a", **fields: object) -> dict:
    return {"type": kind, "account_id": account, "command_id": "c1", "accepted_at_ms": NOW - 5,
            **fields}  # fmt: skip


def only_event(outcome: domain.Outcome) -> dict:
    assert len(outcome.events) == 1
    return outcome.events[0]


def test_open_then_deposit_and_withdraw_fold_into_balance() -> None:
    balances: dict[str, int] = {}
    for cmd in (command("open_account"), command("deposit", amount=500),
                command("withdraw", amount=200)):  # fmt: skip
        for event in domain.decide(balances, cmd, NOW).events:
            domain.apply(balances, event)
    assert balances == {"a": 300}


def test_events_carry_command_id_and_accept_time_for_latency() -> None:
    event = only_event(domain.decide({"a": 0}, command("deposit", amount=5), NOW))
    assert event["type"] == "deposited"
    assert (event["command_id"], event["accepted_at_ms"], event["occurred_at_ms"]) == (
        "c1", NOW - 5, NOW,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("balances", "cmd", "reason"),
    [
        ({}, command("deposit", amount=5), "unknown account a"),
        ({"a": 0}, command("open_account"), "already exists"),
        ({"a": 10}, command("withdraw", amount=11), "insufficient funds"),
        ({"a": 10}, command("deposit", amount=0), "positive integer"),
        ({"a": 10}, command("withdraw", amount=-3), "positive integer"),
        ({"a": 10}, command("deposit", amount="5"), "positive integer"),
        ({"a": 10}, command("transfer", amount=5, to_account_id="a"), "another account"),
        ({"a": 10}, command("steal", amount=5), "unknown command type"),
        ({"a": 10}, {"type": "deposit", "amount": 5}, "account_id"),
    ],
)
def test_rule_violations_become_rejection_events_with_reason(balances, cmd, reason) -> None:
    outcome = domain.decide(balances, cmd, NOW)
    event = only_event(outcome)
    assert event["type"] == "command_rejected"
    assert reason in event["reason"]
    assert outcome.commands == []
    domain.apply(dict(balances), event)  # a rejection changes nothing


def test_transfer_is_a_saga_across_partitions() -> None:
    balances = {"a": 100, "b": 0}
    debit = domain.decide(balances, command("transfer", amount=30, to_account_id="b"), NOW)
    assert only_event(debit)["type"] == "transfer_debited"
    (credit_cmd,) = debit.commands
    assert (credit_cmd["type"], credit_cmd["account_id"]) == ("credit_transfer", "b")
    assert credit_cmd["command_id"] == "c1"
    domain.apply(balances, debit.events[0])
    credit = domain.decide(balances, credit_cmd, NOW)
    domain.apply(balances, only_event(credit))
    assert balances == {"a": 70, "b": 30}


def test_transfer_to_unknown_account_is_refunded() -> None:
    balances = {"a": 100}
    debit = domain.decide(balances, command("transfer", amount=30, to_account_id="zz"), NOW)
    domain.apply(balances, debit.events[0])
    failed = domain.decide(balances, debit.commands[0], NOW)
    assert only_event(failed)["type"] == "transfer_failed"
    (refund_cmd,) = failed.commands
    assert refund_cmd["account_id"] == "a"
    domain.apply(balances, only_event(domain.decide(balances, refund_cmd, NOW)))
    assert balances == {"a": 100}


def test_parse_event_accepts_what_decide_produces() -> None:
    event = only_event(domain.decide({"a": 0}, command("deposit", amount=5), NOW))
    assert domain.parse_event(domain.encode(event)) == event


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "empty"),
        (b"\xff\x00", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"type": "robbed"}', "unknown event type"),
        (b'{"type": "deposited", "account_id": 42}', "event_id"),
    ],
)
def test_parse_event_names_the_problem(raw, reason) -> None:
    with pytest.raises(domain.MalformedEvent, match=reason):
        domain.parse_event(raw)


def test_poison_amount_is_malformed() -> None:
    event = only_event(domain.decide({"a": 0}, command("deposit", amount=5), NOW))
    event["amount"] = "lots"
    with pytest.raises(domain.MalformedEvent, match="amount"):
        domain.parse_event(domain.encode(event))


def test_activity_bucket_is_per_minute_cash_only() -> None:
    deposit = only_event(domain.decide({"a": 0}, command("deposit", amount=5), 125_000))
    assert domain.activity_bucket(deposit) == (120_000, "deposit", 5)
    opened = only_event(domain.decide({}, command("open_account"), NOW))
    assert domain.activity_bucket(opened) is None


def test_decode_command_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not JSON"):
        domain.decode_command(b"{oops")
    assert domain.decode_command(b'{"type": "deposit"}') == {"type": "deposit"}
