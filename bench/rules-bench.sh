#!/bin/sh
# rules-bench.sh - log4scan-server: re-judging the stored fleet when the
# rules change (issue 22).
#
#   sh bench/rules-bench.sh [DEVICES] [FINDINGS_PER_DEVICE] [PG_DEVICES]
#
# Fills a SQLite database (and, when psql and scripts/pg-cluster.sh can give
# one, a PostgreSQL database) straight with SQL: DEVICES devices (default
# 100000) of FINDINGS_PER_DEVICE findings (default 20: 2,000,000), each with
# facts as the agent writes them (PostgreSQL: PG_DEVICES, default DEVICES) (log4j-core releases 2.0-beta9..2.25.1
# cycling, JndiLookup present in 9 of 10), judged by the built-in rules.
# Then times `log4scan-server rules load` of the built-in rules plus a
# fictional CVE over 2.14.0..2.17.1 (every finding re-judged, about a
# quarter change, aggregates and counters counted again), and `rules
# rollback 0`; for each, the time of the batches (with the snapshot of which
# devices each CVE affects) and of the final step (one transaction: the
# recount, the record of what changed, the switch).  At 2,000,000 findings
# it also prints the figures measured before the one-pass recount
# (store_rejudge.c) for comparison.  Uses the optimised build.  Results:
# bench/out/rules/.
#
# ARCHIVES=A (environment, default 0: findings without an archive digest):
# each finding gets one of A archive digests per release (device id mod A),
# and every 50th device a JVM listening on 0.0.0.0 that loads all its
# findings; the fill writes no aggregates, so the load finds every
# vulnerable archive new and those devices newly critically exposed: the
# webhook events of a re-judging (webhook_events_rejudged) at their most,
# about 2/3 * 29 * A archive_vulnerable and DEVICES/50
# device_critical_exposed queued (no target: events without deliveries).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
N=${1:-100000}
K=${2:-20}
NPG=${3:-$N}
ARCHIVES=${ARCHIVES:-0}
out=bench/out/rules
rm -rf "$out"
mkdir -p "$out"
S=build/log4scan-server
[ -x "$S" ] || make build/log4scan-server >/dev/null
RULES=$out/fictional.rules
cp rules/log4j.rules "$RULES"
cat >> "$RULES" <<'R'
cve CVE-2099-0001 log4j-core 9.3 "fictional"
affected CVE-2099-0001 2.14.0 2.17.2
fixed CVE-2099-0001 2.17.2
mitigated-if-absent CVE-2099-0001 lookup/JndiLookup
R
# the releases a finding cycles through
VERS="2.0-beta9 2.0 2.1 2.3 2.3.1 2.3.2 2.4.1 2.8.2 2.10.0 2.11.2 2.12.1 2.12.2 2.12.4 2.13.3 2.14.0 2.14.1
2.15.0 2.16.0 2.17.0 2.17.1 2.17.2 2.18.0 2.19.0 2.20.0 2.21.1 2.22.1 2.23.1 2.24.3 2.25.1"
values=$(i=0; for v in $VERS; do printf "%s(%d,'%s')" "$([ $i -gt 0 ] && echo ,)" $i "$v"; i=$((i+1)); done)
NV=$(echo $VERS | wc -w)

