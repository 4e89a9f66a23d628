"""The Demo page against the real demo (supervisor + control API) on the real broker."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.integration.dashboard.conftest import APP, Collector, free_port
from tests.integration.dashboard.demo_helpers import demo_collector_config, supervised_demo
from tests.kafka_helpers import wait_until

pytestmark = pytest.mark.integration


def test_demo_page_faults_load_and_read_your_writes(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    demo = supervised_demo(kafka_bootstrap, tmp_path / "demo")
    config = tmp_path / "lagwatch.toml"
    config.write_text(demo_collector_config(demo.prefix))
    collector = Collector(kafka_bootstrap, config, tmp_path / "lw.duckdb", free_port(),
                          tmp_path / "c.log")  # fmt: skip
    try:
        collector.start()
        monkeypatch.setenv("LAGWATCH_COLLECTORS", collector.url)
        monkeypatch.setenv("LAGWATCH_DEMO_CONTROL", f"http://127.0.0.1:{demo.control_port}")
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(APP), default_timeout=60).run()
        at.switch_page("app_pages/demo.py").run()  # only registered while the demo answers
        assert not at.exception, [e.value for e in at.exception]
        assert at.title[0].value == "Demo"

        # out of the box the widget's account exists on the write side (picked or opened)
        account = at.session_state["ryw_account"]
        bank = httpx.Client(base_url=demo.status()["command_api"], timeout=5)

        def opened() -> bool:
            answer = bank.get(f"/accounts/{account}/write-side")
            return answer.status_code == 200 and answer.json()["balance"] is not None

        wait_until(opened, 60, f"default account {account} open on the write side")

        at.button(key="fault-balances-pause").click().run()
        assert any("pause balances" in s.value for s in at.success), [e.value for e in at.error]
        wait_until(lambda: demo.status()["projections"]["balances"]["paused"], 20, "paused")

        def fault_chip() -> bool:
            at.run()
            return any("PAUSED" in m.value and "injected fault" in m.value for m in at.markdown)

        wait_until(fault_chip, 20, "the PAUSED chip apart from lagwatch's status")
        at.button(key="fault-balances-resume").click().run()
        wait_until(lambda: not demo.status()["projections"]["balances"]["paused"], 20, "resumed")

        at.button(key="load_start").click().run()
        wait_until(lambda: demo.status()["load"]["running"], 20, "load running")

        at.button(key="ryw_go").click().run()
        assert not at.error, [e.value for e in at.error]

        def visible() -> bool:
            at.run()
            return any("visible after" in m.value for m in at.markdown)

        wait_until(visible, 60, "the deposit visible on the query side")
        at.button(key="load_stop").click().run()
        wait_until(lambda: not demo.status()["load"]["running"], 20, "load stopped")
        assert not at.exception
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
        collector.stop()
        demo.stop_all()
