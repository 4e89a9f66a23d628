"""Probe templates, answer checks and per-probe statistics (``core.probes``)."""

from __future__ import annotations

import pytest

from collectors.core.probes import (
    ProbeSample,
    accepted_time,
    check_answer,
    reason_kind,
    render,
    summarize_probe,
)


def test_render_replaces_id_everywhere_and_keeps_other_values() -> None:
    body = {"type": "deposit", "amount": 1, "ids": ["{id}", {"k": "x-{id}"}], "n": None}
    assert render(body, "abc") == {
        "type": "deposit", "amount": 1, "ids": ["abc", {"k": "x-abc"}], "n": None,
    }  # fmt: skip
    assert render("http://h/commands/{id}", "7") == "http://h/commands/7"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"accepted_at_ms": 1_700_000_000_123}, 1_700_000_000.123),
        ({"accepted_at_ms": 1_700_000_000.5}, 1_700_000_000.5),  # seconds
        ({"accepted_at_ms": "soon"}, None),
        ({"accepted_at_ms": True}, None),
        ({}, None),
        (None, None),
    ],
)
def test_accepted_time(body, expected) -> None:
    got = accepted_time(body, "accepted_at_ms")
    assert got == (None if expected is None else pytest.approx(expected))


def test_check_answer_names_what_is_missing() -> None:
    assert check_answer(200, '{"status": "applied"}', 200, "status", "applied") == (True, "")
    assert check_answer(200, '{"status": "pending"}', 200, "status", "applied") == (
        False,
        "status = 'pending'",
    )
    assert check_answer(404, "", 200, None, None) == (False, "status 404")
    assert check_answer(200, "<html>", 200, "status", "applied") == (False, "answer is not JSON")
    assert check_answer(200, "{}", 200, "a.b", 1) == (False, "no field 'a.b'")
    assert check_answer(200, '{"a": [{"b": 1}]}', 200, "a.0.b", 1) == (True, "")


def sample(outcome: str, latency: float | None = None, reason: str | None = None):
    visible = None if latency is None else 100.0 + latency
    return ProbeSample("p", "t", "id", 100.0, "sent", visible, outcome, reason, 1, 101.0)


def test_summary_counts_failures_and_curve_counts_timeouts_as_never_visible() -> None:
    samples = [
        sample("visible", 0.2),
        sample("visible", 0.4),
        sample("timeout", reason="not_visible: after 5 s (status = 'pending')"),
        sample("error", reason="command_connect: refused"),
    ]
    s = summarize_probe("p", "t", samples)
    assert (s.count, s.visible) == (4, 2)
    assert s.failures == {"timeout": 1, "error": 1}
    assert s.stats.p50 == pytest.approx(0.2) and s.stats.max == pytest.approx(0.4)
    assert [round(p.p, 6) for p in s.curve] == [round(1 / 3, 6), round(2 / 3, 6)]
    assert reason_kind("command_connect: refused") == "command_connect"
    assert reason_kind(None) == "unknown"
