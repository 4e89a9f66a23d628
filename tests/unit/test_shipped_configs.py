"""The configuration files we ship load without errors."""

from pathlib import Path

import pytest

from collectors.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["lagwatch.example.toml", "lagwatch.demo.toml"])
def test_shipped_config_loads(name: str) -> None:
    settings = load_settings(ROOT / "deploy" / name, env={})
    assert settings.collector.listen.startswith("127.0.0.1:")


def test_demo_config_describes_the_bank_pipeline() -> None:
    settings = load_settings(ROOT / "deploy" / "lagwatch.demo.toml", env={})
    (pipeline,) = settings.pipelines
    assert pipeline.handler_group == "bank-command-handler"
    assert set(pipeline.projection_groups) == {"bank-balances", "bank-activity"}
