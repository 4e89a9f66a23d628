"""The demo control API, served by the supervisor (``lagwatch demo up``, default :8003).

Faults are addressed here because the supervisor holds every child's process handle
(``Supervisor.crash`` never signals a stale pid) and writes the projections' control
files itself, waiting for their acknowledgement. It also runs the load generator
in-process, so a dashboard can start, re-rate and stop traffic.

- ``GET  /healthz`` -> ``{"status": "ok"}``
- ``GET  /demo/status`` -> projections (running, pid, restarts, slow_ms, paused,
  in_effect, dead_letters), processes, load, the two API URLs
- ``POST /demo/faults/{projection}/slow`` ``{"ms": 200}``, ``/pause``, ``/resume``,
  ``/crash``, ``/rebalance`` ``{"seconds": 10}`` (optional), ``POST /demo/faults/poison``
  -> ``{"ok", "message", "in_effect"}``
- ``POST /demo/load`` ``{"rate": 20}`` (start, or change the rate) and
  ``POST /demo/load/stop`` -> ``{"ok": true, "load": {...}}``
- ``GET  /demo/faults/history[?since=epoch_s]`` -> ``{"faults": [...]}``: the last
  ``FAULT_HISTORY_MAX`` faults applied, oldest first (see ``FaultHistory``)

Unknown projection -> 404 ``{"error"}``; a bad body -> 422 ``{"error"}`` naming the
field. A crash that cannot land (the child is restarting and did not come up within
``CRASH_WAIT_S``) -> 409 with the same shape (``"ok": false``) plus ``error``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt
from starlette.exceptions import HTTPException

from demo_system import faults
from demo_system.http_errors import describe_errors, summary
from demo_system.load import LoadRunner
from demo_system.read_model import db_path, open_readonly
from demo_system.supervisor import Supervisor
from demo_system.topics import PROJECTIONS, Names

ACK_WAIT_S = 2.0  # how long a fault waits for the projection to say "in effect"
CRASH_WAIT_S = 10.0  # how long a crash waits for a restarting projection to come up
REBALANCE_WAIT_S = 15.0  # how long a rebalance waits for the extra member's partitions
# (the member gives up joining then, so an answer of not in effect stays true)
FAULT_HISTORY_MAX = 1000  # faults kept in memory; the oldest go first


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SlowBody(Strict):
    ms: Annotated[StrictInt, Field(ge=0, le=60_000)]  # 0 = normal speed


class RebalanceBody(Strict):
    seconds: Annotated[StrictInt | StrictFloat, Field(gt=0, le=600)] = 10.0


class LoadBody(Strict):
    rate: Annotated[StrictInt | StrictFloat, Field(gt=0, le=5000)]  # commands per second
    accounts: Annotated[StrictInt, Field(ge=1, le=10_000)] = 100  # used when starting


@dataclass(frozen=True, slots=True)
class FaultRecord:
    """One fault the control API applied (or asked for: ``in_effect`` false when the
    projection did not confirm in time, e.g. while it restarts).

    ``time`` is epoch seconds when the request arrived; ``projection`` is None for
    ``poison``, which reaches every projection; ``groups`` are the consumer groups it
    concerns (the projection's, or every projection's for poison), so a dashboard can put
    it on the right charts without knowing the demo's prefix.
    """

    time: float
    projection: str | None
    kind: str  # slow, pause, resume, crash, poison, rebalance
    detail: str
    in_effect: bool
    groups: tuple[str, ...]

    def to_json(self) -> dict:
        return {**asdict(self), "groups": list(self.groups)}


class FaultHistory:
    """The last ``limit`` faults, oldest first; thread-safe (the API serves requests on
    a thread pool). In memory only: a restarted supervisor starts a new history."""

    def __init__(self, limit: int = FAULT_HISTORY_MAX) -> None:
        self._items: deque[FaultRecord] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def add(self, record: FaultRecord) -> None:
        with self._lock:
            self._items.append(record)

    def since(self, since: float | None = None) -> list[FaultRecord]:
        """Records with ``time >= since`` (all when None), oldest first (sorted: a fault
        that waited for its acknowledgement is added after a quicker, later one)."""
        with self._lock:
            items = sorted(self._items, key=lambda r: r.time)
        return items if since is None else [r for r in items if r.time >= since]


@dataclass
class Load:
    """The in-process load generator (one at a time)."""

    api_url: str
    runner: LoadRunner | None = None
    thread: threading.Thread | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def state(self) -> dict:
        result = self.runner.result if self.runner else None
        return {
            "running": self.running,
            "rate": float(self.runner.rate) if self.runner and self.running else 0.0,
            "sent": result.sent if result else 0,
            "failed": result.failed_requests if result else 0,
        }

    def start_or_rerate(self, rate: float, accounts: int) -> dict:
        with self.lock:
            if self.running:
                self.runner.set_rate(rate)
                return self.state()
            self.runner = LoadRunner(self.api_url, rate, accounts, keep_ids=False)
            self.stop_event = threading.Event()
            self.thread = threading.Thread(
                target=self.runner.run, args=(float("inf"), self.stop_event),
                name="load", daemon=True,
            )  # fmt: skip
            self.thread.start()
            return self.state()

    def stop(self, timeout_s: float = 10.0) -> dict:
        with self.lock:
            self.stop_event.set()
            if self.thread is not None:
                self.thread.join(timeout_s)
            return self.state()


class DemoControl:
    """What the control API acts on: the supervisor, control files, Kafka, the load."""

    def __init__(
        self,
        supervisor: Supervisor,
        bootstrap: str,
        names: Names,
        data_dir: Path,
        command_api: str,
        query_api: str,
    ) -> None:
        self.supervisor, self.bootstrap, self.names = supervisor, bootstrap, names
        self.data_dir, self.command_api, self.query_api = Path(data_dir), command_api, query_api
        self.load = Load(command_api)
        self.history = FaultHistory()

    def record(
        self, at: float, projection: str | None, kind: str, body: dict, detail: str = ""
    ) -> None:
        """Remember a fault whose answer is ``body`` (its message is the detail)."""
        groups = (
            (self.names.projection_group(projection),)
            if projection
            else tuple(self.names.projection_group(p) for p in PROJECTIONS)
        )
        self.history.add(
            FaultRecord(
                time=at, projection=projection, kind=kind,
                detail=detail or str(body.get("message") or ""),
                in_effect=bool(body.get("in_effect")), groups=groups,
            )
        )  # fmt: skip

    def status(self) -> dict:
        processes = self.supervisor.status()
        projections = {}
        for projection in PROJECTIONS:
            process = faults.process_name(projection)
            settings = faults.read_control(self.data_dir, process)
            projections[projection] = {
                **processes.get(process, {"running": False, "pid": None, "restarts": 0}),
                "slow_ms": int(settings.get("slow_ms") or 0),
                "paused": bool(settings.get("paused")),
                "in_effect": faults.acknowledged(self.data_dir, process),
                "dead_letters": _dead_letters(db_path(self.data_dir, projection)),
            }
        return {
            "projections": projections,
            "processes": processes,
            "load": self.load.state(),
            "command_api": self.command_api,
            "query_api": self.query_api,
        }

    def control(self, projection: str, kind: str, what: str, **settings: object) -> dict:
        """Write control settings and wait (bounded) until the projection applies them;
        the fault goes into the history as ``kind`` (slow, pause, resume)."""
        at = time.time()
        process = faults.process_name(projection)
        faults.set_control(self.data_dir, process, **settings)
        started = time.monotonic()
        in_effect = faults.wait_acknowledged(self.data_dir, process, ACK_WAIT_S)
        if in_effect:
            took = time.monotonic() - started
            message = f"{what}: in effect on {process} after {took:.2f} s"
        elif not self.supervisor.status().get(process, {}).get("running"):
            message = f"{what}: asked; {process} is restarting and applies it when it starts"
        else:
            message = f"{what}: asked; {process} did not confirm within {ACK_WAIT_S:.0f} s"
        body = {"ok": True, "message": message, "in_effect": in_effect}
        self.record(at, projection, kind, body)
        return body

    def crash(self, projection: str) -> JSONResponse:
        at = time.time()
        result = self.supervisor.crash(faults.process_name(projection), CRASH_WAIT_S)
        body = {"ok": result.landed, "message": result.message, "in_effect": result.landed}
        if result.landed:  # a crash that could not land (409) was not applied: no record
            self.record(at, projection, "crash", body)
            return JSONResponse(body)
        return JSONResponse({**body, "error": result.message}, status_code=409)

    def rebalance(self, projection: str, seconds: float) -> dict:
        at = time.time()
        taken = threading.Event()
        held: list[int] = []
        thread = threading.Thread(
            target=lambda: held.append(
                faults.rebalance(
                    self.bootstrap, self.names, projection, seconds, taken, REBALANCE_WAIT_S
                )
            ),
            name="rebalance", daemon=True,
        )  # fmt: skip
        thread.start()
        in_effect = taken.wait(REBALANCE_WAIT_S + 1)  # the member's own deadline first
        group = self.names.projection_group(projection)
        if in_effect:
            message = f"extra consumer joined {group} and holds partitions for {seconds:g} s"
        else:
            message = f"extra consumer joining {group}; no partitions assigned to it yet"
        body = {"ok": True, "message": message, "in_effect": in_effect}
        self.record(at, projection, "rebalance", body)
        return body

    def poison(self) -> dict:
        at = time.time()
        faults.poison(self.bootstrap, self.names)
        message = f"poison record produced to {self.names.events}; projections dead-letter it"
        body = {"ok": True, "message": message, "in_effect": True}
        self.record(at, None, "poison", body)
        return body

    def fault_history(self, since: float | None) -> dict:
        return {"faults": [r.to_json() for r in self.history.since(since)]}


def _dead_letters(path: Path) -> int | None:
    db = open_readonly(path)
    if db is None:
        return None
    try:
        return db.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
    except Exception:  # schema not created yet
        return None
    finally:
        db.close()


def _since(raw: str | None) -> float | JSONResponse | None:
    """``?since=`` as epoch seconds, or a 422 naming the parameter."""
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        error = f"since: expected epoch seconds (a finite number, e.g. 1700000000.5), got {raw!r}"
        return JSONResponse(
            status_code=422,
            content={"error": error, "errors": [{"field": "since", "message": error}]},
        )
    return value


def create_app(control: DemoControl) -> FastAPI:
    app = FastAPI(title="lagwatch demo: control API")

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        errors = describe_errors(list(error.errors()), error.body)
        return JSONResponse(status_code=422, content={"error": summary(errors), "errors": errors})

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse(status_code=error.status_code, content={"error": str(error.detail)})

    def known(projection: str) -> str:
        if projection not in PROJECTIONS:
            raise HTTPException(404, f"unknown projection {projection!r}; known: {PROJECTIONS}")
        return projection

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/demo/status")
    def status():
        return control.status()

    @app.get("/demo/faults/history")
    def fault_history(since: str | None = None):
        when = _since(since)
        if isinstance(when, JSONResponse):
            return when
        return control.fault_history(when)

    @app.post("/demo/faults/poison")
    def poison():
        return control.poison()

    @app.post("/demo/faults/{projection}/slow")
    def slow(projection: str, body: SlowBody):
        return control.control(known(projection), "slow", f"slow {body.ms} ms", slow_ms=body.ms)

    @app.post("/demo/faults/{projection}/pause")
    def pause(projection: str):
        return control.control(known(projection), "pause", "pause", paused=True)

    @app.post("/demo/faults/{projection}/resume")
    def resume(projection: str):
        return control.control(known(projection), "resume", "resume", paused=False, slow_ms=0)

    @app.post("/demo/faults/{projection}/crash")
    def crash(projection: str):
        return control.crash(known(projection))

    @app.post("/demo/faults/{projection}/rebalance")
    def rebalance(projection: str, body: Annotated[RebalanceBody | None, Body()] = None):
        return control.rebalance(known(projection), float((body or RebalanceBody()).seconds))

    @app.post("/demo/load")
    def load(body: LoadBody):
        return {"ok": True, "load": control.load.start_or_rerate(float(body.rate), body.accounts)}

    @app.post("/demo/load/stop")
    def load_stop():
        return {"ok": True, "load": control.load.stop()}

    return app
