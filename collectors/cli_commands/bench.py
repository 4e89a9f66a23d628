"""``lagwatch bench``: not built yet."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("bench", help="(not built yet)")
    cmd.set_defaults(handler=_todo)


def _todo(args: argparse.Namespace) -> int:
    print("lagwatch bench: not built yet", file=sys.stderr)
    return 2
