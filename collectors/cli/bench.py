"""``lagwatch bench collector|core|metrics|demo``: benchmarks that print numbers and write
``docs/benchmarks.md``. Each benchmark lives in its own module with ``add_arguments``
and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib

from collectors.cli.options import add_bootstrap_option

BENCHMARKS = {
    "collector": (
        "collectors.devtools.bench_collector",
        "collection cycle time over many group-partitions",
    ),
    "core": (
        "collectors.devtools.bench_core",
        "synthetic: the pure cycle at 1,000,000 group-partitions, no broker",
    ),
    "metrics": ("collectors.devtools.bench_metrics", "/metrics scrape latency"),
    "status": ("collectors.devtools.bench_status", "status accuracy: confusion matrix"),
    "status-demo": (
        "collectors.devtools.bench_status_demo",
        "the demo under steady load reads only OK or IDLE",
    ),
    "demo": ("collectors.devtools.bench_demo", "demo throughput and command-to-visible latency"),
    "dashboard": (
        "collectors.devtools.bench_dashboard",
        "dashboard render time in a real browser (Chromium)",
    ),
}


def register(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser("bench", help="run a benchmark and write docs/benchmarks.md")
    kinds = bench.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for name, (module_name, text) in BENCHMARKS.items():
        cmd = kinds.add_parser(name, help=text)
        add_bootstrap_option(cmd)
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            cmd.set_defaults(handler=lambda _a, n=name: _missing(n))
            continue
        module.add_arguments(cmd)
        cmd.set_defaults(handler=module.run)


def _missing(name: str) -> int:
    print(f"lagwatch bench {name}: not available in this build")
    return 2
