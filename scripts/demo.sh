#!/usr/bin/env bash
# `make demo`: the whole local stack in one terminal. Kafka runs in the background (it
# keeps running afterwards: `make stop-demo` stops it); the collector, a gentle load and
# (if installed) Prometheus run until Ctrl-C; the demo bank runs in the foreground under
# its supervisor.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
STATE=.lagwatch/demo
mkdir -p "$STATE"
export LAGWATCH_BOOTSTRAP=${LAGWATCH_BOOTSTRAP:-127.0.0.1:9092}

"$BIN/lagwatch" kafka start
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$BIN/lagwatch" collect --config deploy/lagwatch.demo.toml >"$STATE/collector.log" 2>&1 &
pids+=($!)

if command -v prometheus >/dev/null; then
  prometheus --config.file=deploy/prometheus/prometheus.yml \
    --storage.tsdb.path="$STATE/prometheus" --web.listen-address=127.0.0.1:9090 \
    >"$STATE/prometheus.log" 2>&1 &
  pids+=($!)
fi

# A gentle, steady load once the command API answers.
(
  for _ in $(seq 1 120); do
    curl -fs -o /dev/null http://127.0.0.1:8001/healthz 2>/dev/null && break
    sleep 0.5
  done
  exec "$BIN/lagwatch" demo load --rate 20 --duration 86400
) >"$STATE/load.log" 2>&1 &
pids+=($!)

cat <<TXT

lagwatch demo — running (Ctrl-C stops everything but Kafka)
  Kafka            $LAGWATCH_BOOTSTRAP
  command API      http://127.0.0.1:8001     query API  http://127.0.0.1:8002/accounts/{id}
  collector        http://127.0.0.1:9477/api/v1/groups   /metrics   /api/v1/topology
  Prometheus       http://127.0.0.1:9090 (when installed)
  logs             $STATE/*.log
  break things     $BIN/lagwatch demo fault pause --projection balances   (then: resume)
                   $BIN/lagwatch demo fault slow 200 --projection activity
                   $BIN/lagwatch demo fault crash|poison|rebalance --projection balances

TXT
"$BIN/lagwatch" demo up
