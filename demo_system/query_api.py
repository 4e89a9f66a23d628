"""The query API: reads the read models, says how fresh every answer is.

``python -m demo_system.query_api --bootstrap-servers ... [--port 8002]``

- ``GET /accounts/{id}``, ``GET /balances``, ``GET /activity`` — data plus ``as_of``:
  the read model's checkpoint per partition (read in the same SQLite transaction as the
  data), the timestamp of the newest applied event, and the staleness measured from
  Kafka (see ``freshness``).
- ``GET /commands/{id}`` — ``pending`` (not visible yet), ``applied`` or ``rejected``
  (with the reason), so a client can wait for its own write.
- ``GET /audit`` — replay ``bank.events`` and compare with each read model.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi import Query as Param

from demo_system import process
from demo_system.audit import run_audit
from demo_system.freshness import Freshness
from demo_system.read_model import db_path, open_readonly
from demo_system.topics import PROJECTIONS, Names

PROCESS = "query-api"
Query = Callable[[sqlite3.Connection | None], object]  # None: the DB does not exist yet
REFRESH_S = 0.25  # how often staleness is re-measured while someone is reading
WATCH_S = 60.0  # ... for this long after the last read


class Reader:
    """Per-request read-only SQLite access plus the background freshness refresher."""

    def __init__(self, bootstrap: str, names: Names, data_dir: Path) -> None:
        self.bootstrap, self.names, self.data_dir = bootstrap, names, data_dir
        self.freshness = {p: Freshness(bootstrap, names.events) for p in PROJECTIONS}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._refresh, name="freshness", daemon=True)
        self._watched_until = 0.0  # staleness is measured only while someone asks for it

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for f in self.freshness.values():
            f.close()

    def _refresh(self) -> None:
        while not self._stop.is_set():
            if time.monotonic() > self._watched_until:  # nobody asked lately: stay idle
                self._stop.wait(REFRESH_S)
                continue
            for projection, freshness in self.freshness.items():
                try:
                    freshness.refresh(self.read(projection, lambda _db: None)[1])
                except Exception as error:  # keep serving; report in as_of as unknown
                    print(f"freshness {projection}: {error}", file=sys.stderr)
            self._stop.wait(REFRESH_S)

    def read(self, projection: str, query: Query) -> tuple[object, dict[int, int], int | None]:
        """(query(db) result, checkpoints, newest event time) in one read transaction."""
        db = open_readonly(db_path(self.data_dir, projection))
        if db is None:
            return query(None), {}, None
        try:
            db.execute("BEGIN")
            result = query(db)
            checkpoints = dict(db.execute("SELECT partition, next_offset FROM checkpoint"))
            (event_time,) = db.execute("SELECT max(event_time_ms) FROM checkpoint").fetchone()
            db.execute("COMMIT")
            return result, checkpoints, event_time
        except sqlite3.OperationalError:  # schema not created yet
            return query(None), {}, None
        finally:
            db.close()

    def answer(self, projection: str, query: Query) -> tuple[object, dict]:
        self._watched_until = time.monotonic() + WATCH_S
        result, checkpoints, event_time = self.read(projection, query)
        now = time.time()
        stale = self.freshness[projection].staleness(checkpoints, now)
        as_of = {
            "read_model": projection,
            "offsets": checkpoints,
            "event_time": _iso(event_time / 1000) if event_time else None,
            "staleness_s": stale["staleness_s"],
            "staleness_by_partition": stale["partitions"],
            "observed_at": _iso(now),
        }
        return result, as_of


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


def _rows(db: sqlite3.Connection | None, sql: str, params: tuple = ()) -> list:
    return [] if db is None else db.execute(sql, params).fetchall()


def create_app(bootstrap: str, names: Names, data_dir: Path) -> FastAPI:
    reader = Reader(bootstrap, names, data_dir)

    async def lifespan(_app: FastAPI):
        reader.start()
        yield
        reader.stop()

    app = FastAPI(title="lagwatch demo: query API", lifespan=lifespan)

    @app.get("/accounts/{account_id}")
    def account(account_id: str):
        sql = "SELECT account_id, owner, balance FROM accounts WHERE account_id = ?"
        rows, as_of = reader.answer("balances", lambda db: _rows(db, sql, (account_id,)))
        if not rows:
            raise HTTPException(404, {"message": f"no account {account_id} (yet)", "as_of": as_of})
        account_id, owner, balance = rows[0]
        return {"account_id": account_id, "owner": owner, "balance": balance, "as_of": as_of}

    @app.get("/balances")
    def balances(limit: int = Param(1000, ge=1, le=100_000)):
        sql = "SELECT account_id, balance FROM accounts ORDER BY account_id LIMIT ?"
        rows, as_of = reader.answer("balances", lambda db: _rows(db, sql, (limit,)))
        return {"balances": {a: b for a, b in rows}, "as_of": as_of}

    @app.get("/activity")
    def activity(minutes: int = Param(60, ge=1, le=10_000)):
        sql = "SELECT * FROM activity ORDER BY minute_ms DESC LIMIT ?"
        rows, as_of = reader.answer("activity", lambda db: _rows(db, sql, (minutes,)))
        keys = ("deposits", "deposit_amount", "withdrawals", "withdrawal_amount")
        items = [{"minute": _iso(r[0] / 1000), **dict(zip(keys, r[1:], strict=True))} for r in rows]
        return {"activity": items, "as_of": as_of}

    @app.get("/commands/{command_id}")
    def command(command_id: str, read_model: str = "balances"):
        """Is the command's effect visible in ``read_model`` (balances or activity)?"""
        try:
            uuid.UUID(command_id)
        except ValueError:
            raise HTTPException(422, "command_id: not a UUID") from None
        if read_model not in PROJECTIONS:
            raise HTTPException(422, f"read_model: one of {', '.join(PROJECTIONS)}")
        if read_model == "balances":
            sql = "SELECT status, reason, accepted_at_ms, visible_at_ms FROM commands"
        else:  # the activity model keeps per-event rows; a rejection is an event too
            sql = (
                "SELECT CASE WHEN max(event_type = 'command_rejected') THEN 'rejected' "
                "ELSE 'applied' END, NULL, min(accepted_at_ms), min(visible_at_ms) "
                "FROM applied"
            )
        rows, as_of = reader.answer(
            read_model, lambda db: _rows(db, sql + " WHERE command_id = ?", (command_id,))
        )
        if not rows or rows[0][3] is None:
            return {
                "command_id": command_id,
                "read_model": read_model,
                "status": "pending",
                "as_of": as_of,
            }
        status, reason, accepted, visible = rows[0]
        return {
            "command_id": command_id,
            "read_model": read_model,
            "status": status,
            "reason": reason,
            "accepted_at": _iso(accepted / 1000),
            "visible_at": _iso(visible / 1000),
            "command_to_visible_s": (visible - accepted) / 1000,
            "as_of": as_of,
        }

    @app.get("/audit")
    async def audit():
        return await asyncio.to_thread(run_audit, bootstrap, names, data_dir)

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    return app


def main(argv: list[str] | None = None) -> int:
    args, names = process.start(
        __doc__.splitlines()[0], PROCESS, argv, extra=process.http_options(8002)
    )
    return process.serve(create_app(args.bootstrap_servers, names, args.data_dir), args)


if __name__ == "__main__":
    sys.exit(main())
