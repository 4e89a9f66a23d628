"""No event can wedge a projection; an outage is never dead-lettered (real SQLite)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from test_demo_read_model import NOW, VALUES, records

from demo_system import audit, domain, read_model
from demo_system.read_model import ReadModel, db_path, snapshot


def forced(kind: str, account: str = "a", **extra: object) -> bytes:
    """An event of the right shape that the handler would never have written."""
    base = {"event_id": "forced", "type": kind, "account_id": account, "command_id": "x",
            "accepted_at_ms": NOW, "occurred_at_ms": NOW}  # fmt: skip
    return domain.encode({**base, **extra})


@pytest.fixture
def model(tmp_path: Path) -> ReadModel:
    return ReadModel(db_path(tmp_path, "balances"), "balances")


def test_refused_event_after_partial_work_is_dead_lettered_and_the_rest_applied(
    model: ReadModel, tmp_path: Path
) -> None:
    # the forced withdrawal changes the row, then the bound check refuses it: the
    # batch must roll back and be re-applied without it
    overdraw = forced("withdrawn", amount=10_000)
    values = [*VALUES, overdraw, *VALUES[1:2]]  # open, +100, -30, rejected, BAD, +100
    published = []
    dead = model.apply_batch(records(values), lambda: NOW, published.extend)
    assert [d.record.offset for d in dead] == [4]
    assert dead[0].reason.startswith("cannot apply: Refused: balance of a would become -9930")
    assert published == dead
    snap = snapshot(db_path(tmp_path, "balances"), "balances")
    assert snap.state == {"a": 170} and snap.checkpoints == {0: 6}
    assert snap.applied == 5 and snap.dead_offsets == {(0, 4)}
    # the audit accepts a declared refusal, and counts it
    result = audit.audit_projection("balances", [(0, i, v) for i, v in enumerate(values)], snap)
    assert result["ok"] and result["refused"] == 1, result


def test_an_unbindable_value_cannot_crash_loop(model: ReadModel, tmp_path: Path) -> None:
    """Whatever an apply function raises, the same batch offered again is a no-op."""
    original = read_model._balances

    def exploding(db: sqlite3.Connection, event: dict) -> None:
        original(db, event)
        if event["command_id"] == "c1":
            raise TypeError("boom after work")

    model._apply = exploding
    dead = model.apply_batch(records(VALUES), lambda: NOW)
    # the deposit's work was rolled back with it; the withdrawal then cannot be stored
    assert [(d.record.offset, d.reason.split(":")[1].strip()) for d in dead] == [
        (1, "TypeError"), (2, "Refused"),
    ]  # fmt: skip
    assert model.apply_batch(records(VALUES), lambda: NOW) == []  # redelivery: skipped
    snap = snapshot(db_path(tmp_path, "balances"), "balances")
    assert snap.state == {"a": 0} and snap.checkpoints == {0: 4} and snap.applied == 2


def test_locked_database_is_retried_not_dead_lettered(model: ReadModel, tmp_path: Path) -> None:
    holder = sqlite3.connect(db_path(tmp_path, "balances"), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            model.apply_batch(records(VALUES), lambda: NOW)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    snap = snapshot(db_path(tmp_path, "balances"), "balances")
    assert snap.dead_letters == 0 and snap.checkpoints == {}
    assert model.apply_batch(records(VALUES), lambda: NOW) == []  # the outage is over
    assert snapshot(db_path(tmp_path, "balances"), "balances").state == {"a": 70}


def test_failed_dead_letter_publication_is_an_outage(model: ReadModel, tmp_path: Path) -> None:
    from demo_system.failures import Outage

    def kafka_down(dead: list) -> None:
        if dead:
            raise Outage("dead letters not delivered within 10 s")

    with pytest.raises(Outage):
        model.apply_batch(records([*VALUES, b"not json"]), lambda: NOW, kafka_down)
    snap = snapshot(db_path(tmp_path, "balances"), "balances")
    assert snap.checkpoints == {} and snap.dead_letters == 0


def test_activity_refuses_totals_that_would_overflow(tmp_path: Path) -> None:
    activity = ReadModel(db_path(tmp_path, "activity"), "activity")
    minute = NOW // 60_000 * 60_000
    activity.db.execute("INSERT INTO activity VALUES (?, 1, ?, 0, 0)", (minute, 2**63 - 10))
    deposit = forced("deposited", amount=100)
    dead = activity.apply_batch(records([deposit]), lambda: NOW)
    assert len(dead) == 1 and "overflow" in dead[0].reason
    (total,) = activity.db.execute("SELECT deposit_amount FROM activity").fetchone()
    assert total == 2**63 - 10
