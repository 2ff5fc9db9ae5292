#!/usr/bin/env bash
# The bundled traffic app served at its planned 300 req/s (sleep runner, Poisson, 10 s) with
# `--admit-slack 1` and `--admit-slack auto`, alternating for two rounds; prints attainment of sent
# and the server's admitted/refused/on-time counts. Run from the repository root:
#     bash bench/admit_slack.sh
set -euo pipefail
B=.venv/bin
plan=$(mktemp)
$B/skinflint plan examples/traffic/app.yaml --format json > "$plan" 2>/dev/null
for round in 1 2; do
  for slack in 1 auto; do
    port=$((8700 + round * 10 + ${#slack}))
    log=$(mktemp)
    $B/skinflint serve examples/traffic/app.yaml --plan "$plan" --runner sleep --port $port --admit-slack $slack > "$log" 2>&1 &
    pid=$!
    for _ in $(seq 60); do curl -s "localhost:$port/v2/health/ready" > /dev/null && break; sleep 1; done
    got=$($B/skinflint load "http://127.0.0.1:$port" --rate 300 --duration 10 --format json 2>/dev/null)
    kill -TERM $pid; wait $pid || true
    echo "round $round --admit-slack $slack: $(echo "$got" | $B/python -c 'import json,sys; print(format(json.load(sys.stdin)["slo_attainment"], ".2%"), "of sent within the SLO")') | $(grep -o 'stopped.*' "$log")"
  done
done
