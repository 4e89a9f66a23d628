"""The one secret masker: config keys and free error texts.

Used by the settings (``--print-config``, ``repr``), by every Kafka error text that
reaches a log line, the API or ``/metrics``, and by the cluster-level error summary.

- A *key* is secret when it names a password, secret, token, JAAS config, private key
  or PEM material: ``sasl.password``, ``sasl.jaas.config``, ``ssl.key.pem``,
  ``ssl.keystore.password``, ``sasl.oauthbearer.client.secret``.
- In a *text*, ``<secret-key> = value`` and ``<secret-key>: value`` have the value
  replaced by ``***``; a JAAS fragment (``password="…"``) is caught the same way.
  Texts that mention no such key come back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "***"

_SECRET_KEY = re.compile(r"password|secret|jaas|token|(^|\.)key($|\.)|\.pem$", re.IGNORECASE)
# key=value / key: value / key="quoted value" in free text (log lines, librdkafka errors)
_SECRET_IN_TEXT = re.compile(
    r"""((?:[\w.]*)(?:password|secret|jaas\.config|token|key(?:\.pem)?))"""
    r"""(\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)""",
    re.IGNORECASE,
)


def is_secret_key(key: str) -> bool:
    """True for a config key whose value must never be printed."""
    return bool(_SECRET_KEY.search(key))


def mask_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` with every secret value replaced by ``***``."""
    return {k: (MASK if is_secret_key(k) else v) for k, v in config.items()}


def mask_text(text: str) -> str:
    """``text`` with the value after any secret-looking ``key=``/``key:`` masked."""
    return _SECRET_IN_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
