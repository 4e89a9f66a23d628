"""``[[probes]]`` settings: off by default, bad values named, header secrets masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectors.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_probes_are_off_unless_configured() -> None:
    assert load_settings(env={}).probes == []


def test_the_demo_config_ships_a_probe_of_the_balances_read_model() -> None:
    probe = load_settings(ROOT / "deploy" / "lagwatch.demo.toml", env={}).probes[0]
    assert probe.target == "bank-balances" and probe.command.id_field == "command_id"
    assert probe.check.url.endswith("/commands/{id}?read_model=balances")
    assert probe.check.value == "applied"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def test_bad_probe_values_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, """
[[probes]]
name = "p"
timeout_s = 0.5
check_interval_s = 1.0
[probes.command]
url = "ftp://x/commands"
[probes.check]
url = "http://x/{id}"
""")  # fmt: skip
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    text = str(error.value)
    assert "probes.0.command.url" in text and "http://" in text
    with pytest.raises(ConfigError, match="check_interval_s"):
        load_settings(write(tmp_path, path.read_text().replace("ftp://", "http://")), env={})


def test_probe_header_values_are_masked(tmp_path: Path) -> None:
    path = write(tmp_path, """
[[probes]]
name = "p"
[probes.command]
url = "http://x/commands"
headers = { Authorization = "Bearer s3cr3t" }
[probes.check]
url = "http://x/{id}"
""")  # fmt: skip
    settings = load_settings(path, env={})
    assert settings.probes[0].command.headers["Authorization"] == "Bearer s3cr3t"
    assert "s3cr3t" not in json.dumps(settings.masked()) and "s3cr3t" not in repr(settings)
