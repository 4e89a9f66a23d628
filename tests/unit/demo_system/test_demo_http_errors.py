"""Validation messages of the demo APIs: pure."""

from __future__ import annotations

from demo_system.http_errors import describe_errors, field_name, json_problem, summary
from demo_system.projections import slow_batch_size


def test_invalid_json_says_so_with_line_and_column() -> None:
    problem = json_problem(b'{"type": "deposit",\n "amount": }')
    assert problem == {
        "field": "body",
        "message": "body is not valid JSON: Expecting value at line 2, column 12",
        "line": 2,
        "column": 12,
    }


def test_fastapi_offset_is_not_reported_as_a_field() -> None:
    errors = [{"type": "json_invalid", "loc": ("body", 34), "msg": "JSON decode error"}]
    (described,) = describe_errors(errors, b'{"a": 1,                          x}')
    assert described["field"] == "body" and "34" not in described["field"]
    assert described["message"].startswith("body is not valid JSON")
    assert summary([described]) == described["message"]


def test_body_not_utf8_is_named() -> None:
    assert "not UTF-8 at byte 1" in json_problem(b"{\xff}")["message"]


def test_field_path_drops_union_tags() -> None:
    loc = ("body", "commands", 3, "deposit", "amount")
    assert field_name(loc, skip=("deposit",)) == "commands.3.amount"
    errors = [{"type": "less_than_equal", "loc": ("body", "amount"), "msg": "too big"}]
    assert summary(describe_errors(errors, b"{}")) == "amount: too big"


def test_slow_batches_hold_about_a_quarter_second_of_waiting() -> None:
    assert slow_batch_size(0) == 1000
    assert slow_batch_size(100) == 2
    assert slow_batch_size(5) == 50
    assert slow_batch_size(5000) == 1
