"""SQLite read models whose checkpoint lives in the same transaction as the data.

One database file per projection (``<data-dir>/<projection>.sqlite``). A batch of
records is applied in one transaction that also moves the per-partition checkpoint
(``checkpoint.next_offset`` = offset of the last applied record + 1) and writes one
``applied`` row per event with the moment it became visible (``visible_at_ms``, stamped
right before COMMIT). A crash anywhere leaves either the whole batch with its
checkpoint or none of it, so resuming at the checkpoint neither loses nor repeats an
event. ``applied`` has primary key (partition, offset): applying an event twice is
impossible rather than merely unlikely.

WAL mode lets the query API read while a projection writes. ``synchronous=NORMAL``
survives a killed process (SIGKILL); only an OS crash or power loss could drop the
last transactions, and then the checkpoint drops with them, so it stays consistent.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from demo_system import domain, failures

log = logging.getLogger("demo_system.read_model")

_COMMON = """
CREATE TABLE IF NOT EXISTS checkpoint (
    partition INTEGER PRIMARY KEY, next_offset INTEGER NOT NULL, event_time_ms INTEGER);
CREATE TABLE IF NOT EXISTS applied (
    partition INTEGER NOT NULL, offset INTEGER NOT NULL, event_id TEXT NOT NULL,
    event_type TEXT NOT NULL, command_id TEXT NOT NULL, accepted_at_ms INTEGER NOT NULL,
    event_time_ms INTEGER NOT NULL, visible_at_ms INTEGER NOT NULL,
    PRIMARY KEY (partition, offset));
CREATE TABLE IF NOT EXISTS dead_letters (
    partition INTEGER NOT NULL, offset INTEGER NOT NULL, reason TEXT NOT NULL, value BLOB,
    PRIMARY KEY (partition, offset));
"""
_SCHEMA = {
    "balances": """
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY, owner TEXT NOT NULL, balance INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS commands (
    command_id TEXT PRIMARY KEY, status TEXT NOT NULL, reason TEXT,
    accepted_at_ms INTEGER NOT NULL, visible_at_ms INTEGER NOT NULL);
""",
    "activity": """
CREATE TABLE IF NOT EXISTS activity (
    minute_ms INTEGER PRIMARY KEY, deposits INTEGER NOT NULL, deposit_amount INTEGER NOT NULL,
    withdrawals INTEGER NOT NULL, withdrawal_amount INTEGER NOT NULL);
