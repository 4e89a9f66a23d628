"""The command API: HTTP -> ``bank.commands``.

``python -m demo_system.command_api --bootstrap-servers ... [--port 8001]``

- ``POST /commands`` — one command, e.g. ``{"type": "deposit", "account_id": "a1",
  "amount": 500}``; answers 202 ``{"command_id": ...}``.
- ``POST /commands/batch`` — ``{"commands": [...]}`` (up to 1000); 202
  ``{"command_ids": [...]}`` in order.

- ``GET /accounts/{id}/write-side`` — ``{"account_id", "balance" | null, "as_of_ms"}``:
  the balance as the write side knows it, folded from the committed events
  (``write_side``); 503 while that view is still replaying the log.

The API checks shape only (types, required fields, amounts within ±``MAX_AMOUNT``;
422 with a message naming the field, or saying where a body is not valid JSON); the
rules (unknown account, non-positive amount, overdraft, maximum balance) are the
command handler's and end as ``command_rejected`` events. Each command gets an id and
``accepted_at_ms`` (the start of command-to-visible latency) and is produced keyed by
account. 202 is answered only once the broker acknowledged the write (idempotent
producer, acks=all), so an accepted command is never silently lost.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from typing import Annotated, Literal

from confluent_kafka import KafkaException, Producer
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictInt, StringConstraints

from demo_system import domain, process
from demo_system.http_errors import describe_errors, summary
from demo_system.topics import Names
from demo_system.write_side import WriteSideView

PROCESS = "command-api"
AccountId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
]

# Cents. Out of range is a shape error (422): no such number reaches Kafka. Zero and
# negative amounts stay a business rule (a rejection event with a reason).
Amount = Annotated[StrictInt, Field(ge=-domain.MAX_AMOUNT, le=domain.MAX_AMOUNT)]


class OpenAccount(BaseModel):
    type: Literal["open_account"]
    account_id: AccountId
    owner: Annotated[str, Field(max_length=200)] = ""


class Deposit(BaseModel):
    type: Literal["deposit"]
    account_id: AccountId
    amount: Amount  # cents; positivity is a business rule (rejection event)


class Withdraw(BaseModel):
    type: Literal["withdraw"]
    account_id: AccountId
    amount: Amount


class Transfer(BaseModel):
    type: Literal["transfer"]
    account_id: AccountId
    to_account_id: AccountId
    amount: Amount


Command = Annotated[OpenAccount | Deposit | Withdraw | Transfer, Field(discriminator="type")]


class Batch(BaseModel):
    commands: Annotated[list[Command], Field(min_length=1, max_length=1000)]


class Publisher:
    """A non-blocking producer: a background thread serves delivery callbacks."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "enable.idempotence": True,
                "linger.ms": 5,
                "queue.buffering.max.messages": 200_000,
            }
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="producer-poll", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.producer.poll(0.05)

    async def publish(self, commands: list[dict]) -> None:
        """Produce all commands; return when the broker acknowledged every one."""
        loop = asyncio.get_running_loop()
        futures = []
        for command in commands:
            future = loop.create_future()

            def done(error, _message, future=future) -> None:
                loop.call_soon_threadsafe(_settle, future, error)

            self.producer.produce(
                self.topic,
                key=command["account_id"].encode(),
                value=domain.encode(command),
                on_delivery=done,
            )
            futures.append(future)
        await asyncio.gather(*futures)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.producer.flush(10)


def _settle(future: asyncio.Future, error) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(KafkaException(error))


def create_app(bootstrap: str, names: Names) -> FastAPI:
    publisher: Publisher | None = None
    write_side = WriteSideView(bootstrap, names.events)

    async def lifespan(_app: FastAPI):
        nonlocal publisher
        publisher = Publisher(bootstrap, names.commands)
        write_side.start()
        yield
        write_side.stop()
        publisher.close()

    app = FastAPI(title="lagwatch demo: command API", lifespan=lifespan)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        errors = describe_errors(list(error.errors()), error.body, domain.CLIENT_COMMANDS)
        return JSONResponse(status_code=422, content={"detail": summary(errors), "errors": errors})

    @app.get("/accounts/{account_id}/write-side")
    async def write_side_balance(account_id: str):
        balance, as_of_ms = write_side.balance(account_id)
        if as_of_ms is None:
            raise HTTPException(503, "write-side view still reading bank.events; retry shortly")
        return {"account_id": account_id, "balance": balance, "as_of_ms": as_of_ms}

    async def accept(commands: list[BaseModel]) -> list[dict]:
        """Stamp id and accept time, publish; 503 if the broker did not take them."""
        now_ms = time.time_ns() // 1_000_000
        stamped = [
            {**c.model_dump(), "command_id": domain.new_command_id(), "accepted_at_ms": now_ms}
            for c in commands
        ]
        try:
            await publisher.publish(stamped)
        except (KafkaException, BufferError) as error:
            raise HTTPException(503, f"not accepted: {error}") from None
        return stamped

    @app.post("/commands", status_code=202)
    async def post_command(command: Command):
        # accepted_at_ms: the start of command-to-visible latency, for a caller (such as
        # lagwatch's probes) that times read-your-writes from the acceptance itself.
        stamped = (await accept([command]))[0]
        return {"command_id": stamped["command_id"], "accepted_at_ms": stamped["accepted_at_ms"]}

    @app.post("/commands/batch", status_code=202)
    async def post_batch(batch: Batch):
        return {"command_ids": [c["command_id"] for c in await accept(batch.commands)]}

    @app.get("/healthz")
    async def healthz():
        return {"ok": True}

    return app


def main(argv: list[str] | None = None) -> int:
    args, names = process.start(
        __doc__.splitlines()[0], PROCESS, argv, extra=process.http_options(8001)
    )
    return process.serve(create_app(args.bootstrap_servers, names), args)


if __name__ == "__main__":
    sys.exit(main())
