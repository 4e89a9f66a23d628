"""The ``lagwatch`` command: a thin dispatcher over per-area subcommand modules.

Each area registers its own subcommands (``register(subparsers)``). Only the area of the
command being run is imported: ``lagwatch collect --help`` loads no Kafka client, no
benchmark and no demo, and ``lagwatch --help`` lists every area from the table below.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module registering it, one-line help for the listing)
AREAS: dict[str, tuple[str, str]] = {
    "kafka": ("collectors.cli.kafka", "run a local single-node Apache Kafka (KRaft)"),
    "collect": (
        "collectors.cli.collect",
        "run the collector: lag, staleness, status → DuckDB, /metrics, /api/v1",
    ),
    "dashboard": (
        "collectors.cli.dashboard",
        "run the Streamlit dashboard over one or more collectors' APIs",
    ),
    "demo": ("collectors.cli.demo", "the demo CQRS bank: up, load, fault"),
    "bench": ("collectors.cli.bench", "run a benchmark and write docs/benchmarks.md"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; ``command`` names the area to load fully (None: all of them)."""
    parser = argparse.ArgumentParser(
        prog="lagwatch",
        description="Read-side lag and projection freshness for CQRS systems on Kafka.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, text) in AREAS.items():
        if command is None or name == command:
            importlib.import_module(module).register(sub)
        else:
            sub.add_parser(name, help=text)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in AREAS else "")
    args = parser.parse_args(argv)
    args.argv = list(argv)  # what was asked, for a command that runs itself again
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
