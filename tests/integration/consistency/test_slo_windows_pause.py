"""A paused projection drives SLO compliance down and burn rates up within the windows'
resolution (one minute); after resume they recover (real broker, the demo, the
collector's store, /api/v1/slo and /metrics).

The SLO: ``bank-balances`` at most 2 s stale in 99% of observations, with a 2-minute
period so that full recovery (the bad minutes leaving the period) fits in the test.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient

from collectors.serving.app import create_app
from collectors.store.db import Store
from demo_system.faults import process_name, set_control, wait_acknowledged
from demo_system.load import run_load
from tests.integration.consistency.test_visibility_truth import INTERVAL_S, collector
from tests.integration.demo_system.demo_stack_helpers import DemoStack, wait_until

PERIOD_D = 120 / 86400


def _windows(app: TestClient, group: str) -> dict:
    """The group's SLO windows; before its first observation, every window empty."""
    slos = app.get("/api/v1/slo").json()["slos"]
    found = [s for s in slos if s["group"] == group]
    if not found:
        empty = {"observations": 0, "compliance": None, "burn_rate": None}
        return {w: empty for w in ("5m", "30m", "1h", "6h", "period")}
    assert found[0]["windows"] is not None, found  # a store is configured
    return found[0]["windows"]


def _metric(app: TestClient, name: str, group: str, window: str) -> float | None:
    prefix = f'{name}{{cluster="default",group="{group}",window="{window}"}} '
    for line in app.get("/metrics").text.splitlines():
        if line.startswith(prefix):
            return float(line.removeprefix(prefix))
    return None


def test_pause_drives_compliance_down_and_burn_up_then_they_recover(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    (tmp_path / "demo").mkdir()
    stack = DemoStack(kafka_bootstrap, tmp_path / "demo", f"t-slo-{time.time_ns() % 10**8}-")
    store = Store(tmp_path / "lagwatch.duckdb")
    group = stack.names.projection_group("balances")
    stop_load = threading.Event()
    service = None
    try:
        stack.start_all()
        slo = {"group": group, "target_s": 2.0, "objective": 0.99, "period_d": PERIOD_D}
        service = collector(stack, kafka_bootstrap, store, slos=[slo])
        service.start()
        app = TestClient(create_app(service, store=store))
        api = f"http://127.0.0.1:{stack.api_port}"
        load = threading.Thread(
            target=run_load, args=(api, 20, 900), kwargs={"seed": 3, "stop": stop_load},
            daemon=True,
        )  # fmt: skip
        load.start()

        healthy = wait_until(
            lambda: (w := _windows(app, group))["5m"]["observations"] >= 20
            and w["5m"]["compliance"] == 1.0
            and w,
            120, "healthy 5m window",
        )  # fmt: skip
        print(f"\nhealthy: {healthy['5m']}")

        set_control(stack.data_dir, process_name("balances"), paused=True)
        assert wait_acknowledged(stack.data_dir, process_name("balances"), 30)
        paused_at = time.monotonic()
        down = wait_until(
            lambda: ((w := _windows(app, group))["5m"]["burn_rate"] or 0) > 1.0 and w,
            60 + 3 * INTERVAL_S, "5m burn rate above 1 while paused",
        )  # fmt: skip
        print(f"paused {time.monotonic() - paused_at:.1f} s: 5m {down['5m']}")
        assert down["5m"]["compliance"] < 1.0
        # Hold the pause a little longer: the budget burns at 100x (every observation bad).
        wait_until(lambda: time.monotonic() - paused_at >= 30, 40, "30 s of pause")
        peak = _windows(app, group)
        print(f"peak: 5m {peak['5m']}, period {peak['period']}")
        assert peak["5m"]["burn_rate"] > 14.4  # the fast-burn page threshold
        assert peak["period"]["error_budget_remaining"] < 0
        metric_burn = _metric(app, "lagwatch_slo_window_burn_rate", group, "5m")
        assert metric_burn is not None and metric_burn > 14.4

        set_control(stack.data_dir, process_name("balances"), paused=False, slow_ms=0)
        assert wait_acknowledged(stack.data_dir, process_name("balances"), 30)
        resumed_at = time.monotonic()
        # Recovery: the newest observations are good again, so the 5m burn rate falls
        # from its peak, and once the bad minutes leave the 2-minute period it is whole.
        falling = wait_until(
            lambda: (w := _windows(app, group))["5m"]["burn_rate"] < peak["5m"]["burn_rate"]
            and w,
            60 + 3 * INTERVAL_S, "5m burn rate falling after resume",
        )  # fmt: skip
        print(f"resumed {time.monotonic() - resumed_at:.1f} s: 5m {falling['5m']}")
        whole = wait_until(
            lambda: (w := _windows(app, group))["period"]["compliance"] == 1.0 and w,
            240, "period compliance back to 1 after resume",
        )  # fmt: skip
        print(f"recovered {time.monotonic() - resumed_at:.1f} s: period {whole['period']}")
        assert whole["period"]["burn_rate"] == 0.0
        assert whole["period"]["error_budget_remaining"] == 1.0
        wait_until(
            lambda: _metric(app, "lagwatch_slo_window_compliance_ratio", group, "period") == 1.0,
            30, "metric recovered",
        )  # fmt: skip
    finally:
        stop_load.set()
        if service is not None:
            service.stop()
        stack.stop_all()
        store.close()
