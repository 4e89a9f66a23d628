"""Subcommands of the ``lagwatch`` command, one module per area."""
