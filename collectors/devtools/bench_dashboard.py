"""``lagwatch bench dashboard``: how fast the dashboard draws, in a real browser.

Measures, with Debian's Chromium driven by playwright:

- first complete render: from navigation until every chart of the page has drawn
  (``[data-testid="stPlotlyChart"] .main-svg`` in each chart) and its table is there,
  for the Overview and for a group page;
- server time of one live refresh of the Overview (its three live fragments together:
  tiles, pipeline, groups table) with the 1-second query caches expired, measured
  in-process with ``streamlit.testing`` (no browser), so it is the Python cost alone.

at 50 and at 1,000 groups of 100 partitions each (1,000 groups = 100,000
group-partitions). The groups come from a **synthetic** collector API: a small local
HTTP server answering contract-shaped JSON (docs/api.md), so no broker is needed; the
numbers measure the dashboard, not the collector. The dashboard is started as
``python -m dashboard.launch`` and talks to it over HTTP exactly as to a real collector.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1440, "height": 1200}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "streamlit_app.py"
STATUSES = ("OK", "OK", "OK", "OK", "IDLE", "IDLE", "WARN", "STALL", "REWIND", "STOPPED")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the synthetic collector -------------------------------------------------------------


@dataclass(frozen=True)
class Synthetic:
    """Contract-shaped answers for ``groups`` groups of ``partitions`` partitions."""

    groups: int
    partitions: int
    now: float

    def name(self, i: int) -> str:
        return f"synthetic-projection-{i:04d}"

    def group(self, i: int) -> dict:
        status = STATUSES[i % len(STATUSES)]
        stale = 0.0 if status == "IDLE" else round(0.05 + (i % 97) * 0.7, 3)
        return {
            "cluster": "synthetic", "group": self.name(i), "observed_at": self.now,
            "state": "STABLE", "members": 3, "topics": [f"events-{i % 20}"],
            "offset_lag": (i % 97) * 40, "staleness_s": stale, "data_age_s": stale + 1,
            "consume_rate": 120.0, "produce_rate": 118.0,
            "eta_s": None if status in ("STALL", "STOPPED") else 4.2,
            "status": status, "partitions": self.partitions,
            "no_commit_partitions": 1 if i % 50 == 0 else 0, "events_expired_partitions": 0,
        }  # fmt: skip

    def detail(self, i: int) -> dict:
        g = self.group(i)
        topic = g["topics"][0]
        parts = [
            {"cluster": "synthetic", "group": g["group"], "topic": topic, "partition": p,
             "observed_at": self.now, "log_start": 0, "log_end": 10_000 + p,
             "committed": 10_000 + p - (p % 5), "offset_lag": p % 5, "no_commit": False,
             "events_expired": False, "staleness_s": (p % 5) * 0.3,
             "staleness_method": "exact", "data_age_s": 1.0, "clock_skew": False,
             "consume_rate": 1.2, "produce_rate": 1.2, "eta_s": None, "status": "OK",
             "error": None}
            for p in range(self.partitions)
        ]  # fmt: skip
        by_topic = [
            {
                "topic": topic,
                **{
                    k: g[k]
                    for k in (
                        "offset_lag",
                        "staleness_s",
                        "data_age_s",
                        "consume_rate",
                        "produce_rate",
                        "eta_s",
                        "status",
                        "partitions",
                        "no_commit_partitions",
                        "events_expired_partitions",
                    )
                },
            }
        ]
        return {**g, "by_topic": by_topic, "partitions": parts}

    def series(self, start: float, end: float, step: float | None) -> dict:
        step = max(step or 0.0, (end - start) / 300, 1.0)
        n = int((end - start) / step)
        points = [[start + k * step, round(1 + math.sin(k / 7) ** 2, 3)] for k in range(n)]
        return {"start": start, "end": end, "points": points}

    def heatmap(self, group: str, start: float, end: float) -> dict:
        n = 120
        step = (end - start) / n
        return {
            "group": group, "cluster": "synthetic", "metric": "staleness_s", "start": start,
            "end": end, "step_s": step, "times": [start + k * step for k in range(n)],
            "rows": [{"topic": "events-0", "partition": p,
                      "values": [((p + k) % 9) * 0.2 for k in range(n)]}
                     for p in range(self.partitions)],
        }  # fmt: skip

    def topology(self) -> dict:
        def stage(i: int) -> dict:
            g = self.group(i)
            return {k: g[k] for k in ("group", "status", "offset_lag", "staleness_s")}

        return {"pipelines": [{
            "name": "synthetic", "cluster": "synthetic", "commands_topic": "commands",
            "handler": stage(0), "events_topic": "events", "projections": [stage(1), stage(7)],
            "staleness_s": 5.0}]}  # fmt: skip

    def collector(self) -> dict:
        return {
            "version": "synthetic", "started_at": self.now - 3600, "interval_s": 1.0,
            "cycles": 3600, "cycle_seconds_last": 0.4, "cycle_seconds_p50": 0.35,
            "cycle_seconds_p95": 0.6, "errors_total": {"list_offsets": 0},
            "clusters": [{"cluster": "synthetic", "up": True, "last_success_at": self.now}],
            "store": None, "timestamp_cache": {"hits": 900, "misses": 100, "hit_ratio": 0.9},
        }  # fmt: skip


def serve_synthetic(data: Synthetic) -> tuple[ThreadingHTTPServer, str]:
    """Start the synthetic collector API on a free port; returns (server, base URL)."""
    groups_body = json.dumps(
        {"observed_at": data.now, "groups": [data.group(i) for i in range(data.groups)]}
    ).encode()
    index = {data.name(i): i for i in range(data.groups)}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            url = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            now = time.time()
            start = float(q.get("start") or now - 3600)
            end = float(q.get("end") or now)
            path = url.path
            body: object
            status = 200
            if path == "/api/v1/groups":
                self._send(200, groups_body)
                return
            if path.startswith("/api/v1/groups/"):
                i = index.get(unquote(path.removeprefix("/api/v1/groups/")))
                body, status = (data.detail(i), 200) if i is not None else (
                    {"error": "unknown group"}, 404)  # fmt: skip
            elif path == "/api/v1/series":
                body = {"metric": q.get("metric"), "group": q.get("group"),
                        **data.series(start, end, float(q.get("step") or 0))}  # fmt: skip
            elif path == "/api/v1/heatmap":
                body = data.heatmap(q.get("group", ""), start, end)
            elif path == "/api/v1/annotations":
                body = {"annotations": [{"at": now - 120, "kind": "status_change",
                                         "cluster": "synthetic", "group": q.get("group"),
                                         "message": "OK -> STALL"}]}  # fmt: skip
            elif path == "/api/v1/slo":
                body = {"since": data.now - 3600, "slos": []}
            elif path == "/api/v1/topology":
                body = data.topology()
            elif path == "/api/v1/collector":
                body = data.collector()
            elif path == "/healthz":
                body = {
                    "status": "ok",
                    "last_cycle_at": now,
                    "cycle_duration_s": 0.4,
                    "age_s": 0.5,
                    "clusters": [{"cluster": "synthetic", "up": True}],
                }
            else:
                body, status = {"detail": "Not Found"}, 404
            self._send(status, json.dumps(body).encode())

        def _send(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# --- measuring -------------------------------------------------------------------------------


def _start_dashboard(collector_url: str, log: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    port = _free_port()
    env = {**os.environ, "LAGWATCH_COLLECTORS": collector_url,
           "LAGWATCH_DEMO_CONTROL": f"http://127.0.0.1:{_free_port()}"}  # fmt: skip
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "dashboard.launch", "--collector", collector_url,
             "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/_stcore/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"dashboard did not start; see {log}")


_DRAWN = """([min, pipeline]) => {
    const charts = document.querySelectorAll('[data-testid="stPlotlyChart"]');
    if (charts.length < min) return false;
    if (![...charts].every(c => c.querySelector('.main-svg'))) return false;
    if (pipeline && !document.querySelector('.lw-pipeline svg g[data-group]')) return false;
    return document.querySelector('[data-testid="stDataFrame"] canvas') !== null;
}"""


def _render_time(
    context, url: str, min_charts: int, pipeline: bool = False, drawn: str = _DRAWN
) -> float:
    """Seconds from navigation until at least ``min_charts`` Plotly charts have drawn,
    each of them, the table's canvas is there, and (``pipeline``) the Overview's SVG
    flow is drawn (``drawn``: another condition, same arguments). Every navigation is
    a new Streamlit session; what the browser has cached is up to ``context``."""
    page = context.new_page()
    try:
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_function(drawn, arg=[min_charts, pipeline], timeout=120_000, polling=20)
        return time.perf_counter() - started
    finally:
        page.close()


def _cold(browser, url: str, min_charts: int, pipeline: bool = False, drawn: str = _DRAWN) -> float:
    """First visit: a fresh browser context, nothing cached."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        return _render_time(context, url, min_charts, pipeline, drawn)
    finally:
        context.close()


