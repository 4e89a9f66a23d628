"""The dashboard in a real browser (Debian Chromium) against a real collector watching
the real broker: every page draws its charts with no Streamlit exception or error, and a
screenshot per page is saved."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from tests.e2e.conftest import Dashboard
from tests.e2e.pages import failures, settle, wait_drawn, wait_pipeline
from tests.integration.dashboard.conftest import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dashboard(collector, tmp_path_factory) -> Dashboard:
    log = tmp_path_factory.mktemp("dashboard") / "dashboard.log"
    d = Dashboard(collector.url, f"http://127.0.0.1:{free_port()}", log)
    yield d
    d.stop()


def test_every_page_draws(page, dashboard: Dashboard, collector, screenshots: Path):
    balances = quote(collector.groups["balances"], safe="")
    pages = [
        ("overview", "/", 0),  # the pipeline is inline SVG, the sparklines a canvas
        ("group", f"/group?group={balances}&range=5m&view=partition", 4),
        ("consistency", "/consistency", 0),
        ("collector", "/collector", 2),
    ]
    for name, path, charts in pages:
        page.goto(dashboard.url + path)
        drawn = wait_drawn(page, charts)
        if name == "overview":
            wait_pipeline(page)
        if charts == 0:
            page.wait_for_selector('[data-testid="stDataFrame"]', timeout=60_000)
        assert drawn >= charts, name
        assert failures(page) == [], name
        settle(page, charts)
        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
    assert "overview" in page.title().lower() or page.title()
