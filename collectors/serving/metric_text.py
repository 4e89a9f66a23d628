"""Low-level helpers for the Prometheus text exposition format (version 0.0.4).

Pure string building, no I/O. The renderer in ``collectors.serving.exposition`` builds whole
families with list comprehensions over precomputed label strings; these helpers keep the
format rules (escaping, headers, number spelling) in one place.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def escape_label_value(value: str) -> str:
    """Escape a label value: backslash, double quote and line feed (in that order).

    Most values (group and topic names) need nothing, so the common case only pays
    for three ``in`` checks.
    """
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if '"' in value:
        value = value.replace('"', '\\"')
    if "\n" in value:
        value = value.replace("\n", "\\n")
    return value


def labels(**pairs: str | int) -> str:
    """``cluster="a",group="b"`` (without braces), values escaped, in the given order."""
    return ",".join(f'{k}="{escape_label_value(str(v))}"' for k, v in pairs.items())


def header(name: str, kind: str, help_text: str) -> str:
    """``# HELP`` and ``# TYPE`` lines; HELP escapes backslash and line feed."""
    help_text = help_text.replace("\\", "\\\\").replace("\n", "\\n")
    return f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n"


def format_le(bound: float) -> str:
    """A histogram bucket bound spelled the way Prometheus spells it (``+Inf``, ``0.5``)."""
    if math.isinf(bound):
        return "+Inf" if bound > 0 else "-Inf"
    return repr(float(bound))


def gauge_family(
    name: str,
    help_text: str,
    rows: Iterable[tuple[str, T]],
    get: Callable[[T], float | int | None],
    kind: str = "gauge",
) -> str:
    """One family: header plus ``name{labels} value`` for every row whose value is not None.

    ``rows`` pairs a precomputed label string (no braces) with the object ``get`` reads.
    Values are spelled with Python's ``str``/``repr`` (``1.5``, ``1e-05``, ``inf``,
    ``nan``), which both Prometheus and prometheus_client's parser accept. Booleans must
    be converted by ``get`` (``True`` would otherwise print as ``True``).
    """
    lines = [f"{name}{{{lbl}}} {v}\n" for lbl, obj in rows if (v := get(obj)) is not None]
    return header(name, kind, help_text) + "".join(lines)


def one_hot_family(
    name: str,
    help_text: str,
    label_name: str,
    states: Iterable[str],
    rows: Iterable[tuple[str, str]],
) -> str:
    """One series per state and row, value 1 for the row's current state and 0 otherwise.

    ``rows`` pairs a label string (no braces) with the current state.
    """
    states = tuple(states)
    suffixes = [f',{label_name}="{escape_label_value(s)}"}} ' for s in states]
    lines: list[str] = []
    for lbl, current in rows:
        prefix = f"{name}{{{lbl}"
        lines.extend(
            f"{prefix}{suffix}{1 if state == current else 0}\n"
            for state, suffix in zip(states, suffixes, strict=True)
        )
    return header(name, "gauge", help_text) + "".join(lines)