# --- the floor: what Streamlit and Plotly cost on this machine before any dashboard code ---

FLOOR_APPS = {
    "bare": 'import streamlit as st\n\nst.title("floor")\nst.write("drawn")\n',
    "chart": (
        "import plotly.graph_objects as go\nimport streamlit as st\n\n"
        'st.title("floor")\nst.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])))\n'
    ),
}
_FLOOR_DRAWN = """([charts]) => charts
    ? document.querySelector('[data-testid="stPlotlyChart"] .main-svg') !== null
    : [...document.querySelectorAll('[data-testid="stMarkdownContainer"]')]
        .some(e => e.textContent.includes("drawn"))"""


def _floor(browser, workdir: Path, repeats: int) -> dict[str, float]:
    """Median first-visit render of a one-line Streamlit page and of a page with one
    three-point Plotly chart, served by the same Streamlit the dashboard uses: the part
    of every dashboard number that no dashboard code can remove."""
    import httpx

    out = {}
    for name, source in FLOOR_APPS.items():
        app = workdir / f"floor_{name}.py"
        app.write_text(source)
        port = _free_port()
        with open(workdir / f"floor-{name}.log", "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless",
                 "true", "--server.address", "127.0.0.1", "--server.port", str(port),
                 "--browser.gatherUsageStats", "false"], stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}/"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(url + "_stcore/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            charts = int(name == "chart")
            _cold(browser, url, charts, False, _FLOOR_DRAWN)  # the server's first run
            out[name] = statistics.median(
                _cold(browser, url, charts, False, _FLOOR_DRAWN) for _ in range(repeats)
            )
        finally:
            process.terminate()
            process.wait(20)
    return out


