"""The ``lagwatch`` command: a thin dispatcher over per-area subcommand modules.

Each area registers its own subcommands (``register(subparsers)``) so that this file
stays small: kafka (local broker), collect, demo, bench, dashboard.
"""

from __future__ import annotations

import argparse
import os
import sys

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"


def add_bootstrap_option(parser: argparse.ArgumentParser) -> None:
    """Every subcommand that talks to Kafka takes --bootstrap-servers / LAGWATCH_BOOTSTRAP."""
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("LAGWATCH_BOOTSTRAP", DEFAULT_BOOTSTRAP),
        metavar="HOST:PORT[,HOST:PORT]",
        help="Kafka bootstrap servers (env LAGWATCH_BOOTSTRAP; default %(default)s)",
    )


def build_parser() -> argparse.ArgumentParser:
    from collectors.cli_commands import bench, collect, dashboard, demo, kafka

    parser = argparse.ArgumentParser(
        prog="lagwatch",
        description="Read-side lag and projection freshness for CQRS systems on Kafka.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (kafka, collect, dashboard, demo, bench):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
