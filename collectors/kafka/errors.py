"""The one place that turns a Kafka error (or any exception) into a short text.

Every text passes through ``collectors.core.redact.mask_text``: an error that quotes a
config value (a JAAS line, a password) never reaches a log, the API or ``/metrics``.
"""

from __future__ import annotations

from collectors.core.redact import mask_text

MAX_LENGTH = 300


def error_text(error: BaseException) -> str:
    """``NAME: reason`` for a ``KafkaException`` (librdkafka's error name and text),
    ``str(error)`` for anything else; secrets masked, at most ``MAX_LENGTH`` chars."""
    inner = error.args[0] if getattr(error, "args", None) else error
    text = inner.str() if callable(getattr(inner, "str", None)) else str(inner)
    name = inner.name() if callable(getattr(inner, "name", None)) else ""
    return mask_text(f"{name}: {text}" if name else text)[:MAX_LENGTH]
