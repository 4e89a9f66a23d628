"""``lagwatch demo up|load|fault``: run the demo CQRS bank, drive it, break it.

Every subcommand takes ``--bootstrap-servers`` (env ``LAGWATCH_BOOTSTRAP``), ``--prefix``
(topic/group name prefix) and ``--data-dir`` (read models, pid and control files).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading


def register(sub: argparse._SubParsersAction) -> None:
    from demo_system.topics import PROJECTIONS, add_common_args

    demo = sub.add_parser("demo", help="the demo CQRS bank: up, load, fault")
    actions = demo.add_subparsers(dest="action", metavar="ACTION", required=True)

    up = actions.add_parser("up", help="run every demo process under a restarting supervisor")
    add_common_args(up)
    up.add_argument("--host", default="127.0.0.1", help="bind address of both HTTP APIs")
    up.add_argument("--api-port", type=int, default=8001)
    up.add_argument("--query-port", type=int, default=8002)
    up.set_defaults(handler=_up)

    load = actions.add_parser("load", help="drive realistic traffic through the command API")
    add_common_args(load)
    load.add_argument("--rate", type=float, default=100.0, help="commands per second")
    load.add_argument("--duration", type=float, default=60.0, help="seconds")
    load.add_argument("--accounts", type=int, default=100)
    load.add_argument("--command-api", default="http://127.0.0.1:8001")
    load.add_argument("--seed", type=int, default=None)
    load.set_defaults(handler=_load)

    fault = actions.add_parser("fault", help="inject a fault into a running projection")
    kinds = fault.add_subparsers(dest="fault", metavar="FAULT", required=True)
    for name, text in (
        ("slow", "delay every event by MS milliseconds (0 = normal speed)"),
        ("pause", "stop applying events while staying in the group"),
        ("resume", "undo pause and slow"),
        ("crash", "SIGKILL the projection process (the supervisor restarts it)"),
        ("poison", "produce a malformed event to bank.events (to be dead-lettered)"),
        ("rebalance", "join the projection's group with an extra consumer for a while"),
    ):
        cmd = kinds.add_parser(name, help=text)
        add_common_args(cmd)
        if name == "slow":
            cmd.add_argument("ms", type=int, metavar="MS")
        # poison goes to bank.events, which every projection reads: --projection optional
        cmd.add_argument("--projection", choices=PROJECTIONS, required=name != "poison")
        if name == "rebalance":
            cmd.add_argument("--seconds", type=float, default=10.0)
        cmd.set_defaults(handler=_fault)


def _up(args: argparse.Namespace) -> int:
    from demo_system.supervisor import Supervisor, demo_children
    from demo_system.topics import Names, ensure_topics

    ensure_topics(args.bootstrap_servers, Names(args.prefix), args.partitions)
    children = demo_children(
        args.bootstrap_servers, args.prefix, args.data_dir, args.partitions,
        args.api_port, args.query_port, args.host,
    )  # fmt: skip
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(
        f"demo up: command API http://{args.host}:{args.api_port}, "
        f"query API http://{args.host}:{args.query_port}, logs {args.data_dir}/logs",
        flush=True,
    )
    Supervisor(children, args.data_dir / "logs", say=lambda m: print(m, flush=True)).run(stop)
    return 0


def _load(args: argparse.Namespace) -> int:
    from demo_system.load import run_load

    result = run_load(args.command_api, args.rate, args.duration, args.accounts, args.seed)
    print(
        f"sent {result.sent} commands in {result.duration_s:.1f} s "
        f"({result.rate:.0f}/s), failed requests: {result.failed_requests}"
    )
    return 0 if result.failed_requests == 0 else 1


def _fault(args: argparse.Namespace) -> int:
    from demo_system import faults
    from demo_system.topics import Names

    names = Names(args.prefix)
    process = faults.process_name(getattr(args, "projection", "") or "")
    if args.fault == "slow":
        print(faults.set_control(args.data_dir, process, slow_ms=args.ms))
    elif args.fault == "pause":
        print(faults.set_control(args.data_dir, process, paused=True))
    elif args.fault == "resume":
        print(faults.set_control(args.data_dir, process, paused=False, slow_ms=0))
    if args.fault in ("slow", "pause", "resume"):
        applied = faults.wait_acknowledged(args.data_dir, process, timeout_s=10)
        print("in effect" if applied else "not acknowledged within 10 s (is it running?)")
    if args.fault == "crash":
        try:
            print(f"killed {process} (pid {faults.crash(args.data_dir, process)})")
        except (ProcessLookupError, PermissionError) as error:
            print(f"lagwatch demo fault crash: {error}", file=sys.stderr)
            return 1
    elif args.fault == "poison":
        faults.poison(args.bootstrap_servers, names)
        print(f"poison record produced to {names.events}")
    elif args.fault == "rebalance":
        taken = faults.rebalance(args.bootstrap_servers, names, args.projection, args.seconds)
        print(f"extra consumer held {taken} partition(s) for {args.seconds:.0f} s and left")
    return 0
