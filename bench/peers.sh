#!/usr/bin/env bash
# Runs the peer benchmark kit (../shared/bench-peers, read-only) from a scratch
# copy, with aio's bench/tasks added as a peer, and prints the report.
#
#   bench/peers.sh                 # task suite, 3 runs
#   SUITES=echo bench/peers.sh     # echo servers
#   RUNS=5 bench/peers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
kit=${KIT:-../shared/bench-peers}
work=$(mktemp -d)
cp -r "$kit"/. "$work"/
go build -o "$work/bin-aio/tasks" ./bench/tasks
go build -o "$work/bin-aio/echo-server" ./bench/echo-server
(cd "$work" && SUITES=${SUITES:-tasks} RUNS=${RUNS:-3} OUT="$work/results" \
  EXTRA_TASKS="aio (1 loop)|$work/bin-aio/tasks BENCH" \
  EXTRA_ECHO="aio streams (1 loop)|$work/bin-aio/echo-server PORT;aio protocol (1 loop)|$work/bin-aio/echo-server -protocol PORT" \
  bash run.sh)
cat "$work/results.md"
echo "raw results: $work/results.jsonl"
