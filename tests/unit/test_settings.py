from pathlib import Path

import pytest

from collectors.core.redact import mask_config as mask_kafka_config
from collectors.settings import ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lagwatch.toml"
    path.write_text(text)
    return path


def test_defaults_bind_loopback_and_need_no_file() -> None:
    settings = load_settings(env={})
    assert settings.collector.listen == "127.0.0.1:9477"
    assert settings.clusters[0].bootstrap_servers == "127.0.0.1:9092"
    assert settings.metrics.granularity == "partition"


def test_file_then_env_then_flags(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[collector]\ninterval_s = 5\nlisten = "127.0.0.1:1"\n'
        '[[clusters]]\nname = "prod"\nbootstrap_servers = "a:1"\n',
    )
    env = {
        "LAGWATCH_INTERVAL": "2.5",
        "LAGWATCH_BOOTSTRAP": "b:2",
        "LAGWATCH_COLLECTOR__STATUS_WINDOW_S": "300",
    }
    settings = load_settings(path, env=env, overrides={"collector.listen": "127.0.0.1:9"})
    assert settings.collector.interval_s == 2.5
    assert settings.collector.status_window_s == 300
    assert settings.collector.listen == "127.0.0.1:9"
    assert settings.clusters[0].bootstrap_servers == "b:2"
    assert settings.clusters[0].name == "prod"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('[collector]\ninterval_s = "fast"\n', "collector.interval_s"),
        ("[collector]\nintervall_s = 1\n", "collector.intervall_s: unknown key"),
        ('[metrics]\ngranularity = "broker"\n', "metrics.granularity"),
        ('[[clusters]]\nbootstrap_servers = "nohost"\n', "clusters.0.bootstrap_servers"),
        ('[[clusters]]\ninclude = ["(unclosed"]\n', "clusters.0.include"),
        ('[[slo]]\ngroup = "g"\ntarget_s = 1\nobjective = 1.5\n', "slo.0.objective"),
        ('[[clusters]]\nname = "a"\n[[clusters]]\nname = "a"\n', "cluster names must be unique"),
        ('[collector]\nlisten = "everywhere"\n', "collector.listen"),
        ("[collector]\ninterval_s = 0.01\n", "rate_window_s / interval_s must be at most"),
        ('[[clusters]]\ncommitted_offsets = "sometimes"\n', "clusters.0.committed_offsets"),
        ("[collector]\nwindow = 2\n", "collector.status_window_s"),
        ("[collector]\nstall_floor_s = 0\n", "collector.stall_floor_s"),
        ("[collector]\nstatus_window_s = 1\n", "collector.status_window_s"),
    ],
)
def test_malformed_config_names_the_key(tmp_path: Path, text: str, names: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(write(tmp_path, text), env={})
    assert names in str(error.value)


def test_the_removed_window_count_names_the_time_based_settings(tmp_path: Path) -> None:
    """``window = 2`` used to turn stuck detection off; now it is a clear error."""
    with pytest.raises(ConfigError) as error:
        load_settings(write(tmp_path, "[collector]\nwindow = 10\n"), env={})
    text = str(error.value)
    assert "'window'" in text and "removed" in text
    assert "collector.status_window_s" in text and "collector.stall_floor_s" in text
    with pytest.raises(ConfigError, match=r"collector\.status_window_s"):
        load_settings(env={"LAGWATCH_COLLECTOR__WINDOW": "10"})


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[collector\n"), env={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", env={})


def test_secrets_are_masked_but_passed_through(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[clusters]]\n[clusters.kafka]\n"security.protocol" = "SASL_SSL"\n'
        '"sasl.password" = "s3cret"\n"ssl.key.pem" = "PEMDATA"\n'
        '"sasl.oauthbearer.client.secret" = "tok"\n',
    )
    settings = load_settings(path, env={})
    cluster = settings.clusters[0]
    assert cluster.kafka_config()["sasl.password"] == "s3cret"
    for text in (repr(settings), str(cluster), str(settings.masked())):
        assert "s3cret" not in text and "PEMDATA" not in text and "tok'" not in text
    assert cluster.masked()["kafka"]["security.protocol"] == "SASL_SSL"


def test_invalid_secret_value_is_not_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, '[[clusters]]\n[clusters.kafka]\n"sasl.password" = ["s3cret"]\n')
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert "s3cret" not in str(error.value)
    assert "clusters.0.kafka.sasl.password" in str(error.value)


def test_mask_kafka_config_keeps_non_secrets() -> None:
    masked = mask_kafka_config(
        {"sasl.username": "u", "sasl.password": "p", "ssl.key.location": "/k"}
    )
    assert masked == {"sasl.username": "u", "sasl.password": "***", "ssl.key.location": "***"}


def test_store_section_defaults_and_environment() -> None:
    store = load_settings(env={}).store
    assert (store.partition_sample_interval_s, store.memory_limit_mib, store.threads) == (
        None,  # auto: every cycle on a small cluster (collectors/store/sampling.py)
        32,
        1,
    )
    env = {
        "LAGWATCH_STORE": "history.duckdb",  # the file, still collector.store
        "LAGWATCH_STORE__PARTITION_SAMPLE_INTERVAL_S": "15",
        "LAGWATCH_STORE__MEMORY_LIMIT_MIB": "96",
        "LAGWATCH_STORE__THREADS": "2",
    }
    settings = load_settings(env=env)
    assert settings.collector.store == "history.duckdb"
    assert settings.store.partition_sample_interval_s == 15.0
    assert (settings.store.memory_limit_mib, settings.store.threads) == (96, 2)


def test_partition_sample_interval_below_the_cycle_names_both_keys(tmp_path: Path) -> None:
    text = "[collector]\ninterval_s = 5\n[store]\npartition_sample_interval_s = 2\n"
    with pytest.raises(ConfigError) as error:
        load_settings(write(tmp_path, text), env={})
    message = str(error.value)
    assert "store.partition_sample_interval_s (2 s) must be at least" in message
    assert "collector.interval_s (5 s)" in message
    # Equal is fine (every cycle), and the default (auto) never fails, nor does "auto".
    load_settings(write(tmp_path, text.replace("= 2", "= 5")), env={})
    assert load_settings(env={"LAGWATCH_INTERVAL": "120"}).store.partition_sample_interval_s is None
    auto = load_settings(write(tmp_path, text.replace("= 2", '= "auto"')), env={})
    assert auto.store.partition_sample_interval_s is None


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[store]\npartition_sample_interval_s = 0\n", "store.partition_sample_interval_s"),
        ("[store]\nmemory_limit_mib = 8\n", "store.memory_limit_mib"),
        ('[store]\nmemory_limit_mib = "1GB"\n', "store.memory_limit_mib"),
        ("[store]\nthreads = 0\n", "store.threads"),
        ("[store]\nmemory_limit = 100\n", "store.memory_limit: unknown key"),
    ],
)
def test_bad_store_settings_name_the_key(tmp_path: Path, text: str, names: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(write(tmp_path, text), env={})
    assert names in str(error.value)
