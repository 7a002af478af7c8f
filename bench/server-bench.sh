#!/bin/sh
# server-bench.sh - log4scan-server: ingest throughput and dashboard latency.
#
#   sh bench/server-bench.sh [DEVICES] [PG_DEVICES]
#
# SQLite: ingests DEVICES (default 100000) first reports of 20 findings
# each (2,000,000 findings) with bench/server-loadgen.c (32 keep-alive
# clients), then 20000 re-reports of unchanged devices (a fleet's steady
# state), then times the dashboard's API calls (median of 5, curl).
# PostgreSQL: the same with PG_DEVICES (default 100000) devices, on
# $L4S_PG_URL or a throwaway cluster (scripts/pg-cluster.sh), with ANALYZE
# run after the first reports (what autovacuum does within a minute).
# The last three dashboard calls are the slow kind: an unknown archive, and
# filters that scan (a CVE no finding has, a path substring).
# Each ingest line is followed by the CPU the collector used (user+system,
# from /proc/PID/stat) per 1,000 reports, and for a cluster this script
# started, PostgreSQL's own (postmaster and its backends): comparable from
# run to run on a machine shared with other work, where reports/s are not.
# Uses the optimised build (build/log4scan-server, or $L4S_SERVER: another
# build to compare side by side).  Results: bench/out/server/ (or $L4S_BENCH_OUT).
# L4S_BENCH_REUSE=1: no ingest; the dashboard calls are timed again on the
# databases a previous run left in the same output directory (its SQLite
# file and its throwaway cluster, restarted), e.g. to compare two builds
# without loading 2,000,000 findings for each.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
N=${1:-100000}
NPG=${2:-100000}
out=${L4S_BENCH_OUT:-bench/out/server}
REUSE=${L4S_BENCH_REUSE:-0}
[ "$REUSE" = 1 ] || rm -rf "$out"
mkdir -p "$out" build/bench
S=${L4S_SERVER:-build/log4scan-server}
[ -x "$S" ] || make "$S" >/dev/null
cc -std=c17 -D_GNU_SOURCE -O2 -Ilib -pthread -o build/bench/server-loadgen bench/server-loadgen.c lib/util/buf.c -lcurl
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

TK=$(getconf CLK_TCK)
PGPID=""
cpu_of() { # PID... -> their user+system CPU seconds (0 for none)
	for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null; done |
		awk -v tk="$TK" '{ sub(/^.*\) /, ""); s += $12 + $13 } END { printf "%.2f\n", s / tk }'
}
pg_pids() { [ -n "$PGPID" ] && echo "$PGPID" $(ps -o pid= --ppid "$PGPID"); }

ingest() { # label loadgen-args... : run the load generator, then print CPU per 1,000 reports
	l=$1; shift
	c0=$(cpu_of "$PID"); p0=$(cpu_of $(pg_pids))
	$LG "http://127.0.0.1:$PORT" "$T" "$@"
	c1=$(cpu_of "$PID"); p1=$(cpu_of $(pg_pids))
	awk -v l="$l" -v n="$1" -v c="$c0 $c1" -v p="$p0 $p1" -v pg="$PGPID" -v la="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
		split(c, a, " "); split(p, b, " ")
		printf "%s cpu: server %.3f s per 1000 reports", l, (a[2] - a[1]) * 1000 / n
		if (pg != "") printf ", postgres %.3f s per 1000 reports", (b[2] - b[1]) * 1000 / n
		printf " (load average %s)\n", la }'
}

pages() { # label read-token
	for path in "summary" "overview" "devices" "devices?exposed=1" "devices?status=vulnerable&page=100" \
		"devices?tag=dev" "findings" "findings?status=vulnerable" "findings?cve=CVE-2021-44228" \
		"findings?version=2.14.1" "findings?cve=CVE-2021-44832" "devices?cve=CVE-2021-44832" \
		"versions" "remediation" "callbacks" "processes?restart=1" \
		"attempts" "devices/777" "findings?device=777" "devices?cve=CVE-2021-4104&status=mitigated" \
		"findings?sha256=0000000000000000000000000000000000000000000000000000000000000000003f" \
		"devices?sha256=0000000000000000000000000000000000000000000000000000000000000000003f" \
		"findings?sha256=$(printf 'ab%.0s' $(seq 32))" "findings?cve=CVE-2099-0001" "findings?path=no-such-path" \
		"findings?path=svc7.war!/WEB-INF/lib/log4j-core-2.14.1" "findings?path=svc7.war&count=1" \
		"findings?path=log4j-core&count=1"; do
		for i in 1 2 3 4 5; do
			curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $2" "http://127.0.0.1:$PORT/api/v1/$path"
		done | sort -n | sed -n 3p | awk -v p="$path" -v l="$1" '{printf "%-8s %-90s %7.1f ms\n", l, p, $1 * 1000}'
	done
}

run() { # label db devices
	label=$1 db=$2 n=$3
	# (token names are unique: a reused database has a previous run's)
	sfx=$([ "$REUSE" = 1 ] && echo "-$(date +%s)-$$")
	T=$("$S" token create --name "bench$sfx" --db "$db" 2>/dev/null)
	R=$("$S" token create --name "reader$sfx" --role read --db "$db" 2>/dev/null)
	start "$db" "$out/$label-server.log"
	if [ "$REUSE" = 1 ]; then
		echo "== $label: dashboard API, median of 5 (the databases of the previous run)"
		pages "$label" "$R"
		kill "$PID"
		wait "$PID" || true
		return
	fi
	echo "== $label: first reports of $n devices (new findings)"
	ingest "$label new" "$n" 32 0 20 0
	if [ "$label" = pg ]; then
		# the statistics autovacuum gathers within a minute of a bulk load
		psql -q "$db" -c ANALYZE
	fi
	m=$(( n < 20000 ? n : 20000 ))
	echo "== $label: $m re-reports (unchanged findings: a fleet's steady state)"
	ingest "$label re-report" "$m" 32 0 20 1
	echo "== $label: dashboard API, median of 5 ($n devices, $((n * 20)) findings)"
	pages "$label" "$R"
	kill "$PID"
	wait "$PID" || true
}

{
	echo "log4scan-server benchmark, $(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	run sqlite "$out/bench.db" "$N"
	PGURL=${L4S_PG_URL:-}
	if [ -z "$PGURL" ]; then
		PGURL=$(PG_OPTS="-c shared_buffers=512MB -c synchronous_commit=on" sh scripts/pg-cluster.sh start "$out/pg" | tail -n 1)
		trap 'sh scripts/pg-cluster.sh stop "$out/pg"' EXIT
		PGPID=$(head -n 1 "$out/pg/data/postmaster.pid")
	fi
	run pg "$PGURL" "$NPG"
} 2>&1 | tee "$out/results$([ "$REUSE" = 1 ] && echo -reuse).txt"
