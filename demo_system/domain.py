"""The bank domain: commands, events and the rules that turn one into the other.

Pure: no Kafka, HTTP or database here. Amounts are integer cents. Times are
milliseconds since the epoch and always passed in.

Commands and events are plain dicts (they travel as JSON). A command is keyed by
``account_id`` on ``bank.commands``; every event is keyed by the ``account_id`` it
changes on ``bank.events``, so all events of one account sit, in order, on one
partition.

Transfers are honest across partitions: the source and the destination may live on
different partitions (and, scaled out, in different handler instances), so a transfer
is a small saga instead of one atomic step::

    transfer (keyed by source)      -> transfer_debited  + command credit_transfer
    credit_transfer (keyed by dest) -> transfer_credited
                                     | transfer_failed   + command refund_transfer
    refund_transfer (keyed by src)  -> transfer_refunded

Between the debit and the credit the money is in flight; every step is written in the
same Kafka transaction as the command that caused it, so no step is lost or repeated.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass

# Commands clients may send. Internal commands are produced by the handler only.
CLIENT_COMMANDS = ("open_account", "deposit", "withdraw", "transfer")
INTERNAL_COMMANDS = ("credit_transfer", "refund_transfer")

# Events and their effect on the account they are keyed by.
CREDITS = ("deposited", "transfer_credited", "transfer_refunded")
DEBITS = ("withdrawn", "transfer_debited")
EVENT_TYPES = ("account_opened", "transfer_failed", "command_rejected", *CREDITS, *DEBITS)

Balances = Mapping[str, int]  # account_id -> balance in cents (the write model)

# Bounds, in integer cents. Both sit far inside SQLite's signed 64-bit INTEGER (2**63-1,
# about 9.2e18), so no sum the demo computes can overflow into a float:
# - MAX_AMOUNT (10**12 cents = 10 billion) bounds one command/event. Even a per-minute
#   activity total of 1000 maximal deposits per second stays below 6.0e16.
# - MAX_BALANCE (2**53-1 cents, about 90 trillion) is the largest integer every JSON
#   reader represents exactly (JavaScript numbers, jq), so a balance shown anywhere is
#   the balance stored. Money in flight out of an account (a transfer debited, not yet
#   credited or refunded) counts towards it, so a refund can never push past it.
MAX_AMOUNT = 10**12
MAX_BALANCE = 2**53 - 1
InFlight = Mapping[str, int]  # account_id -> cents debited by transfers still in flight


class MalformedEvent(ValueError):
    """An event that cannot be applied; the message is the reason (for the dead-letter)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What handling one command produced: events to append, commands to send on."""

    events: list[dict]
    commands: list[dict]


def new_command_id() -> str:
    return str(uuid.uuid4())


def decide(
    balances: Balances, command: Mapping, now_ms: int, in_flight: InFlight | None = None
) -> Outcome:
    """The business rules: given the current balances, the events a command causes.

    A rule violation is not an error: it yields one ``command_rejected`` event with a
    ``reason``. Never raises for any input dict (a malformed command is rejected too).
    Amounts above ``MAX_AMOUNT`` are rejected; so is a credit that would take an
    account's balance plus its money in flight (``in_flight``) past ``MAX_BALANCE`` (a
    transfer credit is then refused with ``transfer_failed`` and refunded). A refund is
    never refused: the money in flight it returns was counted all along.
    """
    in_flight = in_flight if in_flight is not None else {}
    kind = command.get("type")
    account = command.get("account_id")
    amount = command.get("amount")

    def event(kind_: str, account_id: object = account, **extra: object) -> dict:
        return _event(kind_, account_id, command, now_ms, **extra)

    def reject_(reason: str) -> Outcome:
        return reject(command, reason, now_ms)

    if kind not in CLIENT_COMMANDS + INTERNAL_COMMANDS:
        return reject_(f"unknown command type {kind!r}")
    if not isinstance(account, str) or not account:
        return reject_("account_id must be a non-empty string")
    if kind == "open_account":
        if account in balances:
            return reject_(f"account {account} already exists")
        return Outcome([event("account_opened", owner=str(command.get("owner") or ""))], [])
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        return reject_(f"amount must be a positive integer number of cents, got {amount!r}")
    if amount > MAX_AMOUNT:
        return reject_(f"amount {amount} is above the maximum of {MAX_AMOUNT} cents")
    if kind == "refund_transfer":  # the source account exists: it was debited
        return Outcome([event("transfer_refunded", amount=amount, **_transfer(command))], [])
    if kind == "credit_transfer":
        if account not in balances:
            refund = _internal("refund_transfer", command["from_account_id"], command)
            return Outcome(
                [event("transfer_failed", amount=amount, reason=f"unknown account {account}")],
                [refund],
            )
        if (reason := _over_maximum(balances, in_flight, account, amount)) is not None:
            refund = _internal("refund_transfer", command["from_account_id"], command)
            return Outcome([event("transfer_failed", amount=amount, reason=reason)], [refund])
        return Outcome([event("transfer_credited", amount=amount, **_transfer(command))], [])
    if account not in balances:
        return reject_(f"unknown account {account}")
    if kind == "deposit":
        if (reason := _over_maximum(balances, in_flight, account, amount)) is not None:
            return reject_(reason)
        return Outcome([event("deposited", amount=amount)], [])
    if balances[account] < amount:
        return reject_(f"insufficient funds: balance {balances[account]} < amount {amount}")
    if kind == "withdraw":
        return Outcome([event("withdrawn", amount=amount)], [])
    # transfer
    target = command.get("to_account_id")
    if not isinstance(target, str) or not target or target == account:
        return reject_("to_account_id must name another account")
    credit = _internal("credit_transfer", target, {**command, "from_account_id": account})
    return Outcome([event("transfer_debited", amount=amount, to_account_id=target)], [credit])


def _over_maximum(balances: Balances, in_flight: InFlight, account: str, amount: int):
    """The rejection reason if crediting ``amount`` breaks ``MAX_BALANCE``, else None."""
    held = balances[account] + in_flight.get(account, 0)
    if held + amount <= MAX_BALANCE:
        return None
    return (
        f"balance would exceed the maximum of {MAX_BALANCE} cents: balance {balances[account]}"
        f" + in flight {in_flight.get(account, 0)} + amount {amount}"
    )


def reject(command: Mapping, reason: str, now_ms: int) -> Outcome:
    """The single ``command_rejected`` event for a command that broke a rule."""
    account = command.get("account_id")
    return Outcome(
        [
            _event(
                "command_rejected",
                account,
                command,
                now_ms,
                reason=reason,
                command_type=command.get("type"),
            )
        ],
        [],
    )


def decode_command(raw: bytes | None) -> dict:
    """A ``bank.commands`` record value as a dict; ValueError (with reason) if malformed."""
    try:
        command = json.loads(raw or b"")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"malformed command: not JSON ({error})") from None
    if not isinstance(command, dict):
        raise ValueError("malformed command: not a JSON object")
    return command


def apply(balances: MutableMapping[str, int], event: Mapping) -> None:
    """Fold one event into the balances (the write model, and the audit's replay).

    An event the handler could not have written — an opening of an account that is
    already open, money in or out of an account never opened (a record forced into the
    topic) — changes nothing: the write model must still rebuild from such a log.
    """
    kind, account = event["type"], event["account_id"]
    if kind == "account_opened":
        balances.setdefault(account, 0)
    elif account in balances:
        balances[account] += balance_delta(event)


def apply_in_flight(in_flight: MutableMapping[str, int], event: Mapping) -> None:
    """Track money in flight per source account: ``transfer_debited`` (keyed by the
    source) adds; ``transfer_credited`` (keyed by the destination, naming the source in
    ``from_account_id``) or ``transfer_refunded`` (keyed by the source) ends it."""
    kind = event["type"]
    if kind == "transfer_debited":
        source, change = event["account_id"], event["amount"]
    elif kind == "transfer_credited":
        source, change = event.get("from_account_id"), -event["amount"]
    elif kind == "transfer_refunded":
        source, change = event["account_id"], -event["amount"]
    else:
        return
    if not isinstance(source, str):
        return
    # never deleted, only set (to 0 at the end): works on a ChainMap overlay too
    in_flight[source] = max(0, in_flight.get(source, 0) + change)


def balance_delta(event: Mapping) -> int:
    """How an event changes the balance of the account it is keyed by."""
    if event["type"] in CREDITS:
        return event["amount"]
    if event["type"] in DEBITS:
        return -event["amount"]
    return 0


def activity_bucket(event: Mapping) -> tuple[int, str, int] | None:
    """(minute start in ms, "deposit"|"withdrawal", amount) for cash in/out; else None."""
    kind = {"deposited": "deposit", "withdrawn": "withdrawal"}.get(event["type"])
    if kind is None:
        return None
    minute = event["occurred_at_ms"] // 60_000 * 60_000
    return minute, kind, event["amount"]


def parse_event(raw: bytes | None) -> dict:
    """Decode and check one ``bank.events`` record value.

    Returns the event dict; raises ``MalformedEvent`` (reason as message) for anything a
    projection cannot apply: not JSON, not an object, unknown type, missing fields.
    """
    if raw is None:
        raise MalformedEvent("empty record value")
    try:
        event = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedEvent(f"not JSON: {error}") from None
    if not isinstance(event, dict):
        raise MalformedEvent("event is not a JSON object")
    if event.get("type") not in EVENT_TYPES:
        raise MalformedEvent(f"unknown event type {event.get('type')!r}")
    for field, types in _REQUIRED_FIELDS:
        if not isinstance(event.get(field), types) or isinstance(event.get(field), bool):
            raise MalformedEvent(f"field {field!r} missing or of the wrong type")
    if event["type"] in CREDITS + DEBITS:
        amount = event.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise MalformedEvent("field 'amount' must be a positive integer")
        if amount > MAX_AMOUNT:
            raise MalformedEvent(f"field 'amount' is above the maximum of {MAX_AMOUNT} cents")
    if event["type"] == "account_opened" and not isinstance(event.get("owner", ""), str):
        raise MalformedEvent("field 'owner' must be a string")
    return event


def replay(events: list[Mapping]) -> dict[str, int]:
    """The write model rebuilt from an event log."""
    balances: dict[str, int] = {}
    for event in events:
        apply(balances, event)
    return balances


def replay_in_flight(events: list[Mapping]) -> dict[str, int]:
    """Money in flight per source account after an event log (see ``apply_in_flight``)."""
    in_flight: dict[str, int] = {}
    for event in events:
        apply_in_flight(in_flight, event)
    return in_flight


def encode(message: Mapping) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


_REQUIRED_FIELDS = (
    ("event_id", str),
    ("account_id", str),
    ("command_id", str),
    ("accepted_at_ms", int),
    ("occurred_at_ms", int),
)


def _event(kind: str, account: object, command: Mapping, now_ms: int, **extra: object) -> dict:
    accepted = command.get("accepted_at_ms")
    if not isinstance(accepted, int) or isinstance(accepted, bool):
        accepted = now_ms
    return {
        "event_id": str(uuid.uuid4()),
        "type": kind,
        "account_id": account if isinstance(account, str) else str(account),
        "command_id": str(command.get("command_id") or ""),
        "accepted_at_ms": accepted,
        "occurred_at_ms": now_ms,
        **extra,
    }


def _transfer(command: Mapping) -> dict:
    return {
        "from_account_id": command["from_account_id"],
        "to_account_id": command["to_account_id"],
    }


def _internal(kind: str, account: str, cause: Mapping) -> dict:
    """A follow-up command of a transfer; keeps the client's command id and accept time."""
    return {
        "type": kind,
        "account_id": account,
        "amount": cause["amount"],
        "from_account_id": cause["from_account_id"],
        "to_account_id": cause["to_account_id"],
        "command_id": cause.get("command_id"),
        "accepted_at_ms": cause.get("accepted_at_ms"),
    }
