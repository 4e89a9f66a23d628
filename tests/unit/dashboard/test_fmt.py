"""Formatting for people on call: seconds, counts, rates, times."""

from __future__ import annotations

import math

import pytest

from dashboard import fmt


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (math.nan, "—"),
        (0, "0 s"),
        (0.012, "12 ms"),
        (1.23, "1.2 s"),
        (42.4, "42 s"),
        (184, "3 min 4 s"),
        (180, "3 min"),
        (7300, "2 h 1 min"),
        (200000, "2 d 7 h"),
        (-2.5, "-2.5 s"),
    ],
)
def test_seconds(value, text):
    assert fmt.seconds(value) == text


def test_counts_rates_percent_size_keep_missing_missing():
    assert fmt.count(1234567) == "1,234,567"
    assert fmt.count(None) == "—"
    assert fmt.rate(12.34) == "12.3 /s"
    assert fmt.rate(None) == "—"
    assert fmt.percent(0.9912) == "99.1 %"
    assert fmt.percent(None) == "—"
    assert fmt.size(1536) == "1.5 KiB"
    assert fmt.size(10) == "10 B"


def test_an_error_budget_left_is_a_percentage_and_an_overspent_one_says_how_many_times():
    assert fmt.error_budget(1.0) == "100.0 %"
    assert fmt.error_budget(0.5) == "50.0 %"
    assert fmt.error_budget(0.0) == "0.0 %"
    # Objective 0.99 with every observation bad: 1 - 1 / 0.01 = -99, the budget spent 100x.
    assert fmt.error_budget(-99.0) == "none left (100x spent)"
    assert fmt.error_budget(-0.5) == "none left (1.5x spent)"
    assert fmt.error_budget(-1233.0) == "none left (1,234x spent)"
    assert fmt.error_budget(None) == "—"
    assert fmt.error_budget(float("nan")) == "—"


def test_times_in_a_zone_and_utc():
    tz = fmt.zone("Europe/Berlin")
    assert fmt.clock(0, tz) == "1970-01-01 01:00:00"
    assert fmt.utc(0) == "1970-01-01 00:00:00 UTC"
    assert fmt.zone("Not/AZone").key == "UTC"
    assert fmt.zone(None).key == "UTC"
