"""A projection process: ``bank.events`` -> one SQLite read model.

``python -m demo_system.projections --name balances|activity --bootstrap-servers ...``

Exactly-once into the database, without Kafka transactions on the read side:

1. the consumer reads ``read_committed`` (no event of an aborted handler transaction);
2. on every (re)assignment it seeks each partition to the checkpoint stored in the
   database, not to the group's committed offset;
3. a batch of events, the dead letters and the checkpoint commit in one SQLite
   transaction;
4. only then is the offset committed to Kafka (asynchronously) so that the group's
   progress is visible to lagwatch. Kafka's committed offset may trail the database
   after a crash; it is never trusted for resuming.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

from demo_system import faults, process
from demo_system.read_model import DeadLetter, ReadModel, Record, db_path
from demo_system.topics import PROJECTIONS, Names, drain

log = logging.getLogger("demo_system.projections")
BATCH = 1000


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

    def run(self, stop: threading.Event) -> None:
        self.consumer.subscribe([self.names.events], on_assign=self._on_assign)
        try:
            while not stop.is_set():
                self.step()
        finally:
            self.consumer.close()
            self.producer.flush(5)
            self.model.close()

    def step(self) -> int:
        """One poll-apply-commit round; returns how many records it applied."""
        self.control.refresh()
        self._follow_pause()
        if self.control.changed:
            self.control.changed = False
            self.control.acknowledge()
        slow_ms = self.control.slow_ms
        messages = drain(self.consumer, 1 if slow_ms else BATCH, timeout_s=0.1)
        records = []
        for message in messages:
            if message.error():
                if message.error().code() != KafkaError._PARTITION_EOF:
                    log.warning("consume error: %s", message.error())
                continue
            _, ts = message.timestamp()
            records.append(Record(message.partition(), message.offset(), ts, message.value()))
        if not records:
            return 0
        if slow_ms:
            time.sleep(slow_ms * len(records) / 1000)
        self.model.apply_batch(records, _now_ms, before_commit=self._dead_letter)
        latest = {r.partition: r.offset + 1 for r in records}
        offsets = [TopicPartition(self.names.events, p, o) for p, o in latest.items()]
        self.consumer.commit(offsets=offsets, asynchronous=True)
        return len(records)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        checkpoints = self.model.checkpoints()
        for tp in partitions:
            tp.offset = checkpoints.get(tp.partition, OFFSET_BEGINNING)
        consumer.assign(partitions)
        if self._paused:
            consumer.pause(partitions)
        log.info("%s assigned %s", self.name, {tp.partition: tp.offset for tp in partitions})

    def _follow_pause(self) -> None:
        wanted = self.control.paused
        if wanted != self._paused:
            self._paused = wanted
            assignment = self.consumer.assignment()
            (self.consumer.pause if wanted else self.consumer.resume)(assignment)
            log.info("%s %s", self.name, "paused" if wanted else "resumed")

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
            raise RuntimeError("dead letters not delivered within 10 s")


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