def _refresh_server_time(collector_url: str, repeats: int) -> float:
    """Median seconds of one Overview rerun with the 1 s caches expired (in-process)."""
    os.environ["LAGWATCH_COLLECTORS"] = collector_url
    os.environ["LAGWATCH_DEMO_CONTROL"] = f"http://127.0.0.1:{_free_port()}"
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()  # warm: imports, sparklines (cached 15 s like in a browser session)
    times = []
    for _ in range(repeats):
        # what expires between two refreshes 2 s apart: the 1 s and 2 s query caches
        from dashboard import ui

        for cached in (ui.groups, ui.healthz, ui.topology, ui.slo):
            cached.clear()
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        if at.exception:
            raise RuntimeError(f"the Overview failed: {at.exception[0].value}")
    return statistics.median(times)


@dataclass(frozen=True)
class Result:
    groups: int
    partitions: int
    overview_render_s: float  # first visit: nothing cached in the browser
    group_render_s: float
    overview_return_s: float  # return visit: the browser has the dashboard's files cached
    group_return_s: float
    refresh_server_s: float
    floor_bare_s: float  # first visit of a one-line Streamlit page, same browser
    floor_chart_s: float  # ... and of a page with one three-point Plotly chart


def measure(groups: int, partitions: int, repeats: int, workdir: Path) -> Result:
    from playwright.sync_api import sync_playwright

    server, url = serve_synthetic(Synthetic(groups, partitions, time.time()))
    process, dash = _start_dashboard(url, workdir / f"dashboard-{groups}.log")
    group = Synthetic(groups, partitions, 0).name(7)
    overview_url, group_url = dash + "/", dash + f"/group?group={group}&range=1h"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                _cold(browser, overview_url, 0, True)  # warm the server (imports)
                _cold(browser, group_url, 4)
                overview = [_cold(browser, overview_url, 0, True) for _ in range(repeats)]
                page = [_cold(browser, group_url, 4) for _ in range(repeats)]
                returning = browser.new_context(viewport=VIEWPORT)
                _render_time(returning, overview_url, 0, True)  # the first visit fills
                _render_time(returning, group_url, 4)  # the browser's cache
                overview_back = [_render_time(returning, overview_url, 0, True)
                                 for _ in range(repeats)]  # fmt: skip
                page_back = [_render_time(returning, group_url, 4) for _ in range(repeats)]
                returning.close()
                floor = _floor(browser, workdir, repeats)
            finally:
                browser.close()
        refresh = _refresh_server_time(url, repeats)
    finally:
        process.terminate()
        process.wait(20)
        server.shutdown()
        server.server_close()
    return Result(groups, groups * partitions, statistics.median(overview),
                  statistics.median(page), statistics.median(overview_back),
                  statistics.median(page_back), refresh, floor["bare"],
                  floor["chart"])  # fmt: skip


