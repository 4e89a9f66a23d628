"""The supervisor's control API (contracts.md "Demo control API") on one running demo."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from demo_stack_helpers import SupervisedDemo, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SupervisedDemo]:
    data_dir: Path = tmp_path_factory.mktemp("control")
    stack = SupervisedDemo(kafka_bootstrap, data_dir, f"t-ctl-{uuid.uuid4().hex[:8]}-")
    try:
        yield stack.start_all()
    finally:
        stack.stop_all()


def timed(call) -> tuple[object, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_status_has_the_contract_shape(demo: SupervisedDemo) -> None:
    status = demo.status()
    assert set(status["projections"]) == {"balances", "activity"}
    for projection in status["projections"].values():
        assert projection["running"] is True and isinstance(projection["pid"], int)
        assert {"restarts", "slow_ms", "paused"} <= set(projection)
    assert set(status["processes"]) == {"command-api", "command-handler", "query-api",
                                        "projection-balances", "projection-activity"}  # fmt: skip
    assert set(status["load"]) == {"running", "rate", "sent", "failed"}
    assert status["command_api"] == f"http://127.0.0.1:{demo.api_port}"
    assert status["query_api"] == f"http://127.0.0.1:{demo.query_port}"
    assert demo.control.get("/healthz").json() == {"status": "ok"}


def test_load_starts_changes_rate_and_stops(demo: SupervisedDemo) -> None:
    started = demo.control.post("/demo/load", json={"rate": 20, "accounts": 5}).json()
    assert started["ok"] and started["load"]["running"] and started["load"]["rate"] == 20
    wait_until(lambda: demo.status()["load"]["sent"] > 30, 30, "load sending")
    rerated = demo.control.post("/demo/load", json={"rate": 50}).json()
    assert rerated["load"]["rate"] == 50 and rerated["load"]["running"]
    stopped = demo.control.post("/demo/load/stop").json()
    assert stopped["ok"] and not stopped["load"]["running"]
    assert stopped["load"]["sent"] > 30 and stopped["load"]["failed"] == 0
    sent = stopped["load"]["sent"]
    time.sleep(0.5)  # nothing is sent once stopped (a check, not a wait for a condition)
    assert demo.status()["load"]["sent"] == sent


@pytest.mark.parametrize("projection", ["balances", "activity"])
def test_pause_and_resume_are_in_effect_within_a_second(
    demo: SupervisedDemo, projection: str
) -> None:
    demo.control.post("/demo/load", json={"rate": 50, "accounts": 5})
    try:
        for fault in ("pause", "resume", "pause", "resume"):
            response, took = timed(lambda f=fault: demo.fault(f"{projection}/{f}"))
            body = response.json()
            assert response.status_code == 200 and body["ok"] and body["in_effect"], body
            assert took < 1.0, f"{fault} took {took:.2f} s"
            assert demo.status()["projections"][projection]["paused"] is (fault == "pause")
    finally:
        demo.control.post("/demo/load/stop")


def test_paused_projection_applies_nothing(demo: SupervisedDemo) -> None:
    assert demo.fault("balances/pause").json()["in_effect"]
    try:
        balances, activity = (demo.snapshot(p).applied for p in ("balances", "activity"))
        ids = demo.send({"type": "open_account", "account_id": f"p-{uuid.uuid4().hex[:6]}"})
        wait_until(lambda: demo.snapshot("activity").applied > activity, 30, "activity applies")
        assert demo.snapshot("balances").applied == balances and demo.statuses(ids) == {}
    finally:
        assert demo.fault("balances/resume").json()["in_effect"]
    demo.wait_visible(ids)


def test_slow_is_in_effect_and_resume_clears_it(demo: SupervisedDemo) -> None:
    response = demo.fault("balances/slow", {"ms": 50})
    assert response.json()["in_effect"] and response.json()["ok"]
    assert demo.status()["projections"]["balances"]["slow_ms"] == 50
    assert demo.fault("balances/resume").json()["in_effect"]
    assert demo.status()["projections"]["balances"]["slow_ms"] == 0


def test_crash_lands_and_the_supervisor_restarts(demo: SupervisedDemo) -> None:
    before = demo.status()["projections"]["activity"]
    body = demo.fault("activity/crash").json()
    assert body["ok"] and body["in_effect"] and f"pid {before['pid']}" in body["message"]
    after = wait_until(
        lambda: (p := demo.status()["projections"]["activity"])["running"]
        and p["pid"] != before["pid"] and p,
        30, "activity restarted",
    )  # fmt: skip
    assert after["restarts"] == before["restarts"] + 1


def test_poison_is_counted_as_a_dead_letter(demo: SupervisedDemo) -> None:
    before = demo.status()["projections"]
    body = demo.fault("poison").json()
    assert body["ok"] and body["in_effect"]
    for projection in ("balances", "activity"):
        wait_until(
            lambda p=projection: demo.status()["projections"][p]["dead_letters"]
            == before[p]["dead_letters"] + 1,
            30, f"{projection} dead-lettered the poison",
        )  # fmt: skip


def test_rebalance_takes_partitions(demo: SupervisedDemo) -> None:
    body = demo.fault("balances/rebalance", {"seconds": 3}).json()
    assert body["ok"] and body["in_effect"], body


def test_unknown_projection_is_404(demo: SupervisedDemo) -> None:
    for fault in ("pause", "resume", "crash", "rebalance"):
        response = demo.fault(f"nope/{fault}")
        assert response.status_code == 404
        assert "unknown projection 'nope'" in response.json()["error"]
    assert demo.fault("nope/slow", {"ms": 5}).status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("balances/slow", {"ms": "x"}, "ms"),
        ("balances/slow", {"ms": -1}, "ms"),
        ("balances/slow", {}, "ms"),
        ("balances/slow", {"ms": 5, "extra": 1}, "extra"),
        ("balances/rebalance", {"seconds": 0}, "seconds"),
    ],
)
def test_bad_fault_body_is_422_naming_the_field(
    demo: SupervisedDemo, path: str, body: dict, field: str
) -> None:
    response = demo.fault(path, body)
    assert response.status_code == 422
    assert response.json()["error"].startswith(f"{field}: ")


def test_bad_load_body_and_bad_json_are_422(demo: SupervisedDemo) -> None:
    response = demo.control.post("/demo/load", json={"rate": -3})
    assert response.status_code == 422 and response.json()["error"].startswith("rate: ")
    response = demo.control.post("/demo/load", json={})
    assert response.status_code == 422 and "rate" in response.json()["error"]
    response = demo.control.post(
        "/demo/load", content=b'{"rate": }', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert (
        response.json()["error"] == "body is not valid JSON: Expecting value at line 1, column 10"
    )


def faults_since(demo: SupervisedDemo, since: float) -> list[dict]:
    response = demo.control.get("/demo/faults/history", params={"since": since})
    assert response.status_code == 200, response.text
    return response.json()["faults"]


def test_fault_history_lists_the_faults_applied(demo: SupervisedDemo) -> None:
    started = time.time()
    for fault in ("pause", "resume"):
        assert demo.fault(f"balances/{fault}").json()["in_effect"]
    assert demo.fault("activity/slow", {"ms": 5}).json()["in_effect"]
    assert demo.fault("activity/resume").json()["in_effect"]
    assert demo.fault("poison").json()["ok"]
    assert demo.fault("nope/pause").status_code == 404  # refused: not a fault applied
    finished = time.time()
    history = faults_since(demo, started)
    assert [(f["kind"], f["projection"]) for f in history] == [
        ("pause", "balances"), ("resume", "balances"), ("slow", "activity"),
        ("resume", "activity"), ("poison", None),
    ]  # fmt: skip
    times = [f["time"] for f in history]
    assert times == sorted(times) and started <= times[0] and times[-1] <= finished
    pause = history[0]
    assert pause["in_effect"] is True and pause["detail"].startswith("pause: in effect")
    assert pause["groups"] == [f"{demo.prefix}bank-balances"]
    assert history[2]["detail"].startswith("slow 5 ms")
    assert history[4]["groups"] == [f"{demo.prefix}bank-balances", f"{demo.prefix}bank-activity"]
    # since filters by time; without it, the whole (bounded) history, oldest first
    assert faults_since(demo, times[2]) == history[2:]
    assert faults_since(demo, finished + 1) == []
    everything = demo.control.get("/demo/faults/history").json()["faults"]
    assert everything[-5:] == history


@pytest.mark.parametrize("since", ["yesterday", "nan", "inf"])
def test_fault_history_rejects_a_bad_since(demo: SupervisedDemo, since: str) -> None:
    response = demo.control.get("/demo/faults/history", params={"since": since})
    assert response.status_code == 422 and response.json()["error"].startswith("since: ")


def test_fault_history_is_bounded_oldest_first() -> None:
    from demo_system.control_api import FaultHistory, FaultRecord

    history = FaultHistory(limit=3)
    for t in (5.0, 1.0, 2.0, 4.0, 3.0):  # added out of order, as slow acknowledgements do
        history.add(FaultRecord(t, "balances", "pause", "", True, ("bank-balances",)))
    assert [r.time for r in history.since()] == [2.0, 3.0, 4.0]  # the 3 last added, sorted
    assert [r.time for r in history.since(3.0)] == [3.0, 4.0]
