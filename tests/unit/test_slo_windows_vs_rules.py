"""The API's windowed SLO numbers and the shipped Prometheus rules agree on the same data.

Random per-minute observations (good/total) feed both: ``core.slo.window_stats`` over
the per-minute counts (what the store holds and /api/v1/slo computes from), and the
real ``promtool`` evaluating ``deploy/prometheus/recording_rules.yml`` over the
cumulative counters a collector would expose, sampled each minute. At every checked
time, each window's burn rate and the 6h compliance must match to 1e-9.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from collectors.core.slo import WINDOWS, window_stats

ROOT = Path(__file__).resolve().parents[1].parent
RULES = ROOT / "deploy" / "prometheus" / "recording_rules.yml"
PROMTOOL = shutil.which("promtool")
OBJECTIVE = 0.99
MINUTES = 7 * 60

pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed")


def test_api_windows_equal_the_recording_rules(tmp_path: Path) -> None:
    rng = np.random.default_rng(12)
    total = np.full(MINUTES, 6, dtype=np.int64)  # one observation per 10 s cycle
    # Mostly good, with bad stretches of different lengths (a pause, a slow period).
    bad = rng.binomial(6, 0.02, MINUTES)
    bad[100:130] = 6
    bad[300:310] = rng.integers(2, 6, 10)
    bad[400:405] = 6
    good = total - bad
    ends = 60.0 * np.arange(1, MINUTES + 1)  # bucket k ends at minute k + 1
    cumulative_total = np.concatenate([[0], np.cumsum(total)])  # sample at minute k
    cumulative_good = np.concatenate([[0], np.cumsum(good)])
    labels = 'cluster="c",group="g",job="lagwatch",instance="x:9477"'

    checks = []
    for minute in (360, 365, 371, 402, 404, 407, 419):
        now = minute * 60.0
        for name, width in WINDOWS:
            stats = window_stats(ends, good, total, now, width, OBJECTIVE)
            expr = f"abs(lagwatch:slo_burn_rate:rate{name} - {stats.burn_rate!r}) < bool 1e-9"
            checks.append((minute, expr))
        six = window_stats(ends, good, total, now, 21600.0, OBJECTIVE)
        checks.append(
            (minute, f"abs(lagwatch:slo_sli:ratio_rate6h - {six.compliance!r}) < bool 1e-9")
        )
    tests = "\n".join(
        f"""      - expr: '{expr}'
        eval_time: {minute}m
        exp_samples:
          - labels: '{{cluster="c",group="g"}}'
            value: 1"""
        for minute, expr in checks
    )
    spec = f"""rule_files:
  - {RULES}
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'lagwatch_slo_objective_ratio{{{labels}}}'
        values: '{OBJECTIVE}x{MINUTES}'
      - series: 'lagwatch_slo_observations_total{{{labels}}}'
        values: '{" ".join(map(str, cumulative_total))}'
      - series: 'lagwatch_slo_good_observations_total{{{labels}}}'
        values: '{" ".join(map(str, cumulative_good))}'
    promql_expr_test:
{tests}
"""
    path = tmp_path / "windows_test.yml"
    path.write_text(spec)
    run = subprocess.run(
        [PROMTOOL or "promtool", "test", "rules", str(path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    # The data really exercised the windows: some burn, some not.
    burns = [
        window_stats(ends, good, total, m * 60.0, 300.0, OBJECTIVE).burn_rate for m, _ in checks
    ]
    assert max(burns) > 14.4 and min(burns) < 1
