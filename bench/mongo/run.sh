#!/usr/bin/env bash
# Paired rounds of MongoDB clients: aiomongo (one loop), the official driver
# from goroutines, Motor 2.3 (Debian's python3-motor); each round runs every
# client on every operation and concurrency, one after the other, against the
# same server. The server is pinned to core 0, the clients to core 1, Go
# clients with GOMAXPROCS=1, aio and the driver in alternating order. Prints
# a JSON line per measurement and, at the end, the medians of the per-round
# ratios.
#
#   bench/mongo/run.sh                 # the in-memory wire server, 5 rounds
#   SERVER=server bench/mongo/run.sh   # the embedded FerretDB instead
#   ROUNDS=3 D=1s bench/mongo/run.sh
set -euo pipefail
cd "$(dirname "$0")"
ROUNDS=${ROUNDS:-5}; D=${D:-2s}; SERVER=${SERVER:-fakeserver}
PY=/usr/bin/python3
bin=$(mktemp -d)/mongo
go build -o "$bin" .
exec 3< <(sleep 100000)
taskset -c 0 "$bin" "$SERVER" <&3 > "$bin.uri" &
srv=$!
trap 'kill $srv 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$bin.uri" ] && break; sleep 0.1; done
uri=$(head -1 "$bin.uri")
out=$bin.jsonl
for r in $(seq "$ROUNDS"); do
  # aio and the driver swap places from one round to the next, so that
  # neither always runs first after Motor.
  order="aio driver motor"
  if [ $((r % 2)) = 0 ]; then order="driver aio motor"; fi
  for op in insert findone cursor; do
    for c in 1 32; do
      for impl in $order; do
        if [ $impl = motor ]; then
          line=$(taskset -c 1 $PY motor_bench.py $op $c ${D%s} "$uri")
        else
          line=$(GOMAXPROCS=1 taskset -c 1 "$bin" client -impl $impl -op $op -c $c -d "$D" "$uri")
        fi
        echo "{\"round\":$r,${line#\{}" | tee -a "$out"
      done
    done
  done
done
$PY - "$out" <<'PY'
import json, sys, statistics as st, collections
rows = [json.loads(l) for l in open(sys.argv[1])]
by = collections.defaultdict(dict)
for x in rows:
    by[(x["round"], x["op"], x["c"])][x["impl"]] = x
print("\n| op | tasks | aio µs/op | aio / driver CPU | aio / Motor CPU | aio / driver ops/s |")
print("|---|---|---|---|---|---|")
for op in ["insert", "findone", "cursor"]:
    for c in [1, 32]:
        ks = [k for k in by if k[1] == op and k[2] == c and len(by[k]) == 3]
        med = lambda f: st.median(f(by[k]) for k in ks)
        print(f"| {op} | {c} | {med(lambda m: m['aio']['cpu_us_per_op']):.1f} "
              f"| {med(lambda m: m['aio']['cpu_us_per_op'] / m['driver']['cpu_us_per_op']):.2f} "
              f"| {med(lambda m: m['aio']['cpu_us_per_op'] / m['motor']['cpu_us_per_op']):.2f} "
              f"| {med(lambda m: m['aio']['ops_per_s'] / m['driver']['ops_per_s']):.2f} |")
PY
