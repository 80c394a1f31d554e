#!/usr/bin/env bash
# Memory per idle keep-alive HTTP connection: starts a server (the kit's
# convention: it takes the port as its argument), opens N connections that
# each make one GET /plaintext and then stay open, and prints the growth of
# the server's RSS divided by N, in KiB.
#
#   bench/http-idle.sh "CMD" [N]
#   bench/http-idle.sh /tmp/aio-httpd 10000
set -euo pipefail
cmd=$1 n=${2:-10000}
ulimit -n $((n + 1024))
port=$((28000 + RANDOM % 1000))
$cmd $port & pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
  sleep 0.1
done
rss() { awk '/VmRSS/ {print $2}' /proc/$pid/status; }
before=$(rss)
python3 - "$port" "$n" "$pid" "$before" <<'PY'
import socket, sys, time
port, n, pid, before = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
req = b"GET /plaintext HTTP/1.1\r\nHost: bench\r\n\r\n"
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req)
    got = b""
    while not got.endswith(b"Hello, World!"):
        got += s.recv(4096)
    socks.append(s)
time.sleep(2)
rss = int([l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0].split()[1])
print(f'{{"conns": {n}, "rss_before_kib": {before}, "rss_after_kib": {rss}, "kib_per_conn": {(rss - before) / n:.2f}}}')
PY
