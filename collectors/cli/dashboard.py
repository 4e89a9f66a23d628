"""``lagwatch dashboard``: the Streamlit dashboard (``dashboard.launch``), headless.

The dashboard reads only the collectors' HTTP APIs; this subcommand only starts it.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "dashboard",
        help="run the Streamlit dashboard over one or more collectors' APIs",
        description="Run the lagwatch dashboard (Streamlit, headless, no usage statistics).",
    )
    cmd.add_argument(
        "--collector", action="append", metavar="URL",
        help="collector API (repeat for several; default http://127.0.0.1:9477)",
    )  # fmt: skip
    cmd.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    cmd.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    cmd.add_argument(
        "--demo-control", default=None, metavar="URL",
        help="demo control API; the Demo page shows while it answers "
        "(default http://127.0.0.1:8003)",
    )  # fmt: skip
    cmd.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from dashboard import launch

    argv = ["--host", args.host, "--port", str(args.port)]
    for url in args.collector or ():
        argv += ["--collector", url]
    if args.demo_control:
        argv += ["--demo-control", args.demo_control]
    return launch.main(argv)
