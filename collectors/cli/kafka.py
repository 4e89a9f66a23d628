"""``lagwatch kafka start|stop|status``: a local single-node KRaft broker."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    from collectors.devtools import kafka_local
except ImportError:  # an installed wheel: dev tools live in a source checkout only
    kafka_local = None  # type: ignore[assignment]


def register(sub: argparse._SubParsersAction) -> None:
    kafka = sub.add_parser("kafka", help="run a local single-node Apache Kafka (KRaft)")
    if kafka_local is None:
        kafka.set_defaults(handler=_not_installed)
        return
    actions = kafka.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, handler, text in (
        ("start", _start, "start the broker in the background and wait until it answers"),
        ("stop", _stop, "stop the broker"),
        ("status", _status, "say whether the broker runs"),
        ("fetch", _fetch, "resolve the Kafka jars from Maven Central into the cache"),
    ):
        cmd = actions.add_parser(name, help=text)
        cmd.add_argument("--port", type=int, default=kafka_local.DEFAULT_PORT)
        cmd.add_argument(
            "--data-dir", type=Path, default=None, help="default: ~/.local/state/lagwatch/kafka-N"
        )
        if name == "start":
            cmd.add_argument("--timeout", type=float, default=90.0, help="readiness deadline (s)")
        cmd.set_defaults(handler=handler)


def _not_installed(_args: argparse.Namespace) -> int:
    print(
        "lagwatch kafka: the local Kafka launcher is a dev tool that ships with a source "
        "checkout only (git clone, then `make venv`); point --bootstrap-servers at your "
        "own cluster otherwise",
        file=sys.stderr,
    )
    return 2


def _fail(error: Exception) -> int:
    print(f"lagwatch kafka: {error}", file=sys.stderr)
    return 1


def _start(args: argparse.Namespace) -> int:
    try:
        state, started = kafka_local.start(
            args.port, args.data_dir, args.timeout, progress=lambda m: print(m, file=sys.stderr)
        )
    except kafka_local.KafkaLaunchError as error:
        return _fail(error)
    if started:
        print(f"Kafka {kafka_local.KAFKA_VERSION} started (pid {state.pid}, data {state.data_dir})")
    else:
        print(f"Kafka is already running (pid {state.pid}, data {state.data_dir})")
    print(state.bootstrap)
    return 0


def _stop(args: argparse.Namespace) -> int:
    try:
        stopped = kafka_local.stop(args.port, args.data_dir)
    except kafka_local.KafkaLaunchError as error:
        return _fail(error)
    print("Kafka stopped" if stopped else "Kafka was not running")
    return 0


def _status(args: argparse.Namespace) -> int:
    state = kafka_local.status(args.port, args.data_dir)
    if state.running:
        print(f"running pid={state.pid} bootstrap={state.bootstrap} data={state.data_dir}")
        return 0
    print(f"stopped bootstrap={state.bootstrap} data={state.data_dir}")
    return 3


def _fetch(args: argparse.Namespace) -> int:
    try:
        libs = kafka_local.ensure_jars(progress=lambda m: print(m, file=sys.stderr))
    except kafka_local.KafkaLaunchError as error:
        return _fail(error)
    print(libs)
    return 0
