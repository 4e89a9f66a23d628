"""Validation errors of the demo's HTTP APIs, as messages that name what was wrong.

Pure (the standard ``json`` module only). FastAPI reports a body that is not JSON as
an error at "field" ``("body", 34)`` — a character offset; here it becomes one error on
``body`` saying that the body is not valid JSON, with the line and column.
"""

from __future__ import annotations

import json
from collections.abc import Collection

NOT_AN_OBJECT = "body must be a JSON object sent as Content-Type: application/json"


def field_name(loc: tuple | list, skip: Collection[str] = ()) -> str:
    """``("body", "commands", 3, "deposit", "amount")`` -> ``commands.3.amount``.

    ``skip`` drops the tags of discriminated unions (``"deposit"``) from the path.
    """
    parts = [str(p) for p in list(loc)[1:] if p not in skip]
    return ".".join(parts) or "body"


def describe_errors(errors: list[dict], body: object, skip: Collection[str] = ()) -> list[dict]:
    """Pydantic/FastAPI validation errors as ``{"field", "message"}`` items (plus
    ``line``/``column``, 1-based, for a body that is not valid JSON)."""
    described = []
    for e in errors:
        if e.get("type") == "json_invalid":
            described.append(json_problem(body))
        elif tuple(e["loc"]) == ("body",) and isinstance(e.get("input"), bytes | str):
            described.append({"field": "body", "message": NOT_AN_OBJECT})
        else:
            described.append({"field": field_name(e["loc"], skip), "message": e["msg"]})
    return described


def summary(errors: list[dict]) -> str:
    """One line: ``amount: Input should be ...; body is not valid JSON: ...``."""
    return "; ".join(
        e["message"] if e["field"] == "body" and e["message"].startswith("body") else
        f"{e['field']}: {e['message']}"
        for e in errors
    )  # fmt: skip


def json_problem(body: object) -> dict:
    """Where ``body`` stops being JSON: ``{"field": "body", "message", "line", "column"}``."""
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            message = f"body is not valid JSON: not UTF-8 at byte {error.start}"
            return {"field": "body", "message": message}
    else:
        text = body if isinstance(body, str) else ""
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        message = (
            f"body is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        )
        return {"field": "body", "message": message, "line": error.lineno, "column": error.colno}
    return {"field": "body", "message": "body is not valid JSON"}
