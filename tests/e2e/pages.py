"""Waiting for a Streamlit page in the browser: charts drawn, no exception, no error."""

from __future__ import annotations

import time

CHART = '[data-testid="stPlotlyChart"]'
DRAWN = f"{CHART} .main-svg"
FAILURES = '[data-testid="stException"], [data-testid="stAlertContentError"]'
PIPELINE = ".lw-pipeline svg g[data-group]"  # the Overview's flow (inline SVG, not Plotly)


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


def wait_pipeline(page, timeout_s: float = 60.0) -> None:
    """Until the Overview's pipeline flow is drawn (its group stages are in the page)."""
    page.wait_for_selector(PIPELINE, state="attached", timeout=timeout_s * 1000)


def stage_line(page, group: str) -> str | None:
    """The status line drawn on the pipeline stage of ``group`` ("STALL · 3.2 s · lag
    40"), exactly the text an engineer reads; None while the stage is not drawn."""
    texts = page.eval_on_selector_all(
        ".lw-pipeline g[data-group] text.status",
        "(els, g) => els.filter(e => e.parentElement.dataset.group === g).map(e => e.textContent)",
        group,
    )
    return texts[0] if texts else None


def failures(page) -> list[str]:
    return [el.inner_text()[:300] for el in page.query_selector_all(FAILURES)]


def settle(page, min_charts: int = 0, seconds: float = 1.0) -> None:
    """Pause the live refresh (sidebar toggle) so that a screenshot does not catch a tile
    mid-refresh, wait until the page has drawn again, and let its layout finish."""
    toggle = page.locator(".st-key-live_paused label")
    if toggle.count():
        toggle.first.click()
        page.wait_for_function(
            "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
        )
        wait_drawn(page, min_charts)
    time.sleep(seconds)
