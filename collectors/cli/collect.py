"""``lagwatch collect``: run the collector (flags alone, or a TOML file plus flags).

    lagwatch collect --bootstrap-servers HOST:PORT --listen 127.0.0.1:9477 --store lagwatch.duckdb

Flags override the environment (``LAGWATCH_*``), which overrides the file.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "collect",
        help="run the collector: lag, staleness, status → DuckDB, /metrics, /api/v1",
        description="Collect read-side lag for every consumer group; serve /metrics and /api/v1.",
    )
    cmd.add_argument("--config", type=Path, help="TOML config file (see docs/configuration.md)")
    cmd.add_argument(
        "--bootstrap-servers",
        default=None,
        metavar="HOST:PORT[,…]",
        help="bootstrap servers of the (first) cluster (env LAGWATCH_BOOTSTRAP; "
        "default 127.0.0.1:9092)",
    )
    cmd.add_argument("--listen", help="HTTP address (default 127.0.0.1:9477)")
    cmd.add_argument("--store", help="DuckDB file (default lagwatch.duckdb); 'none' for no history")
    cmd.add_argument("--interval", type=float, help="seconds between cycles (default 1)")
    cmd.add_argument("--metrics-granularity", choices=("partition", "topic", "group"))
    cmd.add_argument(
        "--committed-offsets",
        choices=("auto", "offsets_topic", "admin"),
        help="where committed offsets come from (first cluster; default auto: "
        "__consumer_offsets, the Admin API when that topic may not be read)",
    )
    cmd.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    cmd.add_argument(
        "--print-config", action="store_true", help="print the effective config (secrets masked)"
    )
    cmd.add_argument(
        "--no-supervise",
        action="store_true",
        help="run the collector in this process; by default a supervisor process starts "
        "it again when it dies of a signal (collectors/cli/supervise.py)",
    )
    # Set by the supervisor on a collector it starts again: why (cli/supervise.py).
    cmd.add_argument("--restart-reason", help=argparse.SUPPRESS)
    cmd.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not (args.no_supervise or args.print_config):
        from collectors.cli.supervise import supervise

        return supervise(args.argv)

    from collectors.settings import ConfigError, load_settings

    # httpx logs every request at INFO: a probe polling every 0.1 s would flood the log.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLevelName(args.log_level)))
    try:
        settings = load_settings(
            args.config,
            overrides={
                "clusters.bootstrap_servers": args.bootstrap_servers,
                "collector.listen": args.listen,
                "collector.store": args.store,
                "collector.interval_s": args.interval,
                "metrics.granularity": args.metrics_granularity,
                "clusters.committed_offsets": args.committed_offsets,
            },
        )
    except ConfigError as error:
        print(f"lagwatch collect: {error}", file=sys.stderr)
        return 2
    if args.print_config:
        import json

        print(json.dumps(settings.masked(), indent=2))
        return 0
    return serve(settings, restart_reason=args.restart_reason)


def serve(settings, restart_reason: str | None = None) -> int:
    import uvicorn

    from collectors.bootstrap import build_service
    from collectors.process_memory import lean_process
    from collectors.serving.app import create_app
    from collectors.serving.exposition import MetricsRenderer
    from collectors.settings import parse_listen

    lean_process()  # two malloc arenas, Arrow on malloc, no pandas (a collector-only process)
    log = logging.getLogger("lagwatch.collect")
    store = None
    if settings.collector.store.lower() != "none":
        from collectors.store.db import open_store

        try:
            store = open_store(settings)
        except Exception as error:
            print(f"lagwatch collect: cannot open store: {error}", file=sys.stderr)
            return 2
    if restart_reason:
        log.warning("collector started again: %s", restart_reason)
    service = build_service(settings, store=store, restart_reason=restart_reason)
    app = create_app(
        service,
        store=store,
        renderer=MetricsRenderer(
            settings.metrics.granularity, drop_empty_groups=settings.metrics.drop_empty_groups
        ),
        topology=settings.pipelines,
        probes=list(settings.probes),
    )
    app.state.interval_s = settings.collector.interval_s
    host, port = parse_listen(settings.collector.listen)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    service.start()
    log.info(
        "collecting from %s every %.2fs; serving http://%s:%d (store: %s)",
        ", ".join(f"{c.name}={c.bootstrap_servers}" for c in settings.clusters),
        settings.collector.interval_s,
        host,
        port,
        settings.collector.store,
    )
    stopped = threading.Event()

    def _shutdown(*_: object) -> None:
        stopped.set()
        server.should_exit = True

    signal.signal(signal.SIGTERM, _shutdown)
    try:
        server.run()
    except SystemExit as exit_:
        code = exit_.code or 0
        if code:
            print(f"lagwatch collect: cannot listen on {host}:{port}", file=sys.stderr)
        return int(code) if isinstance(code, int) else 1
    finally:
        service.stop()
        if store is not None:
            store.close()
    if not stopped.is_set() and not server.started:
        print(f"lagwatch collect: cannot listen on {host}:{port}", file=sys.stderr)
        return 1
    return 0
