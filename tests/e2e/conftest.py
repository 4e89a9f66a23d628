"""Browser tests: Debian's Chromium driven by playwright against a real dashboard
process, a real collector and the real broker. Screenshots go to ``LAGWATCH_SCREENSHOTS``
(default: a temporary directory); ``make screenshots`` sets it to docs/screenshots/."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.dashboard.conftest import collector, free_port  # noqa: F401
from tests.kafka_helpers import wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


class Dashboard:
    """``python -m dashboard.launch`` as a process."""

    def __init__(self, collector_url: str, demo_control: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dashboard.launch", "--collector", collector_url,
                 "--port", str(self.port), "--demo-control", demo_control],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_until(self.healthy, 60, f"dashboard on {self.url}")

    def healthy(self) -> bool:
        try:
            return httpx.get(self.url + "/_stcore/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("LAGWATCH_SCREENSHOTS")
    path = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install chromium (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1600},
                                  timezone_id="Europe/Berlin")  # fmt: skip
    try:
        yield context.new_page()
    finally:
        context.close()
