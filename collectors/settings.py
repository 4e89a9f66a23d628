"""Collector settings: one TOML file plus ``LAGWATCH_*`` environment overrides.

Pydantic lives here, at the edge; the rest of the collector gets a validated, frozen
``Settings``. Any librdkafka setting passes through per cluster (``[clusters.kafka]``);
values whose key names a secret are masked everywhere they could be printed.

Environment overrides (applied after the file, before validation):

- ``LAGWATCH_BOOTSTRAP``: bootstrap servers of the first cluster
- ``LAGWATCH_LISTEN``, ``LAGWATCH_STORE``, ``LAGWATCH_INTERVAL``: collector basics
- ``LAGWATCH_METRICS_GRANULARITY``: partition, topic or group
- ``LAGWATCH_<SECTION>__<KEY>=value`` for any scalar of ``collector``, ``metrics`` or
  ``store``, e.g. ``LAGWATCH_COLLECTOR__STATUS_WINDOW_S=300``
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from collectors.core.redact import MASK, is_secret_key, mask_config
from collectors.defaults import DEFAULT_BOOTSTRAP, DEFAULT_LISTEN
from collectors.probe_settings import ProbeSettings

KafkaValue = str | int | float | bool | SecretStr


class ConfigError(ValueError):
    """A config problem; the message names the key and what would be right."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_patterns(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"invalid regular expression {pattern!r}: {error}") from None
    return patterns


class ClusterSettings(_Strict):
    name: str = "default"
    bootstrap_servers: str = DEFAULT_BOOTSTRAP
    include: list[str] = Field(default_factory=lambda: [".*"])
    exclude: list[str] = Field(default_factory=list)
    read_committed_groups: list[str] = Field(default_factory=list)
    read_records: bool = True  # False: never fetch records; staleness is estimated
    # Where committed offsets come from: see collectors/committed_offsets.py.
    committed_offsets: Literal["auto", "offsets_topic", "admin"] = "auto"
    request_timeout_s: float = Field(default=10.0, gt=0)
    # Any librdkafka setting; values of secret keys (collectors.core.redact) are SecretStr.
    kafka: dict[str, KafkaValue] = Field(default_factory=dict)

    _patterns = field_validator("include", "exclude", "read_committed_groups")(_check_patterns)

    @field_validator("kafka", mode="before")
    @classmethod
    def _secrets(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        return {
            k: SecretStr(v) if is_secret_key(k) and isinstance(v, str) else v
            for k, v in value.items()
        }

    @field_validator("bootstrap_servers")
    @classmethod
    def _bootstrap(cls, value: str) -> str:
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"expected HOST:PORT[,HOST:PORT…], got {server.strip()!r}")
        return value

    def kafka_config(self) -> dict[str, Any]:
        """The librdkafka config, secrets included: hand it to clients, never print it."""
        plain = {
            k: v.get_secret_value() if isinstance(v, SecretStr) else v
            for k, v in self.kafka.items()
        }
        return {**plain, "bootstrap.servers": self.bootstrap_servers}

    def masked(self) -> dict[str, Any]:
        data = self.model_dump()
        data["kafka"] = mask_config(
            {k: MASK if isinstance(v, SecretStr) else v for k, v in self.kafka.items()}
        )
        return data

    def __repr__(self) -> str:  # never leak secrets through repr/logging
        return f"ClusterSettings({self.masked()!r})"

    __str__ = __repr__


MAX_RATE_POINTS = 1000


class CollectorSection(_Strict):
    interval_s: float = Field(default=1.0, gt=0, le=3600)
    listen: str = DEFAULT_LISTEN
    store: str = "lagwatch.duckdb"
    # The status rules read time, not sample counts (collectors/core/status.py).
    status_window_s: float = Field(default=120.0, ge=10, le=86400)  # WARN / IDLE window
    stall_floor_s: float = Field(default=30.0, gt=0, le=86400)  # least stall threshold
    rate_window_s: float = Field(default=30.0, gt=0)
    raw_retention_h: float = Field(default=24.0, gt=0)
    rollup_retention_d: float = Field(default=30.0, gt=0)
    visibility_samples: bool = True  # passive visibility latency samples (issue 12)

    @model_validator(mode="before")
    @classmethod
    def _removed_window(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "window" in data:
            raise ValueError(
                "'window' (a count of observations) was removed: statuses are decided in "
                "time now; set collector.status_window_s (seconds, default 120) and "
                "collector.stall_floor_s (seconds, default 30) instead"
            )
        return data

    @model_validator(mode="after")
    def _rate_history(self) -> CollectorSection:
        # The rate history keeps one point per cycle over the rate window, for every
        # group-partition: bound it (1,000 points is 8 MB per 1,000 group-partitions).
        if self.rate_window_s / self.interval_s > MAX_RATE_POINTS:
            raise ValueError(
                f"rate_window_s / interval_s must be at most {MAX_RATE_POINTS} cycles, got "
                f"{self.rate_window_s:g} / {self.interval_s:g}: lengthen interval_s or "
                "shorten rate_window_s"
            )
        return self

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"expected HOST:PORT such as 127.0.0.1:9477, got {value!r}")
        return value


class MetricsSection(_Strict):
    granularity: Literal["partition", "topic", "group"] = "partition"
    drop_empty_groups: bool = False


