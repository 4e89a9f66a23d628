"""The collector's loggers hold back repeated warnings and say how many they held."""

from __future__ import annotations

import logging

import pytest

from collectors.logs import ALWAYS, RepeatFilter, repeat_key, throttled


@pytest.fixture
def logger_and_clock(caplog: pytest.LogCaptureFixture):
    now = [0.0]
    logger = logging.getLogger("lagwatch.test-repeat")
    repeat = RepeatFilter(every_s=60, clock=lambda: now[0])
    logger.addFilter(repeat)
    caplog.set_level(logging.INFO, logger=logger.name)
    yield logger, now, caplog
    logger.removeFilter(repeat)


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records]


def test_identical_warnings_pass_once_a_minute_with_the_count(logger_and_clock) -> None:
    logger, now, caplog = logger_and_clock
    for second in range(0, 121):  # one a second for two minutes
        now[0] = float(second)
        logger.warning("%s: %s", "default", "offset_fetch failed")
    assert messages(caplog) == [
        "default: offset_fetch failed",
        "default: offset_fetch failed (repeated 59 times in the last 60 s)",
        "default: offset_fetch failed (repeated 59 times in the last 60 s)",
    ]


def test_a_repeat_key_groups_lines_whose_counts_differ(logger_and_clock) -> None:
    logger, now, caplog = logger_and_clock
    for second, count in enumerate((10, 20, 30)):
        now[0] = float(second * 30)
        logger.warning("failed for %d partitions", count, extra=repeat_key("c", "list_offsets"))
    assert messages(caplog) == [
        "failed for 10 partitions",
        "failed for 30 partitions (repeated once in the last 60 s)",
    ]


def test_different_texts_state_changes_and_info_are_never_held(logger_and_clock) -> None:
    logger, _, caplog = logger_and_clock
    logger.warning("a")
    logger.warning("b")
    logger.warning("default: cluster unreachable", extra=ALWAYS)
    logger.warning("default: cluster unreachable", extra=ALWAYS)
    logger.info("progress")
    logger.info("progress")
    assert messages(caplog) == ["a", "b"] + ["default: cluster unreachable"] * 2 + ["progress"] * 2


def test_throttled_adds_one_filter_however_often_asked() -> None:
    name = "lagwatch.test-throttled-once"
    throttled(name)
    logger = throttled(name)
    assert sum(isinstance(f, RepeatFilter) for f in logger.filters) == 1
