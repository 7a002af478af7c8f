#!/bin/sh
# server-bench.sh - log4scan-server: ingest throughput and dashboard latency.
#
#   sh bench/server-bench.sh [DEVICES] [PG_DEVICES]
#
# SQLite: ingests DEVICES (default 100000) first reports of 20 findings
# each (2,000,000 findings) with bench/server-loadgen.c (32 keep-alive
# clients), then 20000 re-reports of unchanged devices (a fleet's steady
# state), then times the dashboard's API calls (median of 5, curl).
# PostgreSQL: the same with PG_DEVICES (default 20000) devices, on
# $L4S_PG_URL or a throwaway cluster (scripts/pg-cluster.sh).
# Uses the optimised build (build/log4scan-server).  Results: bench/out/server/.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
N=${1:-100000}
NPG=${2:-20000}
out=bench/out/server
rm -rf "$out"
mkdir -p "$out" build/bench
S=build/log4scan-server
[ -x "$S" ] || make build/log4scan-server >/dev/null
cc -std=c17 -D_GNU_SOURCE -O2 -Ilib -pthread -o build/bench/server-loadgen bench/server-loadgen.c lib/buf.c -lcurl
LG=build/bench/server-loadgen

start() { # DB LOG -> sets PID PORT
	"$S" --db "$1" --listen 127.0.0.1:0 --rate 0 2>"$2" &
	PID=$!
	PORT=""
	for _ in $(seq 100); do
		PORT=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$2")
		[ -n "$PORT" ] && break
		sleep 0.1
	done
	[ -n "$PORT" ] || { echo "server did not start"; cat "$2"; exit 1; }
}

pages() { # label read-token
	for path in "summary" "overview" "devices" "devices?exposed=1" "devices?status=vulnerable&page=100" \
		"devices?tag=dev" "findings" "findings?status=vulnerable" "findings?cve=CVE-2021-44228" \
		"findings?version=2.14.1" "versions" "remediation" "callbacks" "processes?restart=1" \
		"attempts" "devices/777" "findings?device=777" "devices?cve=CVE-2021-4104&status=mitigated" \
		"findings?sha256=0000000000000000000000000000000000000000000000000000000000000000003f" \
		"devices?sha256=0000000000000000000000000000000000000000000000000000000000000000003f"; do
		for i in 1 2 3 4 5; do
			curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $2" "http://127.0.0.1:$PORT/api/v1/$path"
		done | sort -n | sed -n 3p | awk -v p="$path" -v l="$1" '{printf "%-8s %-90s %7.1f ms\n", l, p, $1 * 1000}'
	done
}

run() { # label db devices
	label=$1 db=$2 n=$3
	T=$("$S" token create --name bench --db "$db" 2>/dev/null)
	R=$("$S" token create --name reader --role read --db "$db" 2>/dev/null)
	start "$db" "$out/$label-server.log"
	echo "== $label: first reports of $n devices (new findings)"
	$LG "http://127.0.0.1:$PORT" "$T" "$n" 32 0 20 0
	m=$(( n < 20000 ? n : 20000 ))
	echo "== $label: $m re-reports (unchanged findings: a fleet's steady state)"
	$LG "http://127.0.0.1:$PORT" "$T" "$m" 32 0 20 1
	echo "== $label: dashboard API, median of 5 ($n devices, $((n * 20)) findings)"
	pages "$label" "$R"
	kill "$PID"
	wait "$PID" || true
}

{
	echo "log4scan-server benchmark, $(date -u +%FT%TZ), $(nproc) cores"
	run sqlite "$out/bench.db" "$N"
	PGURL=${L4S_PG_URL:-}
	if [ -z "$PGURL" ]; then
		PGURL=$(PG_OPTS="-c shared_buffers=512MB -c synchronous_commit=on" sh scripts/pg-cluster.sh start "$out/pg" | tail -n 1)
		trap 'sh scripts/pg-cluster.sh stop "$out/pg"' EXIT
	fi
	run pg "$PGURL" "$NPG"
} 2>&1 | tee "$out/results.txt"
