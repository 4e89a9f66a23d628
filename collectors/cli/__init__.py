"""The ``lagwatch`` command: ``main`` dispatches to one module per subcommand area."""

from collectors.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
