#!/usr/bin/env bash
# Paired A/B rounds of echo servers: each round starts every server in turn,
# in the same minute, with the peer kit's load client, so the machine's slow
# drift hits them alike. Prints each run and, per server, the median over the
# rounds of its server CPU per request divided by the first server's.
#
#   bench/ab.sh SIZE CONNS ROUNDS name=CMD [name=CMD ...]
#   bench/ab.sh 1024 10 5 aio=aio-echo go=gonet gnet=gnet
#
# CMD is a program in $BIN (default: a scratch folder the script fills with
# the kit's load client, gonet, gnet and bench/echo-server as aio-echo) with
# its arguments; the port is appended. Server on core 0, client on core 1, as
# in the kit. ECHO_D sets the window (default 3s).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 4 ] || { sed -n 2,13p "$0"; exit 2; }
size=$1 conns=$2 rounds=$3; shift 3
kit=${KIT:-../shared/bench-peers}
if [ -z "${BIN:-}" ]; then
  BIN=$(mktemp -d)
  (cd "$kit" && go build -o "$BIN/" ./echoload ./echo/gonet ./echo/gnet)
  go build -o "$BIN/aio-echo" ./bench/echo-server
fi
export PATH="$BIN:$PATH"
srv=
trap '[ -n "$srv" ] && kill $srv 2>/dev/null' EXIT
port=$((26000 + RANDOM % 2000))
declare -A cpu rps p99s
for r in $(seq "$rounds"); do
  for spec in "$@"; do
    name=${spec%%=*} cmd=${spec#*=}; port=$((port + 1))
    taskset -c 0 $cmd $port >/dev/null 2>&1 & srv=$!
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
    j=$(taskset -c 1 echoload -addr 127.0.0.1:$port -c "$conns" -s "$size" -d "${ECHO_D:-3s}" -pid $srv -json)
    kill $srv; wait $srv 2>/dev/null || true; srv=
    us=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("%.3f %.0f %.0f %.1f" % (r["server_cpu_pct"]*1e4/r["rps"], r["rps"], r["p99_us"], r["server_cpu_pct"]))' "$j")
    read -r c rate lat pct <<<"$us"
    printf 'round %s %-8s %6s us/req  %7s req/s  p99 %5s us  server %5s%%\n' "$r" "$name" "$c" "$rate" "$lat" "$pct"
    cpu[$name]+="$c " rps[$name]+="$rate " p99s[$name]+="$lat "
  done
done
first=${1%%=*}
for spec in "$@"; do
  name=${spec%%=*}
  python3 - "$name" "$first" "${cpu[$name]}" "${cpu[$first]}" "${rps[$name]}" "${p99s[$name]}" <<'PY'
import statistics, sys
name, first, a, b, rps, p99 = sys.argv[1], sys.argv[2], *(x.split() for x in sys.argv[3:])
r = [float(x) / float(y) for x, y in zip(b, a)]
med = lambda xs: statistics.median(map(float, xs))
print(f"{name:8s} medians: {med(a):.3f} us/req, {med(rps):.0f} req/s, p99 {med(p99):.0f} us; "
      f"CPU {first}/{name}: median {statistics.median(r):.3f} (rounds: {' '.join(f'{x:.3f}' for x in r)})")
PY
done
