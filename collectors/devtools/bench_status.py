"""``lagwatch bench status``: do the statuses say what the consumers are doing?

Runs synthetic consumers with known behaviours on a real broker (one it starts on a
free port, or ``--bootstrap-servers`` with ``--no-broker``) under an in-process
collector, and compares every observation's reported status with the expected one:

- healthy: real subscribed consumers that consume everything and commit every 0.5 s,
  5 s, 30 s or 60 s (Kafka Streams' and Connect's defaults) — OK throughout;
- falling behind: producers 50/s, consumer 40/s, commits every 5 s — OK while the
  window fills, then WARN;
- stalled with members: stops polling (member stays) at ``--stuck-at`` — STALL after
  its threshold; stopped: closes at ``--stuck-at`` — STOPPED after its threshold;
- idle: caught up, no traffic — IDLE; idle transactional: caught up, only a commit
  marker left — IDLE;
- replaying: reset to offset 0 at ``--rewind-at``, replays at 150/s — REWIND until back
  at its old offset, then OK;
- recreated topic: committed offset past the log end — STOPPED (offset_out_of_range).

Around each expected change there is a judging band (``EXPECTED`` below): the stall
threshold plus two intervals for stuck consumers, the status window for falling
behind, one interval around the start and end of a replay. Inside a band both the
old and the new status agree; the confusion matrix counts every observation under its
primary expected status. Results: stdout and the ``status`` section of
``docs/benchmarks.md``. Run at ``--interval`` 1 and 5 (the default runs both).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from collectors.bootstrap import build_service
from collectors.core.model import Status
from collectors.devtools.bench_report import write_section
from collectors.settings import load_settings

HEALTHY = {"fast": 0.5, "commit-5s": 5.0, "commit-30s": 30.0, "commit-60s": 60.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--interval", type=float, action="append", help="interval_s (repeat; default 1 and 5)"
    )
    parser.add_argument("--duration", type=float, default=330.0, help="seconds observed per run")
    parser.add_argument("--stuck-at", type=float, default=90.0)
    parser.add_argument("--rewind-at", type=float, default=60.0)
    parser.add_argument("--status-window", type=float, default=120.0)
    parser.add_argument("--stall-floor", type=float, default=30.0)
    parser.add_argument("--no-broker", action="store_true", help="use --bootstrap-servers")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/")


@dataclass
class Plan:
    """One synthetic consumer: its behaviour and the status each moment should read."""

    behaviour: str
    group: str
    topic: str
    rate: float = 10.0  # records/s produced
    expected: Callable[[float], tuple[Status, frozenset[Status]]] = field(repr=False, default=None)


def _always(status: Status) -> Callable[[float], tuple[Status, frozenset[Status]]]:
    return lambda t: (status, frozenset({status}))


def _change(
    before: Status, after: Status, start: float, end: float
) -> Callable[[float], tuple[Status, frozenset[Status]]]:
    """``before`` until ``start``, either within [start, end], ``after`` past ``end``."""

    def expected(t: float) -> tuple[Status, frozenset[Status]]:
        if t < start:
            return before, frozenset({before})
        if t <= end:
            return after, frozenset({before, after})
        return after, frozenset({after})

    return expected


def run(args: argparse.Namespace) -> int:
    intervals = args.interval or [1.0, 5.0]
    broker = None
    bootstrap = args.bootstrap_servers
    if not args.no_broker:
        from collectors.devtools import kafka_local

        port = kafka_local.free_port()
        data_dir = Path(tempfile.mkdtemp(prefix="lagwatch-bench-status-"))
        state, _ = kafka_local.start(port, data_dir, timeout_s=180, progress=lambda _m: None)
        broker = (port, data_dir)
        bootstrap = state.bootstrap
    try:
        results = [_run_once(bootstrap, interval, args) for interval in intervals]
    finally:
        if broker is not None:
            from collectors.devtools import kafka_local

            kafka_local.stop(*broker)
    report = "\n\n".join(r.text for r in results)
    print(report)
    if not args.no_write:
        write_section("status", _section(results, args))
    return 0 if all(r.passed for r in results) else 1


@dataclass
class RunResult:
    interval: float
    observations: int
    agree: int
    healthy_pages: int
    detections: dict[str, float | None]
    threshold: float
    matrix: Counter
    text: str = ""

    @property
    def agreement(self) -> float:
        return self.agree / self.observations if self.observations else 0.0

    @property
    def passed(self) -> bool:
        limit = self.threshold + 2 * self.interval
        detected = all(d is not None and d <= limit for d in self.detections.values())
        return self.agreement >= 0.99 and self.healthy_pages == 0 and detected


def _plans(prefix: str, args: argparse.Namespace, interval: float) -> list[Plan]:
    plans: list[Plan] = []

    def add(behaviour: str, count: int, **kw) -> None:
        for i in range(count):
            name = f"{prefix}{behaviour}-{i}"
            plans.append(Plan(behaviour, f"{name}-g", f"{name}-t", **kw))

    for behaviour in HEALTHY:
        add(behaviour, 6 if behaviour == "fast" else 5, expected=_always(Status.OK))
    w = args.status_window
    add("falling-behind", 4, rate=50.0, expected=_change(Status.OK, Status.WARN, w / 4, w))
    limit = args.stall_floor + 2 * interval + 1.0  # + the last commit's age (0.5 s period)
    stuck = (args.stuck_at + args.stall_floor - 1.0, args.stuck_at + limit)
    add("stalled", 4, expected=_change(Status.OK, Status.STALL, *stuck))
    add("stopped", 4, expected=_change(Status.OK, Status.STOPPED, *stuck))
    add("idle", 3, rate=0.0, expected=_change(Status.OK, Status.IDLE, 0, 2 * interval))
    add(
        "idle-transactional", 2, rate=0.0, expected=_change(Status.OK, Status.IDLE, 0, 2 * interval)
    )
    add("replaying", 3, expected=None)
    add("recreated-topic", 2, rate=0.0, expected=_always(Status.STOPPED))
    return plans


def _replay_expectation(
    rewind_at: float, back_at: Callable[[], float | None], interval: float
) -> Callable[[float], tuple[Status, frozenset[Status]]]:
    both = frozenset({Status.OK, Status.REWIND})

    def expected(t: float) -> tuple[Status, frozenset[Status]]:
        back = back_at()
        if t < rewind_at:
            return Status.OK, frozenset({Status.OK})
        if t <= rewind_at + interval + 1.0:
            return Status.REWIND, both
        if back is None or t < back:
            return Status.REWIND, frozenset({Status.REWIND})
        if t <= back + interval + 1.0:
            return Status.OK, both
        return Status.OK, frozenset({Status.OK})

    return expected


def _run_once(bootstrap: str, interval: float, args: argparse.Namespace) -> RunResult:
    prefix = f"bs-{uuid.uuid4().hex[:6]}-"
    plans = _plans(prefix, args, interval)
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 2})
    topics = [NewTopic(p.topic, num_partitions=1, replication_factor=1) for p in plans]
    for future in admin.create_topics(topics).values():
        future.result(60)
    world = _World(bootstrap, plans, args, interval)
    try:
        world.setup()
        settings = load_settings(
            env={},
            overrides={
                "clusters.bootstrap_servers": bootstrap,
                "clusters.include": [f"{prefix}.*"],
                "clusters.read_committed_groups": [f"{prefix}idle-transactional.*"],
                "collector.interval_s": interval,
                "collector.status_window_s": args.status_window,
                "collector.stall_floor_s": args.stall_floor,
            },
        )
        service = build_service(settings)
        t0 = time.monotonic()
        world.start(t0)
        for plan in plans:
            if plan.behaviour == "replaying":
                plan.expected = _replay_expectation(
                    args.rewind_at, world.replay_back_at(plan.group), interval
                )
        rows: list[tuple[float, Plan, Status]] = []
        by_group = {p.group: p for p in plans}
        next_at = t0
        while (now := time.monotonic()) - t0 < args.duration:
            snap = service.run_cycle()
            t = time.monotonic() - t0
            for g in snap.groups:
                if g.group in by_group:
                    rows.append((t, by_group[g.group], g.lag.status))
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        del now
        service.stop()  # no threads were started: closes the clusters' clients
    finally:
        world.stop()
        admin.delete_topics([p.topic for p in plans])
    return _score(rows, plans, interval, args)


def _score(
    rows: list[tuple[float, Plan, Status]],
    plans: list[Plan],
    interval: float,
    args: argparse.Namespace,
) -> RunResult:
    matrix: Counter = Counter()
    agree = 0
    healthy_pages = 0
    paging = {Status.STALL, Status.STOPPED, Status.WARN}
    detections: dict[str, float | None] = {
        p.group: None for p in plans if p.behaviour in ("stalled", "stopped")
    }
    by_behaviour: dict[str, Counter] = {}
    for t, plan, reported in rows:
        primary, accepted = plan.expected(t)
        matrix[(primary, reported)] += 1
        ok = reported in accepted
        agree += ok
        by_behaviour.setdefault(plan.behaviour, Counter())[ok] += 1
        if plan.behaviour in HEALTHY and reported in paging:
            healthy_pages += 1
        if (
            plan.group in detections
            and detections[plan.group] is None
            and t >= args.stuck_at
            and reported in (Status.STALL, Status.STOPPED)
        ):
            detections[plan.group] = t - args.stuck_at
    result = RunResult(
        interval, len(rows), agree, healthy_pages, detections, args.stall_floor, matrix
    )
    result.text = _text(result, by_behaviour, len(plans), args)
    return result


def _text(r: RunResult, by_behaviour: dict[str, Counter], consumers: int, args) -> str:
    statuses = [s for s in Status if any(s in key for key in r.matrix)]
    head = "| expected \\ reported | " + " | ".join(s.value for s in statuses) + " |"
    lines = [
        f"### interval_s = {r.interval:g}",
        "",
        f"{consumers} synthetic consumers, {args.duration:g} s, {r.observations} observations "
        f"(group status per cycle): **{r.agreement:.2%} agree**; STALL/STOPPED/WARN on a "
        f"healthy consumer: **{r.healthy_pages}**.",
        "",
        head,
        "|" + "---|" * (len(statuses) + 1),
    ]
    for expected in statuses:
        counts = [r.matrix.get((expected, s), 0) for s in statuses]
        if sum(counts):
            lines.append(f"| {expected.value} | " + " | ".join(str(c) for c in counts) + " |")
    lines += ["", "| behaviour | observations | agree |", "|---|---|---|"]
    for behaviour, counts in by_behaviour.items():
        total = counts[True] + counts[False]
        lines.append(f"| {behaviour} | {total} | {counts[True] / total:.1%} |")
    limit = r.threshold + 2 * r.interval
    delays = ", ".join("not detected" if d is None else f"{d:.1f} s" for d in r.detections.values())
    lines += [
        "",
        f"Stuck consumers detected after (from the moment they stopped): {delays}; "
        f"threshold {r.threshold:g} s + 2 intervals = {limit:g} s.",
        f"Verdict: {'PASS' if r.passed else 'FAIL'} (targets: >= 99% agree, 0 pages on healthy "
        "consumers, every stuck consumer within threshold + 2 intervals).",
    ]
    return "\n".join(lines)


def _section(results: list[RunResult], args) -> str:
    return (
        "## Status accuracy (`lagwatch bench status`)\n\n"
        "Synthetic consumers with known behaviours on a local single-node broker, an "
        f"in-process collector (status_window_s {args.status_window:g}, stall_floor_s "
        f"{args.stall_floor:g}); every cycle's group status compared with the expected one "
        "(within a judging band around each change, both the old and the new status "
        "agree; see `collectors/devtools/bench_status.py`).\n\n"
        + "\n\n".join(r.text for r in results)
    )


class _World:
    """Producers, consumers and committers acting out the plans (threads)."""

    def __init__(self, bootstrap: str, plans: list[Plan], args, interval: float) -> None:
        self.bootstrap = bootstrap
        self.plans = plans
        self.args = args
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.t0 = 0.0
        self.back_at: dict[str, float] = {}
        self.producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "log_level": 2})

    def _consumer(self, group: str, **extra) -> Consumer:
        return Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 10000,
                "heartbeat.interval.ms": 1000,
                "max.poll.interval.ms": 3600000,
                "queued.max.messages.kbytes": 1024,
                "fetch.wait.max.ms": 100,
                "log_level": 2,
                **extra,
            }
        )

    def _commit(self, group: str, topic: str, offset: int) -> None:
        c = self._consumer(group)
        try:
            c.commit(offsets=[TopicPartition(topic, 0, offset)], asynchronous=False)
        finally:
            c.close()

    def _last_record(self, topic: str) -> int:
        """Offset of the last data record (read to the end, as a consumer would)."""
        c = self._consumer(f"{topic}-probe", **{"enable.partition.eof": True})
        last = -1
        try:
            c.assign([TopicPartition(topic, 0, 0)])
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                m = c.poll(0.5)
                if m is None:
                    continue
                if m.error() is None:
                    last = m.offset()
                elif m.error().code() == KafkaError._PARTITION_EOF:
                    break
            return last
        finally:
            c.close()

    def setup(self) -> None:
        for plan in self.plans:
            if plan.behaviour == "idle":
                self._produce(plan.topic, 100)
                self._commit(plan.group, plan.topic, 100)
            elif plan.behaviour == "recreated-topic":
                self._produce(plan.topic, 10)
                self._commit(plan.group, plan.topic, 500)  # as after a recreate/truncate
            elif plan.behaviour == "replaying":
                self._produce(plan.topic, 2000)
                self._commit(plan.group, plan.topic, 2000)
            elif plan.behaviour == "idle-transactional":
                tx = Producer(
                    {
                        "bootstrap.servers": self.bootstrap,
                        "transactional.id": f"{plan.topic}-tx",
                        "log_level": 2,
                    }
                )
                tx.init_transactions(30)
                for _ in range(5):
                    tx.begin_transaction()
                    for _ in range(10):
                        tx.produce(plan.topic, b"event", partition=0)
                    tx.commit_transaction(30)
                # Consumed everything: the committed offset is the last record + 1, and
                # the last transaction's commit marker sits there.
                self._commit(plan.group, plan.topic, self._last_record(plan.topic) + 1)
        self.producer.flush(30)
        live = [p for p in self.plans if p.behaviour in HEALTHY or p.behaviour in _REAL]
        self._traffic_thread()
        warmed: dict[str, threading.Event] = {}
        for plan in live:
            warmed[plan.group] = threading.Event()
            self._spawn(self._real_consumer, plan, warmed[plan.group])
        deadline = time.monotonic() + 120
        for event in warmed.values():
            event.wait(max(0.0, deadline - time.monotonic()))

    def _produce(self, topic: str, count: int) -> None:
        for _ in range(count):
            self.producer.produce(topic, b"event", partition=0)
        self.producer.flush(30)

    def start(self, t0: float) -> None:
        self.t0 = t0
        for plan in self.plans:
            if plan.behaviour == "replaying":
                self._spawn(self._replayer, plan, None)

    def replay_back_at(self, group: str) -> Callable[[], float | None]:
        return lambda: self.back_at.get(group)

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(30)
        self.producer.flush(10)

    def _spawn(self, target, plan, event) -> None:
        thread = threading.Thread(target=target, args=(plan, event), daemon=True)
        thread.start()
        self.threads.append(thread)

    def _traffic_thread(self) -> None:
        def produce(_plan, _event) -> None:
            owed = dict.fromkeys((p.topic for p in self.plans if p.rate > 0), 0.0)
            rates = {p.topic: p.rate for p in self.plans if p.rate > 0}
            last = time.monotonic()
            while not self.stop_event.wait(0.05):
                now = time.monotonic()
                for topic, rate in rates.items():
                    owed[topic] += rate * (now - last)
                    whole = int(owed[topic])
                    owed[topic] -= whole
                    for _ in range(whole):
                        self.producer.produce(topic, b"event", partition=0)
                self.producer.poll(0)
                last = now

        self._spawn(produce, None, None)

    def _real_consumer(self, plan: Plan, warmed: threading.Event) -> None:
        every = HEALTHY.get(plan.behaviour, 5.0 if plan.behaviour == "falling-behind" else 0.5)
        consumer = self._consumer(plan.group)
        consumer.subscribe([plan.topic])
        position: int | None = None
        committed: int | None = None
        last_commit = time.monotonic()
        tokens, last = 0.0, time.monotonic()
        try:
            while not self.stop_event.is_set():
                now = time.monotonic()
                since = now - self.t0 if self.t0 else -1.0
                if plan.behaviour in ("stalled", "stopped") and since >= self.args.stuck_at:
                    if plan.behaviour == "stopped":
                        return  # closes: the member leaves
                    self.stop_event.wait(0.2)  # stops polling: the member stays
                    continue
                budget = 500
                if plan.behaviour == "falling-behind" and self.t0:
                    tokens = min(tokens + 40.0 * (now - last), 40.0)
                    budget = int(tokens)
                    if budget <= 0:
                        last = now
                        self.stop_event.wait(0.05)
                        continue
                last = now
                messages = consumer.consume(num_messages=budget, timeout=0.2)
                for m in messages:
                    if m.error() is None:
                        position = m.offset() + 1
                if plan.behaviour == "falling-behind" and self.t0:
                    tokens -= len(messages)
                if (
                    position is not None
                    and position != committed
                    and time.monotonic() - last_commit >= every
                ):
                    consumer.commit(
                        offsets=[TopicPartition(plan.topic, 0, position)], asynchronous=False
                    )
                    committed, last_commit = position, time.monotonic()
                    warmed.set()
        finally:
            consumer.close()

    def _replayer(self, plan: Plan, _event) -> None:
        """Memberless commits: follow the head; at ``rewind_at`` reset to 0 and replay at
        150 records/s back past the old offset, then follow the head again."""
        committer = self._consumer(plan.group)
        watermarks = self._consumer(f"{plan.group}-wm")
        tp = TopicPartition(plan.topic, 0)
        position = None
        target = None
        try:
            while not self.stop_event.wait(0.5):
                since = time.monotonic() - self.t0
                end = watermarks.get_watermark_offsets(tp, timeout=5)[1]
                if since < self.args.rewind_at:
                    position = end
                elif target is None:
                    target, position = position or end, 0
                else:
                    position = min(end, position + 75)
                    if position >= target and plan.group not in self.back_at:
                        self.back_at[plan.group] = since
                committer.commit(
                    offsets=[TopicPartition(plan.topic, 0, position)], asynchronous=False
                )
        finally:
            committer.close()
            watermarks.close()


_REAL = ("falling-behind", "stalled", "stopped")
