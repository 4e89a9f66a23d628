"""``lagwatch demo up|load|fault``: run the demo CQRS bank, drive it, break it.

Every subcommand takes ``--bootstrap-servers`` (env ``LAGWATCH_BOOTSTRAP``), ``--prefix``
(topic/group name prefix) and ``--data-dir`` (read models, pid and control files).
``lagwatch`` mounts this tree with ``register``; ``python -m demo_system.cli`` runs it
on its own (``python -m demo_system.cli up ...``).

``demo up`` runs the supervisor and its control API (``--control-port``, default 8003);
``demo fault`` asks that API (``--control-url``), so a fault reaches the process the
supervisor is running, never a stale pid.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading

DEFAULT_CONTROL_PORT = 8003
DEFAULT_CONTROL_URL = f"http://127.0.0.1:{DEFAULT_CONTROL_PORT}"


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="the demo CQRS bank: up, load, fault")
    add_actions(demo)


def add_actions(demo: argparse.ArgumentParser) -> None:
    from demo_system.topics import PROJECTIONS, add_common_args

    actions = demo.add_subparsers(dest="action", metavar="ACTION", required=True)

    up = actions.add_parser("up", help="run every demo process under a restarting supervisor")
    add_common_args(up)
    up.add_argument("--host", default="127.0.0.1", help="bind address of every HTTP API")
    up.add_argument("--api-port", type=int, default=8001)
    up.add_argument("--query-port", type=int, default=8002)
    up.add_argument(
        "--control-port", type=int, default=DEFAULT_CONTROL_PORT,
        help="port of the control API (faults, load) served by the supervisor",
    )  # fmt: skip
    up.set_defaults(handler=_up)

    load = actions.add_parser("load", help="drive realistic traffic through the command API")
    add_common_args(load)
    load.add_argument("--rate", type=float, default=100.0, help="commands per second")
    load.add_argument("--duration", type=float, default=60.0, help="seconds")
    load.add_argument("--accounts", type=int, default=100)
    load.add_argument("--command-api", default="http://127.0.0.1:8001")
    load.add_argument("--seed", type=int, default=None)
    load.set_defaults(handler=_load)

    fault = actions.add_parser("fault", help="inject a fault through the demo supervisor")
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
        cmd.add_argument(
            "--control-url",
            default=os.environ.get("LAGWATCH_DEMO_CONTROL", DEFAULT_CONTROL_URL),
            help="the supervisor's control API (env LAGWATCH_DEMO_CONTROL; default %(default)s)",
        )  # fmt: skip
        if name == "slow":
            cmd.add_argument("ms", type=int, metavar="MS")
        # poison goes to bank.events, which every projection reads: no --projection
        if name != "poison":
            cmd.add_argument("--projection", choices=PROJECTIONS, required=True)
        if name == "rebalance":
            cmd.add_argument("--seconds", type=float, default=10.0)
        cmd.set_defaults(handler=_fault)


def _up(args: argparse.Namespace) -> int:
    import uvicorn

    from demo_system.control_api import DemoControl, create_app
    from demo_system.supervisor import Supervisor, demo_children
    from demo_system.topics import Names, ensure_topics

    try:  # bind first: a taken port is a clear error, not a supervisor without control
        control_socket = socket.create_server((args.host, args.control_port))
    except OSError as error:
        print(
            f"lagwatch demo up: cannot listen on {args.host}:{args.control_port} for the "
            f"control API ({error}); pass another --control-port",
            file=sys.stderr,
        )
        return 2
    names = Names(args.prefix)
    ensure_topics(args.bootstrap_servers, names, args.partitions)
    children = demo_children(
        args.bootstrap_servers, args.prefix, args.data_dir, args.partitions,
        args.api_port, args.query_port, args.host,
    )  # fmt: skip
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    supervisor = Supervisor(children, args.data_dir / "logs", say=lambda m: print(m, flush=True))
    local = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    command_api = f"http://{local}:{args.api_port}"
    query_api = f"http://{local}:{args.query_port}"
    control = DemoControl(
        supervisor, args.bootstrap_servers, names, args.data_dir, command_api, query_api
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(control), log_level="warning", access_log=False)
    )
    # run off the main thread, uvicorn leaves SIGTERM/SIGINT to the supervisor
    serving = threading.Thread(
        target=server.run, kwargs={"sockets": [control_socket]}, name="control-api", daemon=True
    )
    serving.start()
    print(
        f"demo up: command API {command_api}, query API {query_api}, "
        f"control API http://{local}:{args.control_port}, logs {args.data_dir}/logs",
        flush=True,
    )
    try:
        supervisor.run(stop)
    finally:
        control.load.stop()
        server.should_exit = True
        serving.join(10)
    return 0


def _load(args: argparse.Namespace) -> int:
    from demo_system.load import run_load

    try:
        result = run_load(args.command_api, args.rate, args.duration, args.accounts, args.seed)
    except TimeoutError as error:
        print(f"lagwatch demo load: {error}; is `lagwatch demo up` running?", file=sys.stderr)
        return 1
    print(
        f"sent {result.sent} commands in {result.duration_s:.1f} s "
        f"({result.rate:.0f}/s), failed requests: {result.failed_requests}"
    )
    return 0 if result.failed_requests == 0 else 1


def _fault(args: argparse.Namespace) -> int:
    import httpx

    url = args.control_url.rstrip("/")
    if args.fault == "poison":
        path, body = "/demo/faults/poison", None
    else:
        path = f"/demo/faults/{args.projection}/{args.fault}"
        body = {"ms": args.ms} if args.fault == "slow" else None
        if args.fault == "rebalance":
            body = {"seconds": args.seconds}
    timeout = 30.0 + (args.seconds if args.fault == "rebalance" else 0.0)
    try:
        response = httpx.post(url + path, json=body, timeout=timeout)
    except httpx.HTTPError as error:
        print(
            f"lagwatch demo fault: no demo supervisor answering at {url} ({error}); "
            "start one with `lagwatch demo up`, or pass --control-url "
            "(env LAGWATCH_DEMO_CONTROL) if it listens elsewhere",
            file=sys.stderr,
        )
        return 1
    try:
        answer = response.json()
    except ValueError:
        answer = {"error": response.text[:200]}
    if response.status_code != 200 or not answer.get("ok"):
        error = answer.get("error") or answer.get("message")
        print(f"lagwatch demo fault {args.fault}: {error}", file=sys.stderr)
        return 1
    print(answer["message"])
    if answer.get("in_effect"):
        print("in effect")
        return 0
    print("not in effect yet", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    """``python -m demo_system.cli up|load|fault ...`` (same as ``lagwatch demo ...``)."""
    parser = argparse.ArgumentParser(prog="lagwatch demo", description=__doc__.splitlines()[0])
    add_actions(parser)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