class StoreSection(_Strict):
    """The DuckDB store's costs (its file is ``collector.store``)."""

    # Partition rows at most this often (collectors/store/sampling.py); group and
    # group-topic rows every cycle. Unset or "auto": every cycle on a small cluster,
    # 2,000 rows/s on average on a big one. Each default equals its twin in
    # collectors/store.
    partition_sample_interval_s: float | None = Field(default=None, gt=0, le=86400)
    memory_limit_mib: int = Field(default=32, ge=16, le=1_048_576)  # DuckDB memory_limit
    threads: int = Field(default=1, ge=1, le=256)  # DuckDB worker threads

    @field_validator("partition_sample_interval_s", mode="before")
    @classmethod
    def _auto(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() == "auto" else value


class SloSettings(_Strict):
    group: str  # regular expression over group names
    target_s: float = Field(gt=0)
    objective: float = Field(gt=0, lt=1)
    period_d: float = Field(default=30.0, gt=0)  # error-budget period of the windowed SLO
    count_replays: bool = False  # count a REWIND's (replay's) staleness against the SLO

    _pattern = field_validator("group")(lambda v: _check_patterns([v])[0])


class PipelineSettings(_Strict):
    name: str
    cluster: str = "default"
    commands_topic: str
    handler_group: str
    events_topic: str
    projection_groups: list[str]


class Settings(_Strict):
    collector: CollectorSection = Field(default_factory=CollectorSection)
    metrics: MetricsSection = Field(default_factory=MetricsSection)
    store: StoreSection = Field(default_factory=StoreSection)
    clusters: list[ClusterSettings] = Field(default_factory=lambda: [ClusterSettings()])
    slo: list[SloSettings] = Field(default_factory=list)
    pipelines: list[PipelineSettings] = Field(default_factory=list)
    probes: list[ProbeSettings] = Field(default_factory=list)  # read-your-writes probes

    @field_validator("clusters")
    @classmethod
    def _unique_clusters(cls, value: list[ClusterSettings]) -> list[ClusterSettings]:
        if not value:
            raise ValueError("at least one [[clusters]] entry is needed")
        names = [c.name for c in value]
        if len(set(names)) != len(names):
            raise ValueError(f"cluster names must be unique, got {names}")
        return value

    @model_validator(mode="after")
    def _partition_interval(self) -> Settings:
        # Partition samples come from cycles: a shorter interval cannot be honoured. The
        # default (60 s) is not checked: with a longer cycle it stores every cycle.
        wanted = self.store.partition_sample_interval_s
        if wanted is not None and wanted < self.collector.interval_s:
            raise ValueError(
                f"store.partition_sample_interval_s ({wanted:g} s) must be at least "
                f"collector.interval_s ({self.collector.interval_s:g} s): partition "
                "samples are taken once per cycle at most; set it to "
                f"{self.collector.interval_s:g} to store every cycle"
            )
        return self

    def masked(self) -> dict[str, Any]:
        data = self.model_dump()
        data["clusters"] = [c.masked() for c in self.clusters]
        data["probes"] = [p.masked() for p in self.probes]  # header values may be secrets
        return data

    def __repr__(self) -> str:
        return f"Settings({self.masked()!r})"

    __str__ = __repr__


def load_settings(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """File, then environment, then command-line ``overrides`` ({"collector.listen": …}).

    Raises ConfigError with a message naming the key and the problem.
    """
    raw: dict[str, Any] = _read_toml(path) if path else {}
    _apply_env(raw, os.environ if env is None else env)
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set_dotted(raw, dotted, value)
    try:
        return Settings.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_describe(error, path)) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None


_SHORTCUTS = {
    "LAGWATCH_LISTEN": "collector.listen",
    "LAGWATCH_STORE": "collector.store",
    "LAGWATCH_INTERVAL": "collector.interval_s",
    "LAGWATCH_METRICS_GRANULARITY": "metrics.granularity",
}


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    for name, value in env.items():
        if not name.startswith("LAGWATCH_"):
            continue
        if name == "LAGWATCH_BOOTSTRAP":
            clusters = raw.setdefault("clusters", [{}])
            if not clusters:
                clusters.append({})
            clusters[0]["bootstrap_servers"] = value
        elif name in _SHORTCUTS:
            _set_dotted(raw, _SHORTCUTS[name], _scalar(value))
        elif "__" in name:
            section, _, key = name.removeprefix("LAGWATCH_").lower().partition("__")
            if section in ("collector", "metrics", "store"):
                _set_dotted(raw, f"{section}.{key}", _scalar(value))


def _scalar(text: str) -> Any:
    """Environment values are TOML scalars when they parse as one, else strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _set_dotted(raw: dict[str, Any], dotted: str, value: Any) -> None:
    section, _, key = dotted.partition(".")
    if section == "clusters":
        clusters = raw.setdefault("clusters", [{}])
        if not clusters:
            clusters.append({})
        clusters[0][key] = value
        return
    target = raw.setdefault(section, {})
    if not isinstance(target, dict):
        raise ConfigError(f"[{section}] must be a table")
    target[key] = value


def _describe(error: ValidationError, path: Path | None) -> str:
    where = f" in {path}" if path else ""
    problems = []
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see docs/configuration.md)"
        # Never echo the offending input: it may be a secret.
        problems.append(f"{key}: {message}")
    return f"invalid configuration{where}: " + "; ".join(problems)


def parse_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)
