"""The dashboard launcher: command line, environment, bad input, and import hygiene."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dashboard import launch


def test_build_command_headless_no_stats_bound_to_host():
    cmd = launch.build_command(["http://127.0.0.1:9477"], host="127.0.0.1", port=8600)
    assert cmd[1:4] == ["-m", "streamlit", "run"]
    assert cmd[4].endswith("dashboard/streamlit_app.py")
    for option in ("--server.headless=true", "--browser.gatherUsageStats=false",
                   "--server.address=127.0.0.1", "--server.port=8600"):  # fmt: skip
        assert option in cmd


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"--port must be 1\.\.65535"):
        launch.build_command(["http://x:1"], port=0)
    with pytest.raises(ValueError, match="not an http"):
        launch.build_command(["ftp://x"])
    assert launch.main(["--collector", "ftp://nope"]) == 2


def test_environment_carries_the_urls():
    env = launch.environment(["127.0.0.1:9477", "http://b:1/"], "127.0.0.1:8003")
    assert env == {
        "LAGWATCH_COLLECTORS": "http://127.0.0.1:9477,http://b:1",
        "LAGWATCH_DEMO_CONTROL": "http://127.0.0.1:8003",
    }
    assert launch.environment([])["LAGWATCH_COLLECTORS"] == "http://127.0.0.1:9477"


def test_dashboard_imports_nothing_from_collectors_or_demo():
    root = Path(launch.__file__).resolve().parent
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(("collectors", "demo_system")), f"{path}: {name}"


def test_client_and_charts_do_not_import_streamlit():
    root = Path(launch.__file__).resolve().parent
    for name in ("client.py", "charts.py", "data.py", "fmt.py", "theme.py", "launch.py"):
        source = (root / name).read_text()
        assert "import streamlit" not in source and "from streamlit" not in source, name
