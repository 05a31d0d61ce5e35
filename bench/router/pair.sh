#!/bin/bash
# Two versions of the router side by side (docs/BENCHMARKS.md, "Router", run F): both listen at
# once in front of one tiny app, and wrk alternates between them (order swapped every round), so
# that background load hits both alike. Prints CPU-seconds per 10,000 requests and req/s per round,
# then their medians and the median of B/A within a round.
#
#   bench/router/pair.sh ROUNDS SECONDS DIR_A DIR_B
#
# DIR_A / DIR_B: checkouts of this repository (e.g. `git archive <commit> | tar -x -C /tmp/a`, with
# node_modules symlinked in). Loopback only; ports 18081 (app), 18090 (A), 18091 (B).
# Access lines go to /dev/null (the full bench reads them from a pipe).
set -eu
ROUNDS=$1 SECS=$2 A=$3 B=$4
W=$(mktemp -d /tmp/router-pair-XXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT
node -e "
const http=require('node:http');const body=Buffer.from('hello\n');
http.createServer((q,r)=>{q.resume();r.writeHead(200,{'content-type':'text/plain','content-length':body.length});r.end(body)}).listen(18081,'127.0.0.1')" &
PIDS+=($!)
echo '{"version":1,"apps":{"bench":{"hosts":["bench.localhost"],"backends":[{"dyno":"web.1","host":"127.0.0.1","port":18081}]}}}' >"$W/routes.json"
(cd "$A" && PAAS_DATA_DIR=$W PAAS_HTTP_PORT=18090 PAAS_BIND=127.0.0.1 exec node --import tsx router/main.ts >/dev/null 2>&1) &
PIDS+=($!)
(cd "$B" && PAAS_DATA_DIR=$W PAAS_HTTP_PORT=18091 PAAS_BIND=127.0.0.1 exec node --import tsx router/main.ts >/dev/null 2>&1) &
PIDS+=($!)
PA=${PIDS[1]} PB=${PIDS[2]}
sleep 3
TCK=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
run() { # port pid → "cpu-s/10k req/s"
  local c0 c1 out
  c0=$(cpu "$2")
  out=$(wrk -t2 -c50 -d"${SECS}s" -H 'Host: bench.localhost' "http://127.0.0.1:$1/")
  c1=$(cpu "$2")
  echo "$out" | awk -v a="$c0" -v b="$c1" -v t="$TCK" '/requests in/{n=$1} /Requests\/sec/{r=$2} END{printf "%.3f %s", (b-a)/t/n*10000, r}'
}
run 18090 "$PA" >/dev/null
run 18091 "$PB" >/dev/null
for i in $(seq "$ROUNDS"); do
  if [ $((i % 2)) = 1 ]; then a=$(run 18090 "$PA"); b=$(run 18091 "$PB"); else b=$(run 18091 "$PB"); a=$(run 18090 "$PA"); fi
  echo "round $i load $(cut -d' ' -f1 /proc/loadavg)  A $a  B $b"
done | tee "$W/rounds"
# Medians over the rounds, and of B/A within each round (the pairing is what cancels the noise).
awk '{ca[NR]=$6; ra[NR]=$7; cb[NR]=$9; rb[NR]=$10; cr[NR]=$9/$6; rr[NR]=$10/$7}
  function med(x, n,  i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
    return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2 }
  END { n = NR; printf "median  A %.3f CPU-s/10k %.0f req/s  B %.3f CPU-s/10k %.0f req/s  B/A: CPU %.3f, req/s %.3f\n", med(ca, n), med(ra, n), med(cb, n), med(rb, n), med(cr, n), med(rr, n) }' "$W/rounds"
