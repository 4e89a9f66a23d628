"""Waiting for a Streamlit page in the browser: charts drawn, no exception, no error."""

from __future__ import annotations

import time

CHART = '[data-testid="stPlotlyChart"]'
DRAWN = f"{CHART} .main-svg"
FAILURES = '[data-testid="stException"], [data-testid="stAlertContentError"]'


def wait_drawn(page, min_charts: int, timeout_s: float = 60.0) -> int:
    """Until at least ``min_charts`` charts exist, each with its SVG drawn, and the app
    is not running a script; returns the number of charts."""
    page.wait_for_selector("h1", state="attached", timeout=timeout_s * 1000)
    page.wait_for_function(
        """([chart, min]) => {
            const charts = document.querySelectorAll(chart);
            if (charts.length < min) return false;
            return [...charts].every(c => c.querySelector('.main-svg'));
        }""",
        arg=[CHART, min_charts],
        timeout=timeout_s * 1000,
    )
    return page.locator(CHART).count()


def failures(page) -> list[str]:
    return [el.inner_text()[:300] for el in page.query_selector_all(FAILURES)]


def settle(page, seconds: float = 1.0) -> None:
    """Let a just-drawn page finish its layout before a screenshot (not a wait for data)."""
    time.sleep(seconds)
