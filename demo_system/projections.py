"""A projection process: ``bank.events`` -> one SQLite read model.

``python -m demo_system.projections --name balances|activity --bootstrap-servers ...``

Exactly-once into the database, without Kafka transactions on the read side:

1. the consumer reads ``read_committed`` (no event of an aborted handler transaction);
2. on every (re)assignment it seeks each partition to the checkpoint stored in the
   database, not to the group's committed offset;
3. a batch of events, the dead letters and the checkpoint commit in one SQLite
   transaction;
4. right after every database commit the same offsets are committed to Kafka,
   synchronously, so that lagwatch sees the group's true progress: Kafka's committed
   offset trails the database by at most the batch being applied (plus one commit
   round trip). A commit that fails (rebalance, broker away) is retried on the next
   loop; after a (re)assignment the database checkpoint is committed too, so a crash
   between the two commits leaves no lasting gap. The Kafka offset is never trusted
   for resuming.

Faults change speed, never this pattern: under ``slow MS`` each event waits MS before
it is applied and batches shrink to about ``SLOW_BATCH_MS`` of waiting, so the
projection still polls (and keeps its group session) several times a second. The
control file is checked at least every ``POLL_S`` and during slow waits, so pause,
resume and slow are in effect within a fraction of a second.

An event the projection cannot apply is dead-lettered and the projection carries on
(``read_model.ReadModel.apply_batch``); an outage of its database (``failures``) is
retried with backoff, rewinding the consumer to the database checkpoint.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)

from demo_system import failures, faults, process
from demo_system.read_model import DeadLetter, ReadModel, Record, db_path
from demo_system.topics import PROJECTIONS, Names, drain

log = logging.getLogger("demo_system.projections")
BATCH = 1000
POLL_S = 0.1  # longest wait for records: how soon an idle projection sees a control change
SLOW_BATCH_MS = 250  # under slow MS, a batch holds about this much waiting (at least 1)
SLICE_S = 0.05  # slow waits are cut in slices; the control file is checked between them
MAX_BACKOFF_S = 5.0


def slow_batch_size(slow_ms: int) -> int:
    """How many events one batch takes: ``BATCH`` at full speed, else enough for about
    ``SLOW_BATCH_MS`` of slow waiting, at least one."""
    return BATCH if slow_ms <= 0 else max(1, min(BATCH, SLOW_BATCH_MS // slow_ms))


class Projection:
    def __init__(self, name: str, bootstrap: str, names: Names, data_dir: Path) -> None:
        self.name = name
        self.names = names
        self.model = ReadModel(db_path(data_dir, name), name)
        self.control = faults.Control(data_dir, faults.process_name(name))
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": names.projection_group(name),
                # static membership: a restarted process takes its partitions back at
                # once instead of waiting for the dead member's session to time out
                "group.instance.id": f"{names.projection_group(name)}-0",
                "session.timeout.ms": 10000,
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "fetch.wait.max.ms": 20,
            }
        )
        self.producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
        self._paused = False
        self._to_commit: dict[int, int] = {}  # partition -> next offset, not yet in Kafka
        self._backoff_s = 0.0
        self._stop = threading.Event()

    def run(self, stop: threading.Event) -> None:
        self._stop = stop
        self.consumer.subscribe([self.names.events], on_assign=self._on_assign)
        try:
            while not stop.is_set():
                self.step()
        finally:
            self._commit()
            self.consumer.close()
            self.producer.flush(5)
            self.model.close()

    def step(self) -> int:
        """One poll-apply-commit round; returns how many records it applied."""
        self._follow_control()
        self._commit()  # a commit that failed earlier, or the checkpoint after assignment
        slow_ms = self.control.slow_ms
        messages = drain(self.consumer, slow_batch_size(slow_ms), timeout_s=POLL_S)
        records = []
        for message in messages:
            if message.error():
                if message.error().code() != KafkaError._PARTITION_EOF:
                    log.warning("consume error: %s", message.error())
                continue
            _, ts = message.timestamp()
            records.append(Record(message.partition(), message.offset(), ts, message.value()))
        if records and self._paused:  # fetched before the pause took hold: not now
            self._rewind()
            return 0
        if records and slow_ms:
            records = self._wait_slowly(records, slow_ms)
        if not records:
            return 0
        try:
            self.model.apply_batch(records, _now_ms, before_commit=self._dead_letter)
        except Exception as error:  # an outage (or a bug): nothing dead-lettered, retry
            self._backoff_s = min(MAX_BACKOFF_S, max(0.1, self._backoff_s * 2))
            log.warning(
                "%s: batch not applied (%s: %s); retrying in %.1f s",
                self.name, type(error).__name__, error, self._backoff_s,
            )  # fmt: skip
            self._rewind()
            self._stop.wait(self._backoff_s)
            return 0
        self._backoff_s = 0.0
        checkpoints = self.model.checkpoints()
        self._to_commit.update({r.partition: checkpoints[r.partition] for r in records})
        self._commit()
        return len(records)

    def _wait_slowly(self, records: list[Record], slow_ms: int) -> list[Record]:
        """Wait ``slow_ms`` per record, watching the control file; returns the records
        whose wait completed. On a control change the rest are given back (the
        consumer is rewound to the first of them) and applied under the new settings."""
        for i in range(len(records)):
            deadline = time.monotonic() + slow_ms / 1000
            while (left := deadline - time.monotonic()) > 0:
                self._stop.wait(min(SLICE_S, left))
                self.control.refresh()
                if self.control.changed or self._stop.is_set():
                    self._seek_to_first(records[i:])
                    return records[:i]
        return records

    def _seek_to_first(self, records: list[Record]) -> None:
        first: dict[int, int] = {}
        for r in records:
            first.setdefault(r.partition, r.offset)
        for partition, offset in first.items():
            self._seek(TopicPartition(self.names.events, partition, offset))

    def _rewind(self) -> None:
        """Seek every assigned partition back to its database checkpoint."""
        checkpoints = self.model.checkpoints()
        for tp in self.consumer.assignment():
            offset = checkpoints.get(tp.partition, OFFSET_BEGINNING)
            self._seek(TopicPartition(tp.topic, tp.partition, offset))

    def _seek(self, tp: TopicPartition) -> None:
        try:
            self.consumer.seek(tp)
        except KafkaException as error:  # e.g. revoked meanwhile: assignment seeks anyway
            log.warning("%s: seek %s/%d to %d failed: %s", self.name, tp.topic,
                        tp.partition, tp.offset, error)  # fmt: skip

    def _commit(self) -> None:
        """Commit the offsets the database already holds, synchronously; on failure
        keep them (for partitions still assigned) for the next round."""
        if not self._to_commit:
            return
        offsets = [TopicPartition(self.names.events, p, o) for p, o in self._to_commit.items()]
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
            self._to_commit.clear()
        except KafkaException as error:
            mine = {tp.partition for tp in self.consumer.assignment()}
            self._to_commit = {p: o for p, o in self._to_commit.items() if p in mine}
            log.warning("%s: offset commit failed (%s); retrying", self.name, error)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        checkpoints = self.model.checkpoints()
        for tp in partitions:
            tp.offset = checkpoints.get(tp.partition, OFFSET_BEGINNING)
            if tp.partition in checkpoints:  # Kafka may trail after a crash: catch it up
                self._to_commit[tp.partition] = checkpoints[tp.partition]
        consumer.assign(partitions)
        if self._paused:
            consumer.pause(partitions)
        log.info("%s assigned %s", self.name, {tp.partition: tp.offset for tp in partitions})

    def _follow_control(self) -> None:
        """Apply a changed control file and acknowledge it (its settings now hold)."""
        self.control.refresh()
        wanted = self.control.paused
        if wanted != self._paused:
            self._paused = wanted
            assignment = self.consumer.assignment()
            (self.consumer.pause if wanted else self.consumer.resume)(assignment)
            log.info("%s %s", self.name, "paused" if wanted else "resumed")
        if self.control.changed:
            self.control.changed = False
            self.control.acknowledge()

    def _dead_letter(self, dead: list[DeadLetter]) -> None:
        """Publish dead letters before the checkpoint passes them (at least once)."""
        for letter in dead:
            record = letter.record
            headers = {
                "reason": letter.reason,
                "source": f"{self.names.events}/{record.partition}/{record.offset}",
                "projection": self.name,
            }
            self.producer.produce(self.names.dlq, value=record.value, headers=headers)
            log.warning("dead-lettered %s: %s", headers["source"], letter.reason)
        if dead and self.producer.flush(10) != 0:
            raise failures.Outage("dead letters not delivered within 10 s")


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def main(argv: list[str] | None = None) -> int:
    args, names = process.start(
        __doc__.splitlines()[0],
        lambda a: faults.process_name(a.name),
        argv,
        extra=lambda p: p.add_argument("--name", choices=PROJECTIONS, required=True),
    )
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {args.name} %(message)s")
    projection = Projection(args.name, args.bootstrap_servers, names, args.data_dir)
    return process.run_until_signalled(projection.run)


if __name__ == "__main__":
    sys.exit(main())
