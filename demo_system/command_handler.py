"""The command handler: ``bank.commands`` -> rules -> ``bank.events``, transactionally.

``python -m demo_system.command_handler --bootstrap-servers ...``

Per batch of commands, one Kafka transaction holds the events they caused (or their
rejections), follow-up commands of transfers, and the consumer offset of the commands:
all of it becomes visible to ``read_committed`` readers, or none of it does.

The write model (balances per account) is not stored anywhere else: on start, after
``init_transactions`` has fenced any previous instance and aborted its open
transaction, it is rebuilt by replaying ``bank.events`` up to the end of the log. As
the command offsets were committed in the same transactions as those events, the
rebuilt state matches exactly the commands that remain to be read.

One instance (fixed ``transactional.id``); scaling out would need the write model
rebuilt per assigned partition on every rebalance, which this demo does not do.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import ChainMap

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from demo_system import domain, process
from demo_system.topics import Names, drain, read_all_records

log = logging.getLogger("demo_system.command_handler")
BATCH = 500
PROCESS = "command-handler"


class CommandHandler:
    def __init__(self, bootstrap: str, names: Names) -> None:
        self.bootstrap = bootstrap
        self.names = names
        self.balances: dict[str, int] = {}
        self.in_flight: dict[str, int] = {}  # transfers debited, not yet credited/refunded
        self._window = (0, 0, 0.0, time.monotonic())
        self.producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "transactional.id": f"{names.handler_group}-0",
                "linger.ms": 2,
                # right after a commit the coordinator answers the next transaction's
                # AddOffsetsToTxn with CONCURRENT_TRANSACTIONS until the markers are
                # written; the default 100 ms retry backoff cost ~50 ms per transaction
                "retry.backoff.ms": 5,
            }
        )
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": names.handler_group,
                "group.instance.id": f"{names.handler_group}-0",
                "session.timeout.ms": 10000,
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "fetch.wait.max.ms": 20,
            }
        )

    def start(self) -> None:
        self.producer.init_transactions(30)
        records = read_all_records(self.bootstrap, self.names.events)
        events = _well_formed(records)
        self.balances = domain.replay(events)
        self.in_flight = domain.replay_in_flight(events)
        log.info("write model rebuilt: %d accounts", len(self.balances))
        self.consumer.subscribe([self.names.commands])

    def run(self, stop: threading.Event) -> None:
        self.start()
        try:
            while not stop.is_set():
                self.step()
        finally:
            self.consumer.close()

    def step(self) -> int:
        """Handle one batch of commands in one transaction; returns its size."""
        messages = [m for m in drain(self.consumer, BATCH, timeout_s=0.1) if _ok(m)]
        if not messages:
            return 0
        started = time.monotonic()
        changes: dict[str, int] = {}
        state = ChainMap(changes, self.balances)  # uncommitted view for this batch
        flight_changes: dict[str, int] = {}
        flight = ChainMap(flight_changes, self.in_flight)
        self.producer.begin_transaction()
        try:
            for message in messages:
                self._handle(message, state, flight)
            positions = {m.partition(): m.offset() + 1 for m in messages}
            offsets = [TopicPartition(self.names.commands, p, o) for p, o in positions.items()]
            self.producer.send_offsets_to_transaction(
                offsets, self.consumer.consumer_group_metadata(), 30
            )
            self.producer.commit_transaction(30)
        except KafkaException as error:
            if error.args[0].txn_requires_abort():
                self._abort_and_rewind(messages)
                return 0
            raise  # fatal (e.g. fenced by a newer instance): exit, get restarted
        self.balances.update(changes)
        self.in_flight.update(flight_changes)
        self._stats(len(messages), time.monotonic() - started)
        return len(messages)

    def _stats(self, size: int, seconds: float) -> None:
        """Log batches, commands and mean transaction time every 10 s."""
        batches, commands, busy, since = self._window
        batches, commands, busy = batches + 1, commands + size, busy + seconds
        if time.monotonic() - since >= 10:
            log.info(
                "%d commands in %d transactions (mean %.0f ms, %.0f commands each)",
                commands, batches, 1000 * busy / batches, commands / batches,
            )  # fmt: skip
            batches, commands, busy, since = 0, 0, 0.0, time.monotonic()
        self._window = (batches, commands, busy, since)

    def _handle(self, message: Message, state: ChainMap, flight: ChainMap) -> None:
        now_ms = time.time_ns() // 1_000_000
        try:
            command = domain.decode_command(message.value())
            outcome = domain.decide(state, command, now_ms, flight)
        except ValueError as error:
            outcome = domain.reject({"account_id": _key(message)}, str(error), now_ms)
        except (KeyError, TypeError) as error:  # e.g. an internal command missing a field
            outcome = domain.reject(command, f"malformed command: {error!r}", now_ms)
        for event in outcome.events:
            domain.apply(state, event)
            domain.apply_in_flight(flight, event)
            self.producer.produce(
                self.names.events, key=event["account_id"].encode(), value=domain.encode(event)
            )
        for follow_up in outcome.commands:
            self.producer.produce(
                self.names.commands,
                key=follow_up["account_id"].encode(),
                value=domain.encode(follow_up),
            )
        self.producer.poll(0)

    def _abort_and_rewind(self, messages: list[Message]) -> None:
        log.warning("transaction aborted; re-reading the batch")
        self.producer.abort_transaction(30)
        first: dict[int, TopicPartition] = {}
        for m in messages:
            first.setdefault(m.partition(), TopicPartition(m.topic(), m.partition(), m.offset()))
        for tp in first.values():
            self.consumer.seek(tp)


def _well_formed(records: list) -> list[dict]:
    """The events the write model wrote; malformed records (poison) are not its own."""
    events = []
    for record in records:
        try:
            events.append(domain.parse_event(record.value()))
        except domain.MalformedEvent:
            continue
    return events


def _ok(message: Message) -> bool:
    if message.error():
        if message.error().code() != KafkaError._PARTITION_EOF:
            log.warning("consume error: %s", message.error())
        return False
    return True


def _key(message: Message) -> str:
    return (message.key() or b"").decode(errors="replace")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s handler %(message)s")
    args, names = process.start(__doc__.splitlines()[0], PROCESS, argv)
    return process.run_until_signalled(CommandHandler(args.bootstrap_servers, names).run)


if __name__ == "__main__":
    sys.exit(main())
