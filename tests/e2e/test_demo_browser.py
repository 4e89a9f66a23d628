"""A fault button on the Demo page changes the projection's status on the Overview,
in a real browser against the real demo, collector and broker."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.e2e.conftest import Dashboard
from tests.e2e.pages import failures, settle, stage_line, wait_drawn, wait_pipeline
from tests.integration.dashboard.conftest import Collector, free_port
from tests.integration.dashboard.demo_helpers import demo_collector_config, supervised_demo
from tests.kafka_helpers import wait_until

pytestmark = pytest.mark.integration

STATUSES = ("OK", "IDLE", "WARN", "STALL", "STOPPED", "REWIND", "ERROR", "UNKNOWN")


def stage_status(page, group: str) -> str | None:
    """The status word drawn on the pipeline stage of ``group`` ("STALL · 3.2 s · lag
    40" -> "STALL"): what an engineer reads, not a data attribute."""
    line = stage_line(page, group)
    match = re.match("|".join(STATUSES), line or "")
    return match.group(0) if match else None


def fault_markers(page) -> list[str]:
    """Hover texts of the "injected faults" markers of every chart on the page (read
    from the drawn Plotly figures: the markers' hover text is only in the DOM on hover)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(
            el => (el.data || []).filter(t => t.name === 'injected faults')
                                 .flatMap(t => t.hovertext || []))"""
    )


def test_pause_button_turns_the_projection_bad_on_the_overview(
    kafka_bootstrap: str, tmp_path: Path, page, screenshots: Path
):
    demo = supervised_demo(kafka_bootstrap, tmp_path / "demo")
    config = tmp_path / "lagwatch.toml"
    config.write_text(demo_collector_config(demo.prefix))
    collector = Collector(kafka_bootstrap, config, tmp_path / "lw.duckdb", free_port(),
                          tmp_path / "c.log")  # fmt: skip
    dashboard = None
    balances = f"{demo.prefix}bank-balances"
    try:
        collector.start()
        control = f"http://127.0.0.1:{demo.control_port}"
        dashboard = Dashboard(collector.url, control, tmp_path / "dashboard.log")
        demo.control.post("/demo/load", json={"rate": 20})
        page.goto(dashboard.url + "/")
        wait_pipeline(page)
        seen: list[str | None] = []

        def balances_fine() -> bool:
            seen.append(stage_status(page, balances))
            return seen[-1] in ("OK", "IDLE")

        try:
            wait_until(balances_fine, 90, "balances OK on the Overview under load")
        except AssertionError as error:
            raise AssertionError(f"{error}; statuses seen: {sorted(set(map(str, seen)))}") from None

        page.goto(dashboard.url + "/demo")
        wait_drawn(page, 1)
        assert failures(page) == []
        page.locator(".st-key-fault-balances-pause button").click()
        page.get_by_text("pause balances").wait_for(timeout=30_000)
        settle(page, 1)
        page.screenshot(path=str(screenshots / "demo.png"), full_page=True)

        page.goto(dashboard.url + "/")
        wait_pipeline(page)
        wait_until(lambda: stage_status(page, balances) in ("WARN", "STALL", "STOPPED"), 120,
                   "balances turns WARN/STALL on the Overview after pause")  # fmt: skip
        assert failures(page) == []
        settle(page, 0)
        wait_pipeline(page)
        page.screenshot(path=str(screenshots / "overview-fault.png"), full_page=True)

        # the Group page of the paused projection marks the injected fault on its chart
        page.goto(f"{dashboard.url}/group?{urlencode({'group': balances, 'cluster': 'local'})}")
        wait_drawn(page, 1)
        wait_until(lambda: any(t.startswith("fault: pause balances") for t in fault_markers(page)),
                   30, "a 'fault: pause balances' marker on the Group page")  # fmt: skip
        assert page.locator(".legendtext", has_text="injected faults").count() >= 1
        assert failures(page) == []
        settle(page, 1)
        page.screenshot(path=str(screenshots / "group-fault.png"), full_page=True)
    finally:
        demo.control.post("/demo/faults/balances/resume")
        demo.control.post("/demo/load/stop")
        if dashboard is not None:
            dashboard.stop()
        collector.stop()
        demo.stop_all()
