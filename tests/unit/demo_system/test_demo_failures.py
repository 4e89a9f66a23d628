"""The dead-letter decision: an event's fault or an outage of the read model's DB."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from demo_system import failures


def real_sqlite_error(tmp_path: Path, statement: str) -> sqlite3.Error:
    db = sqlite3.connect(tmp_path / "x.sqlite")
    db.execute("CREATE TABLE IF NOT EXISTS t (a INTEGER PRIMARY KEY, b TEXT NOT NULL)")
    db.execute("INSERT OR IGNORE INTO t VALUES (1, 'x')")
    try:
        db.execute(statement)
    except sqlite3.Error as error:
        return error
    finally:
        db.close()
    raise AssertionError(f"{statement} did not fail")


def locked_error(tmp_path: Path) -> sqlite3.Error:
    path = tmp_path / "locked.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (a)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("INSERT INTO t VALUES (1)")
    except sqlite3.Error as error:
        return error
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        other.close()
    raise AssertionError("no lock error")


def test_locked_database_is_an_outage(tmp_path: Path) -> None:
    error = locked_error(tmp_path)
    assert "locked" in str(error)
    assert failures.is_outage(error)


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("disk I/O error"),
        sqlite3.OperationalError("database or disk is full"),
        sqlite3.OperationalError("unable to open database file"),
        sqlite3.DatabaseError("file is not a database"),
        MemoryError(),
        failures.Outage("dead letters not delivered within 10 s"),
        KeyboardInterrupt(),
    ],
)
def test_storage_and_process_conditions_are_outages(error: BaseException) -> None:
    assert failures.is_outage(error)


def test_event_faults_are_not_outages(tmp_path: Path) -> None:
    constraint = real_sqlite_error(tmp_path, "INSERT INTO t VALUES (1, 'dup')")
    assert isinstance(constraint, sqlite3.IntegrityError)
    not_null = real_sqlite_error(tmp_path, "INSERT INTO t VALUES (2, NULL)")
    for error in (constraint, not_null, OverflowError("Python int too large to convert"),
                  sqlite3.ProgrammingError("Error binding parameter 2"), KeyError("amount"),
                  TypeError("unsupported operand"), ValueError("balance outside")):  # fmt: skip
        assert not failures.is_outage(error), error


def test_reason_names_the_error_type_on_one_line() -> None:
    text = failures.reason(sqlite3.IntegrityError("UNIQUE constraint failed:\n t.a"))
    assert text == "cannot apply: IntegrityError: UNIQUE constraint failed: t.a"
    assert len(failures.reason(ValueError("x" * 10_000))) <= 500
