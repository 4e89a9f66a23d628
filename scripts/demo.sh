#!/usr/bin/env bash
# `make demo`: the whole local stack in one terminal. Kafka runs in the background (it
# keeps running afterwards: `make stop-demo` stops it); the collector, the dashboard, a
# gentle load and (if installed) Prometheus run until Ctrl-C; the demo bank runs in the
# foreground under its supervisor, which also serves the demo control API (:8003) that
# the dashboard's Demo page uses for load and fault buttons.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
STATE=.lagwatch/demo
mkdir -p "$STATE"
export LAGWATCH_BOOTSTRAP=${LAGWATCH_BOOTSTRAP:-127.0.0.1:9092}
DASHBOARD_PORT=${LAGWATCH_DASHBOARD_PORT:-8501}

wait_for() {  # wait_for URL SECONDS: until the URL answers (any 2xx), or give up quietly
  local deadline=$((SECONDS + $2))
  until curl -fs -o /dev/null "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

"$BIN/lagwatch" kafka start
pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$BIN/lagwatch" collect --config deploy/lagwatch.demo.toml >"$STATE/collector.log" 2>&1 &
pids+=($!)

"$BIN/lagwatch" dashboard --port "$DASHBOARD_PORT" --collector http://127.0.0.1:9477 \
  --demo-control http://127.0.0.1:8003 >"$STATE/dashboard.log" 2>&1 &
pids+=($!)

if command -v prometheus >/dev/null; then
  prometheus --config.file=deploy/prometheus/prometheus.yml \
    --storage.tsdb.path="$STATE/prometheus" --web.listen-address=127.0.0.1:9090 \
    >"$STATE/prometheus.log" 2>&1 &
  pids+=($!)
fi

# A gentle, steady load once the demo's command and control APIs answer (the load also
# retries its account openings until they are accepted); the Demo page changes it.
(
  wait_for http://127.0.0.1:8001/healthz 120 &&
    wait_for http://127.0.0.1:8003/healthz 120 &&
    curl -fs -X POST -H 'content-type: application/json' -d '{"rate": 20}' \
      http://127.0.0.1:8003/demo/load
) >"$STATE/load.log" 2>&1 &
pids+=($!)

cat <<TXT

lagwatch demo — running (Ctrl-C stops everything but Kafka; \`make stop-demo\` stops Kafka)

  dashboard        http://127.0.0.1:$DASHBOARD_PORT        <- open this

  Kafka            $LAGWATCH_BOOTSTRAP
  command API      http://127.0.0.1:8001     query API  http://127.0.0.1:8002/accounts/{id}
  demo control     http://127.0.0.1:8003/demo/status   (load and fault buttons on the Demo page)
  collector        http://127.0.0.1:9477/api/v1/groups   /metrics   /api/v1/topology
  Prometheus       http://127.0.0.1:9090 (when installed)
  logs             $STATE/*.log
  break things     the Demo page's fault buttons, or
                   $BIN/lagwatch demo fault pause --projection balances   (then: resume)
                   $BIN/lagwatch demo fault slow 200 --projection activity
                   $BIN/lagwatch demo fault crash|poison|rebalance --projection balances

TXT
"$BIN/lagwatch" demo up
