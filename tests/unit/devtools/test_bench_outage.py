"""The outage benchmark's pure parts: which brokers it may stop, and its report."""

from __future__ import annotations

from collectors.devtools import bench_outage
from collectors.devtools.bench_outage import OutageResult, local_port, report_lines


def test_only_a_local_broker_this_machine_runs_is_stopped(monkeypatch) -> None:
    running = {9092}
    monkeypatch.setattr(
        bench_outage.kafka_local,
        "status",
        lambda port: type("S", (), {"running": port in running})(),
    )
    assert local_port("127.0.0.1:9092") == 9092
    assert local_port("localhost:9092,other:9092") == 9092
    assert local_port("127.0.0.1:9093") is None  # nothing of ours runs there
    assert local_port("broker.example.com:9092") is None  # never a remote broker
    assert local_port("127.0.0.1") is None


def test_the_report_counts_lines_by_level_and_says_when_it_never_recovered() -> None:
    results = [
        (1, OutageResult(37.2, 61.0, 12, {"INFO": 4, "WARNING": 8}, ["WARNING collectors: x"])),
        (2, OutageResult(36.0, None, 3, {"WARNING": 3}, [])),
    ]
    text = "\n".join(report_lines(20, 100_000, results))
    assert "| 1 | 37 s | 61 s | 12 | INFO 4, WARNING 8 |" in text
    assert "| 2 | 36 s | not within the deadline | 3 | WARNING 3 |" in text
    assert "WARNING collectors: x" in text and "100,000 group-partitions" in text
    assert "The first lines of run 1:" in text


def test_every_line_the_process_logs_during_the_outage_is_counted(monkeypatch) -> None:
    import logging

    def stop(port):
        logging.getLogger("lagwatch.collector").warning("default: cluster unreachable")
        logging.getLogger("collectors.kafka.committed_offsets").info("reading ...")
        logging.getLogger("lagwatch.collector").debug("not at the default level")

    monkeypatch.setattr(bench_outage.kafka_local, "stop", stop)
    monkeypatch.setattr(bench_outage.kafka_local, "start", lambda port, progress: None)
    monkeypatch.setattr(bench_outage.time, "sleep", lambda s: None)
    handlers = list(logging.getLogger().handlers)
    result = bench_outage.measure_outage(9092, 20, lambda since: True)
    assert result.by_level == {"WARNING": 1, "INFO": 1} and result.lines == 2
    assert result.recovered_s is not None
    assert result.examples[0] == "WARNING lagwatch.collector: default: cluster unreachable"
    assert logging.getLogger().handlers == handlers  # the counter is gone again
