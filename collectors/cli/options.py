"""Options shared by the ``lagwatch`` subcommands that talk to Kafka."""

from __future__ import annotations

import argparse
import os

from collectors.defaults import DEFAULT_BOOTSTRAP


def add_bootstrap_option(parser: argparse.ArgumentParser) -> None:
    """Every subcommand that talks to Kafka takes --bootstrap-servers / LAGWATCH_BOOTSTRAP."""
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("LAGWATCH_BOOTSTRAP", DEFAULT_BOOTSTRAP),
        metavar="HOST:PORT[,HOST:PORT]",
        help="Kafka bootstrap servers (env LAGWATCH_BOOTSTRAP; default %(default)s)",
    )