""",
}


@dataclass(frozen=True, slots=True)
class Record:
    """One consumed ``bank.events`` record."""

    partition: int
    offset: int
    timestamp_ms: int
    value: bytes | None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    record: Record
    reason: str


def db_path(data_dir: Path, projection: str) -> Path:
    return Path(data_dir) / f"{projection}.sqlite"


class ReadModel:
    """The writing side of one projection's database (one writer process)."""

    def __init__(self, path: Path, projection: str) -> None:
        if projection not in _SCHEMA:
            raise ValueError(f"unknown projection {projection!r}; known: {sorted(_SCHEMA)}")
        self.projection = projection
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        # a lock held elsewhere is waited for briefly, then reported as an outage
        self.db.execute("PRAGMA busy_timeout=500")
        self.db.executescript(_COMMON + _SCHEMA[projection])
        self._apply = _balances if projection == "balances" else _activity

    def checkpoints(self) -> dict[int, int]:
        """Next offset to apply per partition; partitions never applied are absent."""
        rows = self.db.execute("SELECT partition, next_offset FROM checkpoint")
        return dict(rows.fetchall())

    def apply_batch(
        self,
        records: Iterable[Record],
        clock_ms: Callable[[], int],
        before_commit: Callable[[list[DeadLetter]], None] = lambda _: None,
    ) -> list[DeadLetter]:
        """Apply records (in offset order per partition); returns the dead letters.

        Records below a partition's checkpoint are skipped (already applied). An event
        the projection cannot apply becomes a dead letter (kept in ``dead_letters`` and
        returned); ``before_commit`` receives dead letters before the checkpoint moves
        past them, so the caller can publish them first.

        Fast path: the whole batch in one transaction. If it fails for any reason that
        is not an outage (``failures.is_outage``) — e.g. an apply function raising after
        it already changed rows — the batch is rolled back and applied again one record
        per transaction; the record whose own transaction fails is dead-lettered (with
        the error as the reason) in a transaction of its own. So no event can make the
        projection fail over and over. An outage propagates unchanged: nothing is
        dead-lettered, and whatever committed before it is in the checkpoint.
        """
        done = self.checkpoints()
        todo = []
        for record in records:
            if record.offset >= done.get(record.partition, 0):
                todo.append(record)
                done[record.partition] = record.offset + 1
        if not todo:
            return []
        try:
            return self._transaction(todo, clock_ms, before_commit)
        except Exception as error:
            if failures.is_outage(error):
                raise
            log.warning("batch failed (%s); applying its %d records one by one", error, len(todo))
        dead: list[DeadLetter] = []
        for record in todo:
            try:
                dead += self._transaction([record], clock_ms, before_commit)
            except Exception as error:
                if failures.is_outage(error):
                    raise
                letter = DeadLetter(record, failures.reason(error))
                self._transaction([record], clock_ms, before_commit, refused=letter)
                dead.append(letter)
        return dead

    def _transaction(
        self,
        records: list[Record],
        clock_ms: Callable[[], int],
        before_commit: Callable[[list[DeadLetter]], None],
        refused: DeadLetter | None = None,
    ) -> list[DeadLetter]:
        """One SQLite transaction: apply ``records`` (or record ``refused`` as a dead
        letter without applying it), dead letters, checkpoint; all or nothing."""
        db = self.db
        applied: list[tuple] = []
        dead: list[DeadLetter] = []
        moved: dict[int, tuple[int, int]] = {}
        db.execute("BEGIN IMMEDIATE")
        try:
            for record in records:
                moved[record.partition] = (record.offset + 1, record.timestamp_ms)
                if refused is not None:
                    dead.append(refused)
                    continue
                try:
                    event = domain.parse_event(record.value)
                    self._apply(db, event)  # MalformedEvent only before changing a row
                    applied.append((record, event))
                except domain.MalformedEvent as error:
                    dead.append(DeadLetter(record, str(error)))
            before_commit(dead)
            self._record(applied, dead, moved, clock_ms())
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back itself
                db.execute("ROLLBACK")
            raise
        return dead

    def _record(self, applied: list, dead: list[DeadLetter], moved: dict, now_ms: int) -> None:
        self.db.executemany(
            "INSERT INTO applied VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (r.partition, r.offset, e["event_id"], e["type"], e["command_id"], *times)
                for r, e in applied
                for times in [(e["accepted_at_ms"], r.timestamp_ms, now_ms)]
            ],
        )
        if self.projection == "balances":
            self.db.executemany(
                "INSERT OR IGNORE INTO commands VALUES (?, ?, ?, ?, ?)",
                [
                    (e["command_id"], *_command_status(e), e["accepted_at_ms"], now_ms)
                    for _, e in applied
                ],
            )
        self.db.executemany(
            "INSERT INTO dead_letters VALUES (?, ?, ?, ?)",
            [(d.record.partition, d.record.offset, d.reason, d.record.value) for d in dead],
        )
        self.db.executemany(
            "INSERT INTO checkpoint VALUES (?, ?, ?) ON CONFLICT (partition) DO UPDATE"
            " SET next_offset = excluded.next_offset, event_time_ms = excluded.event_time_ms",
            [(p, offset, ts) for p, (offset, ts) in moved.items()],
        )

    def close(self) -> None:
        self.db.close()


def _command_status(event: dict) -> tuple[str, str | None]:
    if event["type"] == "command_rejected":
        return "rejected", str(event.get("reason", ""))
    return "applied", None


