"""``lagwatch demo``: not built yet."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("demo", help="(not built yet)")
    cmd.set_defaults(handler=_todo)


def _todo(args: argparse.Namespace) -> int:
    print("lagwatch demo: not built yet", file=sys.stderr)
    return 2
