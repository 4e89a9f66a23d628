"""``lagwatch demo …``: the demo bank owns its subcommands (``demo_system.cli``).

The monitor only mounts them; nothing in ``demo_system`` imports ``collectors``.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from demo_system.cli import register as register_demo

    register_demo(sub)
