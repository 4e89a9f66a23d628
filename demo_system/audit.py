"""The audit: replay ``bank.events`` from the start and compare with each read model.

Each read model is compared with the replay of exactly the events below its own
checkpoint (read in the same SQLite transaction as its state), so a projection that
is merely behind is not a failure: it is reported as ``behind``. A lost event, an
event applied twice or a wrong amount shows as a difference and ``ok: false``.

Dead letters: the replay dead-letters what the pure rules call malformed (as the
projection does). An event the rules accept but the read model could not store (a
bound, a constraint; see ``failures``) was dead-lettered *openly* — it is in the
``dead_letters`` table with its reason and in the dead-letter topic — so the replay
skips exactly the events the read model lists there, and reports how many of them
were such refusals (``refused``). An event missing with no dead letter is still a
difference.

The pure part (``expected_*``, ``compare``) takes record values and imports no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from demo_system import domain
from demo_system.read_model import db_path, snapshot
from demo_system.topics import PROJECTIONS, Names, read_all_records

MAX_LISTED = 20


class Refusal:
    """Marker type of ``REFUSED``."""


REFUSED = Refusal()  # in place of a record value: the read model dead-lettered it


def malformed(value: bytes | None) -> bool:
    try:
        domain.parse_event(value)
    except domain.MalformedEvent:
        return True
    return False


def expected_balances(values: Iterable[bytes | Refusal | None]) -> tuple[dict, int, int]:
    """(balances, applied count, dead-letter count) the balances projection should have.

    A ``REFUSED`` item stands for an event the read model refused to store: a dead letter.
    """
    balances: dict[str, int] = {}
    applied = dead = 0
    for value in values:
        if value is REFUSED:
            dead += 1
            continue
        try:
            event = domain.parse_event(value)
        except domain.MalformedEvent:
            dead += 1
            continue
        account, delta = event["account_id"], domain.balance_delta(event)
        if event["type"] == "account_opened":
            if account in balances:
                dead += 1
                continue
            balances[account] = 0
        elif delta:
            if account not in balances:
                dead += 1
                continue
            balances[account] += delta
        applied += 1
    return balances, applied, dead


def expected_activity(values: Iterable[bytes | Refusal | None]) -> tuple[dict, int, int]:
    """(minute -> (deposits, deposit amount, withdrawals, withdrawal amount), applied, dead).

    A ``REFUSED`` item stands for an event the read model refused to store: a dead letter.
    """
    activity: dict[int, list[int]] = {}
    applied = dead = 0
    for value in values:
        if value is REFUSED:
            dead += 1
            continue
        try:
            event = domain.parse_event(value)
        except domain.MalformedEvent:
            dead += 1
            continue
        applied += 1
        bucket = domain.activity_bucket(event)
        if bucket is None:
            continue
        minute, kind, amount = bucket
        row = activity.setdefault(minute, [0, 0, 0, 0])
        base = 0 if kind == "deposit" else 2
        row[base] += 1
        row[base + 1] += amount
    return {m: tuple(r) for m, r in activity.items()}, applied, dead


EXPECTED = {"balances": expected_balances, "activity": expected_activity}


def compare(expected: dict, actual: dict) -> list[dict]:
    """Keys whose values differ (missing on either side included), as dicts."""
    keys = sorted(set(expected) | set(actual), key=str)
    return [
        {"key": k, "expected": expected.get(k), "actual": actual.get(k)}
        for k in keys
        if expected.get(k) != actual.get(k)
    ]


def audit_projection(projection: str, records: list[tuple[int, int, bytes | None]], snap) -> dict:
    """Compare one read-model snapshot with the replay of (partition, offset, value)."""
    below = [(p, o, v) for p, o, v in records if o < snap.checkpoints.get(p, 0)]
    refused = {(p, o) for p, o, v in below if (p, o) in snap.dead_offsets and not malformed(v)}
    values = [REFUSED if (p, o) in refused else v for p, o, v in below]
    state, applied, dead = EXPECTED[projection](values)
    differences = compare(state, snap.state)
    counts_ok = (applied, dead) == (snap.applied, snap.dead_letters)
    return {
        "ok": not differences and counts_ok,
        "checkpoint": snap.checkpoints,
        "behind": len(records) - len(below),
        "applied": snap.applied,
        "expected_applied": applied,
        "dead_letters": snap.dead_letters,
        "expected_dead_letters": dead,
        "refused": len(refused),
        "differences": len(differences),
        "first_differences": differences[:MAX_LISTED],
    }


def run_audit(bootstrap: str, names: Names, data_dir: Path) -> dict:
    """Snapshot every read model first, then replay the log (which only grows)."""
    snaps = {p: snapshot(db_path(data_dir, p), p) for p in PROJECTIONS}
    records = [
        (m.partition(), m.offset(), m.value()) for m in read_all_records(bootstrap, names.events)
    ]
    results = {p: audit_projection(p, records, snaps[p]) for p in PROJECTIONS}
    return {
        "ok": all(r["ok"] for r in results.values()),
        "events_in_log": len(records),
        "read_models": results,
    }
