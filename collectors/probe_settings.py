"""``[[probes]]`` in the collector's TOML: read-your-writes probes (issue 12).

Each probe sends a command (``command`` request, with ``{id}`` in its URL or JSON body
replaced by a fresh unique id per probe) and then reads ``check`` every
``check_interval_s`` until the answer shows the effect (``expect_status`` and, if
given, ``field`` equal to ``value`` in the JSON answer), or ``timeout_s`` passes.
Probes are off unless configured, and each can be switched off with ``enabled = false``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from collectors.core.redact import MASK


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value


class CommandRequest(_Strict):
    method: Literal["POST", "PUT", "PATCH", "GET", "DELETE"] = "POST"
    url: str
    body: dict[str, Any] | list[Any] | None = None  # JSON template; "{id}" is replaced
    headers: dict[str, str] = Field(default_factory=dict)
    # Field of the JSON answer holding the acceptance time (epoch s, or ms when above
    # 10^11); when present, it is the probe's start instead of the send time.
    accepted_field: str | None = "accepted_at_ms"
    # Field of the JSON answer holding the id the system gave the command: when set,
    # that id (not the probe's own) fills "{id}" in the check URL and names the sample.
    id_field: str | None = None
    expect_status: list[int] = Field(default_factory=lambda: [200, 201, 202, 204])

    _url = field_validator("url")(_http_url)


class CheckRequest(_Strict):
    url: str  # template; "{id}" is replaced
    expect_status: int = 200
    field: str | None = None  # dotted path in the JSON answer, e.g. "status"
    value: Any = None  # the value ``field`` must have
    headers: dict[str, str] = Field(default_factory=dict)

    _url = field_validator("url")(_http_url)


class ProbeSettings(_Strict):
    name: str = Field(min_length=1, max_length=100)
    enabled: bool = True
    # What the probe measures, e.g. the read model it names ("bank-balances").
    target: str = ""
    id_prefix: str = "lagwatch-probe-"  # "uuid": a bare UUID4
    setup: list[CommandRequest] = Field(default_factory=list)  # once, before the first probe
    command: CommandRequest
    check: CheckRequest
    interval_s: float = Field(default=10.0, gt=0)  # between probe starts
    check_interval_s: float = Field(default=0.1, gt=0)
    timeout_s: float = Field(default=30.0, gt=0)  # per probe, from the start
    request_timeout_s: float = Field(default=5.0, gt=0)  # per HTTP request
    concurrency: int = Field(default=1, ge=1, le=64)  # probes in flight at once

    def masked(self) -> dict[str, Any]:
        """``model_dump`` with every header value masked (tokens, cookies): for printing."""
        data = self.model_dump()
        for request in [*data["setup"], data["command"], data["check"]]:
            request["headers"] = dict.fromkeys(request["headers"], MASK)
        return data

    def __repr__(self) -> str:  # never leak header secrets through repr/logging
        return f"ProbeSettings({self.masked()!r})"

    __str__ = __repr__

    @model_validator(mode="after")
    def _timing(self) -> ProbeSettings:
        if self.check_interval_s >= self.timeout_s:
            raise ValueError(
                f"check_interval_s ({self.check_interval_s:g}) must be below timeout_s "
                f"({self.timeout_s:g})"
            )
        return self
