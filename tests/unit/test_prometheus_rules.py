"""The shipped Prometheus config and rules: valid, unit-tested alert by alert, documented.

Runs the real ``promtool`` (Debian package ``prometheus``; ``make system-deps``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "prometheus"
ALERTS = DEPLOY / "alert_rules.yml"
RECORDING = DEPLOY / "recording_rules.yml"
RULE_TESTS = sorted((DEPLOY / "tests").glob("*.yml"))
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (make system-deps installs it)"
)


def promtool(*args: str) -> str:
    run = subprocess.run(
        [PROMTOOL or "promtool", *args],
        cwd=DEPLOY,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"promtool {' '.join(args)} failed:\n{output}"
    return output


def alert_names() -> list[str]:
    return re.findall(r"^\s*- alert:\s*(\w+)\s*$", ALERTS.read_text(), re.M)


def rule_test_cases() -> list[tuple[str, bool]]:
    """(alertname, fires) for every ``alert_rule_test`` entry of the promtool tests."""
    cases = []
    for path in RULE_TESTS:
        lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        for i, line in enumerate(lines):
            if m := re.match(r"alertname:\s*(\w+)", line):
                nxt = lines[i + 1]
                assert nxt.startswith("exp_alerts:"), (
                    f"{path.name}: {line} not followed by exp_alerts"
                )
                cases.append((m.group(1), nxt.replace(" ", "") != "exp_alerts:[]"))
    return cases


@needs_promtool
def test_prometheus_yml_is_valid_and_loads_the_rules() -> None:
    out = promtool("check", "config", "prometheus.yml")
    assert "2 rule files found" in out


@needs_promtool
def test_rule_files_are_valid() -> None:
    promtool("check", "rules", RECORDING.name, ALERTS.name)


@needs_promtool
def test_promtool_unit_tests_pass() -> None:
    assert RULE_TESTS, "no promtool tests in deploy/prometheus/tests"
    out = promtool("test", "rules", *(str(p.relative_to(DEPLOY)) for p in RULE_TESTS))
    assert out.count("SUCCESS") == len(RULE_TESTS)


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    names = alert_names()
    assert set(names) >= {
        "LagwatchReadModelStale",
        "LagwatchFreshnessBudgetBurnFast",
        "LagwatchFreshnessBudgetBurnSlow",
        "LagwatchProjectionStopped",
        "LagwatchProjectionStalled",
        "LagwatchEventsExpired",
        "LagwatchCollectorDown",
        "LagwatchCollectorCycleErrors",
    }
    cases = rule_test_cases()
    for name in names:
        assert (name, True) in cases, f"{name} has no promtool test where it fires"
        assert (name, False) in cases, f"{name} has no promtool test where it does not fire"


def test_every_alert_has_summary_description_and_severity() -> None:
    blocks = re.split(r"^\s*- alert:", ALERTS.read_text(), flags=re.M)[1:]
    assert len(blocks) == len(alert_names())
    for block in blocks:
        name = block.split()[0]
        assert re.search(r"^\s+summary:", block, re.M), f"{name}: no summary"
        assert re.search(r"^\s+description:", block, re.M), f"{name}: no description"
        assert re.search(r"severity:\s*(critical|warning)", block), f"{name}: no severity"
        assert "check" in block.lower(), f"{name}: description says nothing to check"


def test_rules_only_use_documented_metrics() -> None:
    documented = set(re.findall(r"`(lagwatch_[a-z_]+)`", (ROOT / "docs/metrics.md").read_text()))
    used = set(re.findall(r"\b(lagwatch_[a-z_]+)", ALERTS.read_text() + RECORDING.read_text()))
    used = {re.sub(r"_(bucket|sum|count)$", "", name) for name in used}
    assert used - documented == set()
