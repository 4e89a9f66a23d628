"""Every page run headless (streamlit.testing AppTest) against a real collector process
watching the real broker."""

from __future__ import annotations

import time

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from tests.integration.dashboard.conftest import APP, Collector
from tests.kafka_helpers import wait_until

pytestmark = pytest.mark.integration


def run_page(page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.context = {"timezone": "Europe/Berlin"}
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
    return at


def no_failures(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += (
        [i.value for i in at.info] + [w.value for w in at.warning] + [e.value for e in at.error]
    )
    return "\n".join(str(p) for p in parts)


def test_overview_tiles_pipeline_and_groups(app_env: Collector):
    at = run_page()
    no_failures(at)
    g = app_env.groups
    body = texts(at)
    assert "worst staleness now" in body
    assert g["balances"] in body  # the worst read model is named
    assert "read models within SLO" in body and "/ 3" in body
    assert "1 / 1 healthy" in body
    assert not at.get("plotly_chart")  # the pipeline is SVG: no Plotly bundle to load
    (markup,) = [m.value for m in at.markdown if 'class="lw-pipeline"' in m.value]
    for name in (g["handler"], g["balances"], g["activity"]):
        assert f'data-group="{name}"' in markup
    assert f'href="group?group={g["balances"]}' in markup  # a stage opens its group
    table = at.dataframe[0].value
    assert set(table["group"]) == {g["handler"], g["balances"], g["activity"]}
    row = table[table["group"] == g["balances"]].iloc[0]
    assert row["offset_lag"] == 15 + 14 + 13
    assert row["staleness_s"] > 20
    assert row["open"].startswith("group?group=" + g["balances"])
    assert row["trend"] is not None and len(row["trend"]) >= 1


def test_group_page_charts_table_and_url(app_env: Collector):
    g = app_env.groups
    at = run_page("group", group=g["balances"], range="5m", view="partition")
    no_failures(at)
    assert at.selectbox[0].value[2] == g["balances"]
    assert len(at.get("plotly_chart")) == 4  # lag+staleness, rates, ETA, heatmap
    parts = at.dataframe[0].value
    assert sorted(parts["partition"]) == [0, 1, 2]
    assert set(parts["staleness_method"]) == {"exact"}
    assert sorted(parts["offset_lag"]) == [13, 14, 15]
    assert at.query_params["range"] == ["5m"] or at.query_params["range"] == "5m"
    body = texts(at)
    assert "offset lag (sum)" in body and "42" in body


def test_group_page_unknown_group_falls_back_to_the_first(app_env: Collector):
    at = run_page("group", group="no-such-group")
    no_failures(at)
    assert at.selectbox[0].value[2] in app_env.groups.values()


def test_consistency_page(app_env: Collector):
    at = run_page("consistency")
    no_failures(at)
    slo = at.dataframe[0].value
    assert set(slo["read model"]) >= {app_env.groups["balances"]}
    body = texts(at)
    visibility = httpx.get(app_env.url + "/api/v1/visibility",
                           params={"group": app_env.groups["balances"]})  # fmt: skip
    if visibility.status_code == 404:
        assert "Passive visibility latency" in body and "will show here" in body
    else:  # the page shows the first read model: its percentiles, or why there are none
        assert "p50" in body or "No visibility sample for" in body, body[-600:]
    probes = httpx.get(app_env.url + "/api/v1/probes")
    if probes.status_code == 404 or not probes.json().get("probes"):
        assert "[[probes]]" in body


def test_collector_page(app_env: Collector):
    at = run_page("collector")
    no_failures(at)
    body = texts(at)
    assert "1 / 1" in body  # clusters up
    assert "timestamp cache hit ratio" in body
    assert len(at.get("plotly_chart")) == 2
    assert at.dataframe[0].value["up"].tolist() == ["up"]


def test_collector_down_banner_and_recovery(app_env: Collector):
    at = run_page()
    no_failures(at)
    app_env.stop()
    try:

        def banner() -> str | None:
            at.run()
            errors = [e.value for e in at.error]
            return next((e for e in errors if app_env.url in e), None)

        text = wait_until(banner, 30, "collector-down banner")
        assert "lagwatch collect" in text and "--collector URL" in text
        assert not at.exception
    finally:
        app_env.start()

    def recovered() -> bool:
        at.run()
        return not at.error and len(at.dataframe) == 1 and len(at.dataframe[0].value) == 3

    wait_until(recovered, 60, "overview back with data after the collector returned")
    no_failures(at)


def test_group_page_recovers_after_collector_outage(app_env: Collector):
    app_env.stop()
    try:
        at = run_page("group", group=app_env.groups["handler"])
        assert any(app_env.url in e.value for e in at.error)
    finally:
        app_env.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        at.run()
        if not at.error and at.selectbox and at.get("plotly_chart"):
            break
        time.sleep(0.3)
    no_failures(at)
    assert at.selectbox[0].value[2] == app_env.groups["handler"]
