"""The load generator: realistic bank traffic at a steady rate through the command API.

Opens ``accounts`` accounts (each with an opening deposit), then sends a mix of
deposits (45 %), withdrawals (35 %, some overdraw and get rejected), transfers (15 %,
some to an account that does not exist) and a few plainly bad commands (5 %: unknown
account, non-positive amount) — so that rejections show up too. Commands are sent in
batches (``POST /commands/batch``) every ``tick_s``, as many as the schedule says are
due, which keeps the rate steady even when one request is slow.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

MAX_BATCH = 1000


@dataclass
class LoadResult:
    command_ids: list[str] = field(default_factory=list)  # empty unless keep_ids
    failed_requests: int = 0
    duration_s: float = 0.0
    openings: int = 0  # account openings sent before the timed part
    sent: int = 0  # commands accepted (202)
    keep_ids: bool = True  # False for endless runs: count only, memory stays flat

    @property
    def rate(self) -> float:
        """Commands per second over the timed part (openings excluded)."""
        return (self.sent - self.openings) / self.duration_s if self.duration_s else 0.0


class Traffic:
    """Random commands over a fixed set of account ids (pure; seeded)."""

    def __init__(self, accounts: int, seed: int | None = None) -> None:
        self.random = random.Random(seed)
        run = uuid.UUID(int=self.random.getrandbits(128)).hex[:6]
        self.accounts = [f"acct-{run}-{i:04d}" for i in range(accounts)]

    def openings(self) -> list[dict]:
        commands = []
        for account in self.accounts:
            commands.append({"type": "open_account", "account_id": account, "owner": account})
            amount = self.random.randrange(10_000, 100_000)
            commands.append({"type": "deposit", "account_id": account, "amount": amount})
        return commands

    def next(self) -> dict:
        r, rnd = self.random.random(), self.random
        account = rnd.choice(self.accounts)
        if r < 0.45:
            return {"type": "deposit", "account_id": account, "amount": rnd.randrange(100, 20_000)}
        if r < 0.80:
            return {"type": "withdraw", "account_id": account, "amount": rnd.randrange(100, 30_000)}
        if r < 0.95:
            target = rnd.choice(self.accounts) if rnd.random() < 0.95 else "acct-nobody"
            if target == account:
                target = self.accounts[(self.accounts.index(account) + 1) % len(self.accounts)]
            amount = rnd.randrange(100, 10_000)
            return {"type": "transfer", "account_id": account, "to_account_id": target,
                    "amount": amount}  # fmt: skip
        if r < 0.975:
            return {"type": "deposit", "account_id": "acct-unknown", "amount": 100}
        return {"type": "withdraw", "account_id": account, "amount": -rnd.randrange(1, 100)}


def run_load(
    api_url: str,
    rate: float,
    duration_s: float,
    accounts: int = 100,
    seed: int | None = None,
    tick_s: float = 0.02,
    stop: threading.Event | None = None,
) -> LoadResult:
    """Send ``rate`` commands/s for ``duration_s`` (after the account openings)."""
    runner = LoadRunner(api_url, rate, accounts, seed, tick_s)
    runner.run(duration_s, stop or threading.Event())
    if runner.error:
        raise TimeoutError(runner.error)
    return runner.result


class LoadRunner:
    """Load whose rate may change while it runs (the supervisor's control API).

    ``run`` blocks: account openings first, then commands on a fixed schedule at
    ``rate`` per second (re-anchored whenever the rate changes, so a change neither
    bursts nor stalls) until ``duration_s`` passes or ``stop`` is set.
    """

    def __init__(
        self,
        api_url: str,
        rate: float,
        accounts: int = 100,
        seed: int | None = None,
        tick_s: float = 0.02,
        keep_ids: bool = True,
    ) -> None:
        self.api_url, self.tick_s = api_url, tick_s
        self.traffic = Traffic(accounts, seed)
        self.result = LoadResult(keep_ids=keep_ids)
        self._rate = rate
        self._rate_changed = False
        self._lock = threading.Lock()
        self.error: str | None = None  # why the load gave up, if it did

    @property
    def rate(self) -> float:
        return self._rate

    def set_rate(self, rate: float) -> None:
        with self._lock:
            self._rate, self._rate_changed = rate, True

    def run(self, duration_s: float, stop: threading.Event) -> None:
        result, traffic = self.result, self.traffic
        with httpx.Client(base_url=self.api_url, timeout=30) as client:
            openings = traffic.openings()
            for i in range(0, len(openings), MAX_BATCH):
                # Without its accounts every later command is rejected: retry each batch
                # of openings until the command API takes it (it may still be starting).
                try:
                    accepted = _send_until_accepted(
                        client, openings[i : i + MAX_BATCH], result, stop
                    )
                except TimeoutError as error:
                    self.error = str(error)
                    return
                if not accepted:
                    return
            result.openings = result.sent
            start = anchor = time.monotonic()
            sent = 0  # since the anchor
            while not stop.is_set():
                now = time.monotonic()
                if now - start >= duration_s:
                    break
                with self._lock:
                    rate = self._rate
                    if self._rate_changed:
                        self._rate_changed, anchor, sent = False, now, 0
                due = min(MAX_BATCH, int(rate * (now - anchor)) - sent)
                if due > 0:
                    _send(client, [traffic.next() for _ in range(due)], result)
                    sent += due
                stop.wait(max(0.0, self.tick_s - (time.monotonic() - now)))
            result.duration_s = time.monotonic() - start


OPENING_DEADLINE_S = 120.0


def _send_until_accepted(
    client: httpx.Client,
    commands: list[dict],
    result: LoadResult,
    stop: threading.Event,
    deadline_s: float = OPENING_DEADLINE_S,
) -> bool:
    """Send ``commands`` until accepted (202), backing off up to 2 s between tries.

    False when ``stop`` is set; raises ``TimeoutError`` naming the API when it has not
    accepted them within ``deadline_s`` (the load would be meaningless without them).
    """
    deadline = time.monotonic() + deadline_s
    delay = 0.1
    while not stop.is_set():
        failed = result.failed_requests
        _send(client, commands, result)
        if result.failed_requests == failed:
            return True
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"the command API at {client.base_url} did not accept the account openings "
                f"within {deadline_s:.0f} s"
            )
        stop.wait(delay)
        delay = min(2.0, delay * 2)
    return False


def _send(client: httpx.Client, commands: list[dict], result: LoadResult) -> None:
    try:
        response = client.post("/commands/batch", json={"commands": commands})
    except httpx.HTTPError:
        result.failed_requests += 1
        return
    if response.status_code == 202:
        ids = response.json()["command_ids"]
        result.sent += len(ids)
        if result.keep_ids:
            result.command_ids.extend(ids)
    else:
        result.failed_requests += 1