class Refused(ValueError):
    """The read model refuses a value it cannot store exactly (raised after the row
    changed: the transaction must roll back)."""


def _balances(db: sqlite3.Connection, event: dict) -> None:
    account = event["account_id"]
    if event["type"] == "account_opened":
        cursor = db.execute(
            "INSERT OR IGNORE INTO accounts VALUES (?, ?, 0)", (account, event.get("owner", ""))
        )
        if cursor.rowcount == 0:
            raise domain.MalformedEvent(f"account {account} opened twice")
        return
    delta = domain.balance_delta(event)
    if delta:
        rows = db.execute(
            "UPDATE accounts SET balance = balance + ? WHERE account_id = ? RETURNING balance",
            (delta, account),
        ).fetchall()
        if not rows:
            raise domain.MalformedEvent(f"{event['type']} for unknown account {account}")
        (balance,) = rows[0]
        # SQLite turns an overflowing sum into a float without a word: refuse instead
        if not isinstance(balance, int) or not 0 <= balance <= domain.MAX_BALANCE:
            raise Refused(
                f"balance of {account} would become {balance!r}, outside 0..{domain.MAX_BALANCE}"
            )


def _activity(db: sqlite3.Connection, event: dict) -> None:
    bucket = domain.activity_bucket(event)
    if bucket is None:
        return
    minute, kind, amount = bucket
    deposit = (1, amount) if kind == "deposit" else (0, 0)
    withdrawal = (1, amount) if kind == "withdrawal" else (0, 0)
    totals = db.execute(
        "INSERT INTO activity VALUES (?, ?, ?, ?, ?) ON CONFLICT (minute_ms) DO UPDATE SET"
        " deposits = deposits + excluded.deposits,"
        " deposit_amount = deposit_amount + excluded.deposit_amount,"
        " withdrawals = withdrawals + excluded.withdrawals,"
        " withdrawal_amount = withdrawal_amount + excluded.withdrawal_amount"
        " RETURNING deposit_amount, withdrawal_amount",
        (minute, *deposit, *withdrawal),
    ).fetchall()
    if not all(isinstance(total, int) for total in totals[0]):
        raise Refused(f"activity totals of minute {minute} overflow: {totals[0]!r}")


# --- the reading side (query API, audit, tests) --------------------------------------


def open_readonly(path: Path) -> sqlite3.Connection | None:
    """A read-only connection, or None when the projection has not created its DB yet."""
    if not Path(path).exists():
        return None
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    db.execute("PRAGMA busy_timeout=2000")
    return db


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A consistent view of one read model: its checkpoint and its state."""

    checkpoints: dict[int, int]
    event_time_ms: int | None  # timestamp of the newest applied record
    state: dict  # balances: account -> balance; activity: minute_ms -> 4-tuple
    applied: int
    dead_letters: int
    dead_offsets: frozenset[tuple[int, int]] = frozenset()  # (partition, offset)


def snapshot(path: Path, projection: str) -> Snapshot:
    """Checkpoint and full state read in one transaction (so they belong together)."""
    db = open_readonly(path)
    if db is None:
        return Snapshot({}, None, {}, 0, 0)
    try:
        db.execute("BEGIN")
        checkpoints = dict(db.execute("SELECT partition, next_offset FROM checkpoint"))
        (event_time,) = db.execute("SELECT max(event_time_ms) FROM checkpoint").fetchone()
        if projection == "balances":
            state = dict(db.execute("SELECT account_id, balance FROM accounts"))
        else:
            rows = db.execute("SELECT * FROM activity").fetchall()
            state = {row[0]: tuple(row[1:]) for row in rows}
        (applied,) = db.execute("SELECT count(*) FROM applied").fetchone()
        dead = frozenset(db.execute("SELECT partition, offset FROM dead_letters"))
        db.execute("COMMIT")
        return Snapshot(checkpoints, event_time, state, applied, len(dead), dead)
    finally:
        db.close()