fill() { # RUNNER: SQL through it
	# devices, then findings; status/cves as the built-in rules say
	# (the first load below re-judges them all anyway)
	cat <<SQL
INSERT INTO devices(ident, hostname, first_seen, last_seen)
  SELECT 'bench-' || s.g, 'host-' || s.g, 0, 0 FROM ($1) s;
CREATE TABLE bench_v(i BIGINT, v TEXT);
INSERT INTO bench_v VALUES $values;
INSERT INTO findings(device_id, report_id, path, component, version, version_source, status, severity,
  cves_json, facts)
  SELECT d.id, 'r', '/opt/app' || k.g || '/log4j-core.jar', 'log4j-core', v.v, 'pom.properties',
    'vulnerable', 'critical', '["CVE-2021-44228"]',
    'v1 set=' || v.v || ' pom=' || v.v || CASE WHEN (d.id + k.g) % 10 = 0 THEN ' -' ELSE ' +' END
      || 'lookup/JndiLookup'
  FROM devices d, ($2) k, bench_v v WHERE v.i = (d.id * 7 + k.g) % $NV;
DROP TABLE bench_v;
SQL
	if [ "$ARCHIVES" -gt 0 ]; then
		cat <<SQL
UPDATE findings SET sha256 = 'bench-' || version || '-' || (device_id % $ARCHIVES);
INSERT INTO archives(sha256) SELECT DISTINCT sha256 FROM findings;
UPDATE findings SET archive_id = (SELECT a.id FROM archives a WHERE a.sha256 = findings.sha256);
INSERT INTO processes(device_id, pid, status, restart_required, listening_json, n_listening, jars_json,
  mitigations_json, n_public)
  SELECT id, 1, 'vulnerable', 0, '[{"proto":"tcp","addr":"0.0.0.0","port":8080}]', 1, '[]', '[]', 1
  FROM devices WHERE id % 50 = 0;
UPDATE devices SET exposed = 1 WHERE id % 50 = 0;
UPDATE findings SET pid = 1 WHERE device_id % 50 = 0;
SQL
	fi
}

run() { # label db before
	/usr/bin/time -f "%e s wall, %M KiB max RSS" -o "$out/$1-load.time" "$S" rules load "$RULES" --db "$2" \
		2>"$out/$1-load.log"
	/usr/bin/time -f "%e s wall, %M KiB max RSS" -o "$out/$1-rollback.time" "$S" rules rollback 0 --db "$2" \
		2>"$out/$1-rollback.log"
	echo "$1: $((N * K)) findings on $N devices: load + re-judge $(cat "$out/$1-load.time");" \
		"rollback $(cat "$out/$1-rollback.time")"
	echo "  load:     $(tail -n 1 "$out/$1-load.log" | sed -n 's/.*(\(batches .*\))$/\1/p')"
	echo "  rollback: $(tail -n 1 "$out/$1-rollback.log" | sed -n 's/.*(\(batches .*\))$/\1/p')"
	if [ "$((N * K))" -eq 2000000 ]; then
		echo "  before the one-pass recount (README, same fill): $3"
	fi
}

# ---- SQLite
DB=$out/rules.db
"$S" migrate --db "$DB" 2>/dev/null
t0=$(date +%s)
fill "WITH RECURSIVE c(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM c WHERE g < $N) SELECT g FROM c" \
	"WITH RECURSIVE c(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM c WHERE g < $K) SELECT g FROM c" \
	>"$out/fill-sqlite.sql"
sqlite3 "$DB" <"$out/fill-sqlite.sql"
echo "sqlite: filled in $(( $(date +%s) - t0 )) s"
run sqlite "$DB" "SQLite 290 s load, 225 s rollback"

# ---- PostgreSQL (PG_DEVICES devices; 0: not measured)
N=$NPG
if [ "$N" -gt 0 ] && command -v psql >/dev/null 2>&1; then
	if [ -n "${L4S_PG_URL:-}" ]; then
		base=$L4S_PG_URL
	else
		base=$(sh scripts/pg-cluster.sh start "$top/$out/pg" | tail -n 1)
		trap 'sh scripts/pg-cluster.sh stop "$top/$out/pg" >/dev/null 2>&1' EXIT
	fi
	db=rules_bench_$$
	psql -X -q "$base" -c "CREATE DATABASE $db"
	url=$(echo "$base" | sed "s#/[^/?]*\(?.*\)\?\$#/$db#")
	"$S" migrate --db "$url" 2>/dev/null
	t0=$(date +%s)
	fill "SELECT generate_series(1, $N) AS g" "SELECT generate_series(1, $K) AS g" | psql -X -q -v ON_ERROR_STOP=1 "$url"
	psql -X -q "$url" -c "ANALYZE"
	echo "pg: filled in $(( $(date +%s) - t0 )) s"
	run pg "$url" "PostgreSQL 276 s load, 106 s rollback"
fi
