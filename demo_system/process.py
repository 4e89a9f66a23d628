"""What every demo process does on start: parse the common flags, make sure the topics
exist, write its pid file (how faults find it); and the two ways it then runs."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable

import uvicorn

from demo_system import faults
from demo_system.topics import Names, add_common_args, ensure_topics


def start(
    description: str,
    process: str | Callable[[argparse.Namespace], str],
    argv: list[str] | None,
    extra: Callable[[argparse.ArgumentParser], None] | None = None,
) -> tuple[argparse.Namespace, Names]:
    """Parse ``--bootstrap-servers/--prefix/--data-dir/--partitions`` (plus ``extra``),
    ensure the topics and write the pid file of ``process`` (a name, or one derived from
    the parsed arguments)."""
    parser = argparse.ArgumentParser(description=description)
    if extra is not None:
        extra(parser)
    add_common_args(parser)
    args = parser.parse_args(argv)
    names = Names(args.prefix)
    ensure_topics(args.bootstrap_servers, names, args.partitions)
    faults.write_pid(args.data_dir, process(args) if callable(process) else process)
    return args, names


def http_options(default_port: int) -> Callable[[argparse.ArgumentParser], None]:
    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=default_port)

    return add


def serve(app, args: argparse.Namespace) -> int:
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def run_until_signalled(run: Callable[[threading.Event], None]) -> int:
    """Run ``run(stop)`` until SIGTERM or SIGINT sets ``stop``."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run(stop)
    return 0