TARGETS = {50: (2.0, 0.2), 1000: (4.0, None)}  # groups -> (first render s, refresh s)


def table(results: Sequence[Result]) -> str:
    lines = [
        "| groups (synthetic API) | group-partitions | Overview: first visit / return visit "
        "| group page: first visit / return visit | live refresh, server "
        "| floor: bare page / one chart | target |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        render, refresh = TARGETS.get(r.groups, (None, None))
        target = []
        if render:
            target.append(f"render < {render:.0f} s")
        if refresh:
            target.append(f"refresh < {refresh * 1000:.0f} ms")
        lines.append(
            f"| {r.groups:,} | {r.partitions:,} | {r.overview_render_s:.2f} s / "
            f"{r.overview_return_s:.2f} s | {r.group_render_s:.2f} s / {r.group_return_s:.2f} s"
            f" | {r.refresh_server_s * 1000:.0f} ms | {r.floor_bare_s:.2f} s / "
            f"{r.floor_chart_s:.2f} s | {', '.join(target)} |"
        )
    return "\n".join(lines)


def measure_all(
    sizes: Sequence[int] = (50, 1000),
    partitions: int = 100,
    repeats: int = 3,
    workdir: Path | None = None,
    say=print,
) -> list[Result]:
    """Measure every size; prints a table and returns the results.

    ``workdir`` holds the dashboard logs (default: a temporary directory).
    """
    import tempfile

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} not found: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="lagwatch-bench-dashboard-") as tmp:
        where = workdir or Path(tmp)
        results = []
        for size in sizes:
            say(f"dashboard: {size} groups x {partitions} partitions (synthetic collector API)")
            results.append(measure(size, partitions, repeats, where))
    say(table(results))
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sizes", default="50,1000", help="comma-separated group counts (default 50,1000)"
    )
    parser.add_argument("--partitions", type=int, default=100, help="partitions per group")
    parser.add_argument("--repeats", type=int, default=3, help="measured renders per page")
    parser.add_argument("--no-write", action="store_true", help="print only")


def run(args: argparse.Namespace) -> int:
    """``lagwatch bench dashboard``: measure, print, write docs/benchmarks.md."""
    from collectors.devtools.bench_report import write_section

    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        print(f"lagwatch bench dashboard: --sizes wants numbers like 50,1000, got {args.sizes!r}")
        return 2
    load_before = os.getloadavg()[0]
    results = measure_all(sizes, args.partitions, args.repeats)
    body = (
        "### Dashboard: first render and live refresh (`lagwatch bench dashboard`)\n\n"
        "Real Chromium (Debian package) against a **synthetic** collector API serving "
        "contract-shaped JSON for N groups, so the browser and Streamlit costs are measured "
        "without a broker of that size. First render: navigation until every chart of the "
        "page has drawn (median of the repeats), on a first visit (a fresh browser context: "
        "nothing cached, every script downloaded and compiled) and on a return visit (the "
        "same browser opened the dashboard before, so its hashed script bundles come from "
        "the browser's cache; every navigation is still a new Streamlit session). Live "
        "refresh: the server time of the requests one refresh of the Overview makes. "
        "Floor: the same first-visit measurement of two pages that contain no dashboard "
        "code, served by the same Streamlit in the same browser: a one-line page, and a "
        "page with one three-point Plotly chart (`st.plotly_chart`). Every page with a "
        "chart pays at least the second; the Overview draws no Plotly chart (its pipeline "
        "is SVG) and pays at least the first.\n\n"
        + table(results)
        + f"\n\nLoad average before / after: {load_before:.1f} / {os.getloadavg()[0]:.1f}."
    )
    if not args.no_write:
        print(f"written to {write_section('dashboard', body)}")
    return 0


if __name__ == "__main__":
    cli = argparse.ArgumentParser(prog="python -m collectors.devtools.bench_dashboard")
    add_arguments(cli)
    raise SystemExit(run(cli.parse_args()))
