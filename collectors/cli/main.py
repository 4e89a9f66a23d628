"""The ``lagwatch`` command: a thin dispatcher over per-area subcommand modules.

Each area registers its own subcommands (``register(subparsers)``) so that this file
stays small: kafka (local broker), collect, demo, bench, dashboard.
"""

from __future__ import annotations

import argparse


def build_parser() -> argparse.ArgumentParser:
    from collectors.cli import bench, collect, dashboard, demo, kafka

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
