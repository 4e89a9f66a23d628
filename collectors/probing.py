"""Adapter: read-your-writes probes over HTTP (httpx), on their own threads.

Per configured probe (``[[probes]]``, ``collectors.probe_settings``) one scheduler thread
starts a probe every ``interval_s`` (skipping a start while ``concurrency`` probes are
in flight) on a small worker pool. A probe:

1. renders the command with a fresh id and sends it; the start is the acceptance time
   the answer carries (``accepted_field``), else the send time;
2. reads the check URL every ``check_interval_s`` until the answer shows the effect
   (``core.probes.check_answer``) or ``timeout_s`` after the start passes;
3. hands a ``ProbeSample`` to the sink: ``visible`` (with the answer time of the first
   read that saw it), ``timeout`` (reads answered, effect never shown) or ``error``
   (command or reads failed: timeout, refused connection, unexpected status), the
   ``reason`` starting with its kind (``command_status: 500``).

Nothing here touches Kafka or the cycle: a target that hangs or refuses only costs its
own threads, whose every request has ``request_timeout_s``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import httpx

from collectors.core.probes import (
    ERROR,
    TIMEOUT,
    VISIBLE,
    ProbeSample,
    accepted_time,
    check_answer,
    field_value,
    render,
)
from collectors.logs import throttled
from collectors.probe_settings import ProbeSettings

log = throttled("lagwatch.probes")  # a probe failing every interval: one line a minute


class ProbeSink(Protocol):
    def add_probe(self, sample: ProbeSample, keep_for_store: bool = True) -> None: ...


class _Failed(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")


def _request(client: httpx.Client, kind: str, method: str, url: str, **kwargs: Any):
    """One request; transport problems become ``_Failed`` with a kind and a reason."""
    try:
        return client.request(method, url, **kwargs)
    except httpx.TimeoutException as error:
        raise _Failed(f"{kind}_timeout", type(error).__name__) from None
    except httpx.ConnectError as error:
        raise _Failed(f"{kind}_connect", str(error) or type(error).__name__) from None
    except httpx.HTTPError as error:
        raise _Failed(f"{kind}_http", str(error) or type(error).__name__) from None


class Probe:
    """One configured probe; ``run_once`` is one probe from command to outcome."""

    def __init__(
        self,
        settings: ProbeSettings,
        clock: Callable[[], float] = time.time,
        stop: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._stop = stop or threading.Event()
        self._set_up = not settings.setup

    def new_id(self) -> str:
        prefix = self.settings.id_prefix
        return str(uuid.uuid4()) if prefix == "uuid" else f"{prefix}{uuid.uuid4().hex}"

    def _client(self) -> httpx.Client:
        return httpx.Client(timeout=self.settings.request_timeout_s, trust_env=False)

    def setup(self, client: httpx.Client) -> None:
        """The setup requests, once (retried before each probe until they all answer)."""
        if self._set_up:
            return
        for request in self.settings.setup:
            body = render(request.body, self.new_id())
            _request(client, "setup", request.method, render(request.url, self.new_id()),
                     json=body, headers=request.headers)  # fmt: skip
        self._set_up = True

    def run_once(self) -> ProbeSample | None:
        """One probe from command to outcome; None when the runner stops while the probe
        still waits for its command to become visible: an unfinished probe is no evidence
        either way, so it is neither a timeout nor a latency."""
        s = self.settings
        probe_id = self.new_id()
        sent = self._clock()
        started, source, checks = sent, "sent", 0
        try:
            with self._client() as client:
                self.setup(client)
                cmd = s.command
                sent = started = self._clock()
                answer = _request(client, "command", cmd.method, render(cmd.url, probe_id),
                                  json=render(cmd.body, probe_id), headers=cmd.headers)  # fmt: skip
                if answer.status_code not in cmd.expect_status:
                    raise _Failed("command_status", str(answer.status_code))
                body = _json(answer)
                accepted = accepted_time(body, cmd.accepted_field)
                if accepted is not None:
                    started, source = accepted, "accepted"
                if cmd.id_field:
                    found, value = field_value(body, cmd.id_field)
                    if not found or not isinstance(value, str | int):
                        raise _Failed("command_answer", f"no {cmd.id_field!r} in the answer")
                    probe_id = str(value)
                url = render(s.check.url, probe_id)
                deadline = sent + s.timeout_s
                last = "no read answered"
                next_check = self._clock()
                while True:
                    checks += 1
                    try:
                        reply = _request(client, "check", "GET", url, headers=s.check.headers)
                        seen_at = self._clock()
                        ok, why = check_answer(
                            reply.status_code, reply.text, s.check.expect_status,
                            s.check.field, s.check.value,
                        )  # fmt: skip
                        if ok:
                            return self._sample(probe_id, started, source, seen_at, VISIBLE,
                                                None, checks)  # fmt: skip
                        if reply.status_code >= 500:
                            raise _Failed("check_status", str(reply.status_code))
                        last = f"not_visible: {why}"
                    except _Failed as failed:
                        last = str(failed)
                    next_check += s.check_interval_s
                    now = self._clock()
                    if self._stop.is_set():
                        return None  # cut short by the stop, not timed out
                    if next_check >= deadline:
                        break
                    self._stop.wait(max(0.0, next_check - now))
                # Never visible: a timeout when the reads answered, else the read error.
                outcome = TIMEOUT if last.startswith("not_visible") else ERROR
                reason = f"not_visible: after {s.timeout_s:g} s ({last.split(': ', 1)[1]})"
                if outcome == ERROR:
                    reason = last
                return self._sample(probe_id, started, source, None, outcome, reason, checks)
        except _Failed as failed:
            return self._sample(probe_id, started, source, None, ERROR, str(failed), checks)
        except Exception as error:  # never let a probe's surprise end its thread
            reason = f"probe_error: {type(error).__name__}: {error}"
            return self._sample(probe_id, started, source, None, ERROR, reason, checks)

    def _sample(
        self,
        probe_id: str,
        started: float,
        source: str,
        visible_at: float | None,
        outcome: str,
        reason: str | None,
        checks: int,
    ) -> ProbeSample:
        return ProbeSample(
            probe=self.settings.name,
            target=self.settings.target or self.settings.check.url,
            probe_id=probe_id,
            started_at=started,
            start_source=source,
            visible_at=visible_at,
            outcome=outcome,
            reason=reason,
            checks=checks,
            finished_at=self._clock(),
        )


def _json(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


class ProbeRunner:
    """Runs every enabled probe on its own threads until ``stop``."""

    def __init__(self, probes: list[ProbeSettings], clock: Callable[[], float] = time.time):
        self._stop = threading.Event()
        self.probes = [Probe(p, clock, self._stop) for p in probes if p.enabled]
        self._threads: list[threading.Thread] = []
        self._pools: list[ThreadPoolExecutor] = []

    def start(self, sink: ProbeSink, keep_for_store: bool = True) -> None:
        for probe in self.probes:
            pool = ThreadPoolExecutor(
                probe.settings.concurrency,
                thread_name_prefix=f"lagwatch-probe-{probe.settings.name}",
            )
            self._pools.append(pool)
            thread = threading.Thread(
                target=self._schedule, args=(probe, pool, sink, keep_for_store),
                name=f"lagwatch-probes-{probe.settings.name}", daemon=True,
            )  # fmt: skip
            thread.start()
            self._threads.append(thread)

    def _schedule(
        self, probe: Probe, pool: ThreadPoolExecutor, sink: ProbeSink, keep: bool
    ) -> None:
        slots = threading.Semaphore(probe.settings.concurrency)

        def one() -> None:
            try:
                sample = probe.run_once()
                if sample is None:  # stopped mid-probe: nothing to record
                    return
                if sample.outcome != VISIBLE:
                    log.warning("probe %s: %s", sample.probe, sample.reason)
                sink.add_probe(sample, keep)
            except Exception:
                log.exception("probe %s failed", probe.settings.name)
            finally:
                slots.release()

        next_at = time.monotonic()
        while not self._stop.is_set():
            if slots.acquire(blocking=False):
                try:
                    pool.submit(one)
                except RuntimeError:  # pool shut down: stopping
                    slots.release()
                    return
            next_at += probe.settings.interval_s
            delay = next_at - time.monotonic()
            if delay < 0:
                next_at, delay = time.monotonic(), 0
            self._stop.wait(delay)

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)
        for pool in self._pools:
            pool.shutdown(wait=False, cancel_futures=True)
