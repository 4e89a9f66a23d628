"""SQLite read models (real SQLite, no Kafka) and the audit's pure comparison."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from demo_system import audit, domain
from demo_system.read_model import ReadModel, Record, db_path, snapshot

NOW = 1_700_000_000_000


def events_for(account: str, *commands: dict) -> list[bytes]:
    balances: dict[str, int] = {}
    out = []
    for i, cmd in enumerate(commands):
        cmd = {"account_id": account, "command_id": f"c{i}", "accepted_at_ms": NOW, **cmd}
        for event in domain.decide(balances, cmd, NOW + i).events:
            domain.apply(balances, event)
            out.append(domain.encode(event))
    return out


def records(values: list[bytes | None], partition: int = 0, start: int = 0) -> list[Record]:
    return [Record(partition, start + i, NOW, v) for i, v in enumerate(values)]


VALUES = events_for(
    "a", {"type": "open_account"}, {"type": "deposit", "amount": 100},
    {"type": "withdraw", "amount": 30}, {"type": "withdraw", "amount": 999},
)  # fmt: skip


@pytest.fixture
def balances(tmp_path: Path) -> ReadModel:
    return ReadModel(db_path(tmp_path, "balances"), "balances")


def test_batch_applies_and_moves_checkpoint_together(balances: ReadModel, tmp_path) -> None:
    balances.apply_batch(records(VALUES), lambda: NOW + 100)
    snap = snapshot(db_path(tmp_path, "balances"), "balances")
    assert snap.state == {"a": 70}
    assert snap.checkpoints == {0: 4}
    assert snap.applied == 4
    rows = balances.db.execute("SELECT status, count(*) FROM commands GROUP BY status")
    assert dict(rows) == {"applied": 3, "rejected": 1}


def test_replayed_records_below_checkpoint_are_skipped(balances: ReadModel, tmp_path) -> None:
    balances.apply_batch(records(VALUES[:3]), lambda: NOW)
    balances.apply_batch(records(VALUES), lambda: NOW)  # redelivery after a crash
    assert snapshot(db_path(tmp_path, "balances"), "balances").state == {"a": 70}


def test_failure_before_commit_leaves_nothing(balances: ReadModel, tmp_path) -> None:
    def boom(_dead) -> None:
        raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        balances.apply_batch(records(VALUES), lambda: NOW, before_commit=boom)
    snap = snapshot(db_path(tmp_path, "balances"), "balances")
    assert (snap.state, snap.checkpoints, snap.applied) == ({}, {}, 0)


def test_malformed_events_are_dead_lettered_and_passed(balances: ReadModel) -> None:
    published = []
    bad = [b"not json", domain.encode({**domain.parse_event(VALUES[1]), "account_id": "zz"})]
    dead = balances.apply_batch(records([*VALUES, *bad]), lambda: NOW, published.extend)
    assert [d.reason for d in published] == [d.reason for d in dead]
    assert "not JSON" in dead[0].reason
    assert "unknown account zz" in dead[1].reason
    assert balances.checkpoints() == {0: 6}


def _kill_mid_batch(path: Path) -> None:
    model = ReadModel(path, "balances")
    model.apply_batch(records(VALUES[:2]), lambda: NOW)

    def die(_dead) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    model.apply_batch(records(VALUES[2:], start=2), lambda: NOW, before_commit=die)


def test_sigkill_inside_a_transaction_keeps_the_previous_batch(tmp_path: Path) -> None:
    path = db_path(tmp_path, "balances")
    child = multiprocessing.get_context("fork").Process(target=_kill_mid_batch, args=(path,))
    child.start()
    child.join(10)
    assert child.exitcode == -signal.SIGKILL
    snap = snapshot(path, "balances")
    assert (snap.state, snap.checkpoints) == ({"a": 100}, {0: 2})


def test_activity_counts_cash_per_minute(tmp_path: Path) -> None:
    model = ReadModel(db_path(tmp_path, "activity"), "activity")
    model.apply_batch(records(VALUES), lambda: NOW)
    snap = snapshot(db_path(tmp_path, "activity"), "activity")
    assert snap.state == {NOW // 60_000 * 60_000: (1, 100, 1, 30)}


def test_audit_passes_when_read_model_matches_replay(balances: ReadModel, tmp_path) -> None:
    balances.apply_batch(records(VALUES[:3]), lambda: NOW)
    snap = snapshot(db_path(tmp_path, "balances"), "balances")
    log = [(0, i, v) for i, v in enumerate(VALUES)]
    result = audit.audit_projection("balances", log, snap)
    assert result["ok"] and result["behind"] == 1


def test_audit_catches_a_double_applied_event(balances: ReadModel, tmp_path) -> None:
    balances.apply_batch(records(VALUES), lambda: NOW)
    balances.db.execute("UPDATE accounts SET balance = balance + 100")  # a double deposit
    snap = snapshot(db_path(tmp_path, "balances"), "balances")
    result = audit.audit_projection("balances", [(0, i, v) for i, v in enumerate(VALUES)], snap)
    assert not result["ok"]
    assert result["first_differences"] == [{"key": "a", "expected": 70, "actual": 170}]


def test_expected_activity_matches_projection_on_poison(tmp_path: Path) -> None:
    values = [*VALUES, b"poison"]
    model = ReadModel(db_path(tmp_path, "activity"), "activity")
    model.apply_batch(records(values), lambda: NOW)
    snap = snapshot(db_path(tmp_path, "activity"), "activity")
    result = audit.audit_projection("activity", [(0, i, v) for i, v in enumerate(values)], snap)
    assert result["ok"]
    assert result["dead_letters"] == result["expected_dead_letters"] == 1
