"""Read-your-writes probes, pure: templates, answers, outcomes, per-probe statistics.

A probe sends a real command (a request with a fresh unique id) and then reads the
query side every check interval until the effect shows, or until its timeout. The HTTP
work is ``collectors.probing``; everything decided about the answers is here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from collectors.core.visibility import CurvePoint, LatencyStats, latency_stats, t_visibility

VISIBLE, TIMEOUT, ERROR = "visible", "timeout", "error"
OUTCOMES = (VISIBLE, TIMEOUT, ERROR)


@dataclass(frozen=True, slots=True)
class ProbeSample:
    """One finished probe. ``started_at``: the command's acceptance time when its answer
    carried one (``start_source`` "accepted"), else the time the request was sent
    ("sent"). ``visible_at``: when the answer of the first read that saw the effect
    arrived (an upper bound of the moment it became visible, so the latency is never
    below the truth). ``reason`` says what went wrong for timeout and error."""

    probe: str
    target: str
    probe_id: str
    started_at: float
    start_source: str
    visible_at: float | None
    outcome: str
    reason: str | None
    checks: int
    finished_at: float

    @property
    def latency_s(self) -> float | None:
        return None if self.visible_at is None else self.visible_at - self.started_at


def render(template: Any, probe_id: str) -> Any:
    """``template`` with every ``{id}`` in its strings replaced by ``probe_id``
    (recursively through dicts and lists; other values unchanged). Only ``{id}`` is
    special, so JSON braces elsewhere need no escaping."""
    if isinstance(template, str):
        return template.replace("{id}", probe_id)
    if isinstance(template, Mapping):
        return {render(k, probe_id): render(v, probe_id) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, probe_id) for v in template]
    return template


def field_value(body: Any, path: str) -> tuple[bool, Any]:
    """(found, value) of the dotted ``path`` (``a.b.0.c``) in a decoded JSON body."""
    current = body
    for part in path.split(".") if path else []:
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return False, None
    return True, current


def accepted_time(body: Any, field: str | None) -> float | None:
    """The acceptance time (epoch s) the command's answer carries in ``field``, or None.

    Numbers above 10^11 are read as milliseconds (the demo's ``accepted_at_ms``), others
    as seconds; a missing, non-numeric or non-finite value is None (use the send time).
    """
    if not field:
        return None
    found, value = field_value(body, field)
    if not found or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        return None
    return value / 1000.0 if value > 1e11 else value


def check_answer(
    status: int, text: str, expect_status: int, field: str | None, value: Any
) -> tuple[bool, str]:
    """Does a check answer show the effect? (visible, why not). Visible when the status
    is ``expect_status`` and, if ``field`` is given, the JSON body has ``value`` there."""
    if status != expect_status:
        return False, f"status {status}"
    if not field:
        return True, ""
    try:
        body = json.loads(text)
    except ValueError:
        return False, "answer is not JSON"
    found, got = field_value(body, field)
    if not found:
        return False, f"no field {field!r}"
    if got != value:
        return False, f"{field} = {got!r}"
    return True, ""


@dataclass(frozen=True, slots=True)
class ProbeSummary:
    """Statistics of one probe's samples (as in ``/api/v1/probes``)."""

    name: str
    target: str
    count: int
    visible: int
    failures: dict[str, int]  # by outcome other than visible ("timeout", "error")
    reasons: dict[str, int]  # by reason text
    stats: LatencyStats  # of the visible ones
    curve: list[CurvePoint]  # t-visibility; timeouts count as never visible


def summarize_probe(name: str, target: str, samples: Sequence[ProbeSample]) -> ProbeSummary:
    """Errors (the command or the reads failed: nothing learnt about visibility) are
    left out of the curve; timeouts count in it as never visible."""
    latencies = np.array(
        [s.latency_s for s in samples if s.outcome == VISIBLE and s.latency_s is not None],
        dtype=np.float64,
    )
    failures = {TIMEOUT: 0, ERROR: 0}
    reasons: dict[str, int] = {}
    for s in samples:
        if s.outcome != VISIBLE:
            failures[s.outcome] = failures.get(s.outcome, 0) + 1
            key = s.reason or s.outcome
            reasons[key] = reasons.get(key, 0) + 1
    return ProbeSummary(
        name=name,
        target=target,
        count=len(samples),
        visible=len(latencies),
        failures=failures,
        reasons=reasons,
        stats=latency_stats(latencies),
        curve=t_visibility(latencies, never_visible=failures[TIMEOUT]),
    )


def reason_kind(reason: str | None) -> str:
    """A short, bounded label for a failure reason (for metric labels): the text up to
    the first colon, e.g. ``"connect: [Errno 111] Connection refused"`` -> ``connect``."""
    if not reason:
        return "unknown"
    return reason.split(":", 1)[0].strip()[:40] or "unknown"


def group_by_probe(samples: Iterable[ProbeSample]) -> dict[str, list[ProbeSample]]:
    out: dict[str, list[ProbeSample]] = {}
    for s in samples:
        out.setdefault(s.probe, []).append(s)
    return out
