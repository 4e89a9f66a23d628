"""Start the dashboard: ``streamlit run dashboard/streamlit_app.py``, headless.

    python -m dashboard.launch [--collector URL ...] [--host 127.0.0.1] [--port 8501]
                               [--demo-control URL]

The collector URLs reach the app as ``LAGWATCH_COLLECTORS`` (comma-separated) and the
demo control URL as ``LAGWATCH_DEMO_CONTROL``. Streamlit settings (headless, no usage
statistics, bind address, theme) are passed on the command line, so the app looks and
behaves the same from whatever directory it is started.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from dashboard.client import DEFAULT_COLLECTOR, DEFAULT_DEMO_CONTROL, normalize_url

APP = Path(__file__).resolve().parent / "streamlit_app.py"

# the theme, once (Okabe-Ito blue as the accent; the status palette lives in theme.py)
STREAMLIT_OPTIONS: dict[str, str] = {
    "server.headless": "true",
    "browser.gatherUsageStats": "false",
    "server.runOnSave": "false",
    "server.fileWatcherType": "none",
    "client.toolbarMode": "minimal",
    "theme.base": "light",
    "theme.primaryColor": "#0072B2",
    "theme.backgroundColor": "#FFFFFF",
    "theme.secondaryBackgroundColor": "#F4F6F8",
    "theme.textColor": "#1F2933",
}


def build_command(
    collectors: Sequence[str] = (DEFAULT_COLLECTOR,),
    host: str = "127.0.0.1",
    port: int = 8501,
    python: str = sys.executable,
) -> list[str]:
    """The ``streamlit run`` command line. The collectors travel in the environment
    (:func:`environment`); they are validated here so a bad URL fails before start.

    Raises ``ValueError`` for a malformed collector URL, a port outside 1..65535 or an
    empty host.
    """
    environment(collectors)
    if not 0 < int(port) < 65536:
        raise ValueError(f"--port must be 1..65535, got {port}")
    if not host:
        raise ValueError("--host must not be empty (e.g. 127.0.0.1)")
    options = {**STREAMLIT_OPTIONS, "server.address": host, "server.port": str(int(port))}
    return [
        python, "-m", "streamlit", "run", str(APP),
        *[f"--{key}={value}" for key, value in options.items()],
    ]  # fmt: skip


def environment(
    collectors: Sequence[str], demo_control: str = DEFAULT_DEMO_CONTROL
) -> dict[str, str]:
    """``LAGWATCH_COLLECTORS`` and ``LAGWATCH_DEMO_CONTROL`` for the app; URLs checked.

    Raises ``ValueError`` naming a malformed URL.
    """
    urls: list[str] = []
    for url in collectors or (DEFAULT_COLLECTOR,):
        normal = normalize_url(url)
        if normal not in urls:
            urls.append(normal)
    return {
        "LAGWATCH_COLLECTORS": ",".join(urls),
        "LAGWATCH_DEMO_CONTROL": normalize_url(demo_control),
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lagwatch dashboard", description="Run the lagwatch dashboard (Streamlit)."
    )
    p.add_argument(
        "--collector", action="append", metavar="URL",
        help=f"collector API (repeat for several; default {DEFAULT_COLLECTOR})",
    )  # fmt: skip
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    p.add_argument(
        "--demo-control", default=DEFAULT_DEMO_CONTROL, metavar="URL",
        help=f"demo control API; the Demo page shows while it answers "
        f"(default {DEFAULT_DEMO_CONTROL})",
    )  # fmt: skip
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the dashboard in the foreground until interrupted; returns the exit code."""
    args = parser().parse_args(argv)
    collectors = args.collector or [DEFAULT_COLLECTOR]
    try:
        env = environment(collectors, args.demo_control)
        command = build_command(collectors, args.host, args.port)
    except ValueError as error:
        print(f"lagwatch dashboard: {error}", file=sys.stderr)
        return 2
    print(
        f"lagwatch dashboard: http://{args.host}:{args.port} "
        f"(collectors: {env['LAGWATCH_COLLECTORS']})",
        flush=True,
    )
    process = subprocess.Popen(command, env={**os.environ, **env})
    # a supervisor's SIGTERM stops Streamlit too
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            return process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()


if __name__ == "__main__":
    raise SystemExit(main())
