"""Topic and group names of the demo, their creation, shared CLI options, Kafka helpers.

Every name derives from one optional ``--prefix`` so that several demos (and every
integration test) can share one broker: with prefix ``t1-`` the commands topic is
``t1-bank.commands`` and the balances group ``t1-bank-balances``.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

PROJECTIONS = ("balances", "activity")
DEFAULT_PARTITIONS = 4
DEFAULT_DATA_DIR = Path(".lagwatch/demo")
DEFAULT_BOOTSTRAP = "127.0.0.1:9092"


@dataclass(frozen=True, slots=True)
class Names:
    prefix: str = ""

    @property
    def commands(self) -> str:
        return f"{self.prefix}bank.commands"

    @property
    def events(self) -> str:
        return f"{self.prefix}bank.events"

    @property
    def dlq(self) -> str:
        return f"{self.prefix}bank.events.dlq"

    @property
    def handler_group(self) -> str:
        return f"{self.prefix}bank-command-handler"

    def projection_group(self, projection: str) -> str:
        """``bank-balances`` or ``bank-activity`` (prefixed)."""
        return f"{self.prefix}bank-{projection}"


def ensure_topics(
    bootstrap: str, names: Names, partitions: int = DEFAULT_PARTITIONS, timeout_s: float = 30
) -> None:
    """Create the three demo topics unless they exist (idempotent, safe to race)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    wanted = (names.commands, names.events, names.dlq)
    existing = admin.list_topics(timeout=timeout_s).topics
    missing = [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in wanted]
    missing = [t for t in missing if t.topic not in existing]
    for future in admin.create_topics(missing).values() if missing else ():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as error:
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    deadline = time.monotonic() + timeout_s
    while True:  # creation is asynchronous on the broker: wait until metadata shows all
        metadata = admin.list_topics(timeout=timeout_s).topics
        if all(t in metadata and not metadata[t].error for t in wanted):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"topics {wanted} did not appear within {timeout_s} s")
        time.sleep(0.1)


def add_bootstrap_option(parser: argparse.ArgumentParser) -> None:
    """--bootstrap-servers (env LAGWATCH_BOOTSTRAP, default 127.0.0.1:9092), spelled as
    in every other ``lagwatch`` subcommand; the demo keeps its own copy so that it
    depends on no other package of the project."""
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("LAGWATCH_BOOTSTRAP", DEFAULT_BOOTSTRAP),
        metavar="HOST:PORT[,HOST:PORT]",
        help="Kafka bootstrap servers (env LAGWATCH_BOOTSTRAP; default %(default)s)",
    )


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """--bootstrap-servers, --prefix and --data-dir, shared by every demo process."""
    add_bootstrap_option(parser)
    parser.add_argument(
        "--prefix",
        default=os.environ.get("LAGWATCH_DEMO_PREFIX", ""),
        help="prefix of every topic and group name (env LAGWATCH_DEMO_PREFIX; default none)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("LAGWATCH_DEMO_DATA", DEFAULT_DATA_DIR)),
        help="read-model databases, pid and control files (default %(default)s)",
    )
    parser.add_argument("--partitions", type=int, default=DEFAULT_PARTITIONS)


def drain(consumer: Consumer, max_messages: int, timeout_s: float) -> list[Message]:
    """Up to ``max_messages`` already fetched; waits up to ``timeout_s`` only when none are.

    (``Consumer.consume(n, timeout)`` would wait for the whole timeout to fill a batch,
    adding that wait to every event's latency at low rates.)
    """
    messages = consumer.consume(max_messages, timeout=0)
    if messages:
        return messages
    first = consumer.poll(timeout_s)
    if first is None:
        return []
    return [first, *consumer.consume(max_messages - 1, timeout=0)]


def read_all_records(bootstrap: str, topic: str, timeout_s: float = 60) -> list:
    """All committed records of ``topic`` up to the end of each partition (read_committed)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "lagwatch-demo-replay",  # never commits; assign() only
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "fetch.wait.max.ms": 20,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        partitions = sorted(metadata.partitions)
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        remaining, records = set(partitions), []
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"replay of {topic} did not reach the end in {timeout_s} s")
            for message in consumer.consume(1000, timeout=0.5):
                error = message.error()
                if error is None:
                    records.append(message)
                elif error.code() == KafkaError._PARTITION_EOF:
                    remaining.discard(message.partition())
                else:
                    raise KafkaException(error)
        return records
    finally:
        consumer.close()
