#!/bin/sh
# ps-bench.sh - how long `log4scan ps` takes on a busy host (issue #4:
# "1,000 processes and 5 JVMs, well under a second").  Printed figures,
# not a test.
#
#   sh bench/ps-bench.sh
#   PROCS=N    sleeping processes to add (default 1000)
#   RUNS=N     timed runs (default 20)
#   L4S=PATH   the agent (default build/log4scan, built if missing)
#
# Starts PROCS `sleep`s and 5 JVMs that each load log4j-core 2.14.1 from
# the shared corpus (tests/java/Hold.java, compiled here), then times
# `log4scan ps --format json` with hyperfine when it is installed
# (apt-get install hyperfine), else with a loop over `date +%s.%N`;
# both at the default low priority and with --priority normal.  Everything
# it started is killed on exit.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
L4S=${L4S:-$top/build/log4scan}
PROCS=${PROCS:-1000}
RUNS=${RUNS:-20}
corpus=${CORPUS:-$top/../shared/corpus}
core="$corpus/log4j-samples/true-hits/log4j-core-2.14.1.jar"
api="$corpus/log4j-samples/false-hits/log4j-api-2.14.1.jar"
[ -x "$L4S" ] || make agent >/dev/null || exit 2
for t in java javac; do
	command -v $t >/dev/null 2>&1 || { echo "ps-bench: $t is missing" >&2; exit 2; }
done
out="$top/bench/out/ps"
rm -rf "$out"
mkdir -p "$out/cls" "$out/run"

started=""
cleanup() {
	[ -n "$started" ] && kill -9 $started 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT INT TERM

javac -nowarn -cp "$api" -d "$out/cls" tests/java/Hold.java || exit 2
i=0
while [ $i -lt 5 ]; do
	java -XX:TieredStopAtLevel=1 -Xmx64m -cp "$out/cls:$core:$api" Hold "$out/run/$i" listen \
		>"$out/jvm$i.log" 2>&1 &
	started="$started $!"
	i=$((i + 1))
done
i=0
while [ $i -lt "$PROCS" ]; do
	sleep 3600 &
	started="$started $!"
	i=$((i + 1))
done
n=0
while [ "$(ls "$out/run" | grep -vc tmp)" -lt 5 ] && [ $n -lt 240 ]; do
	sleep 0.5
	n=$((n + 1))
done
nproc_now=$(ls /proc | grep -c '^[0-9]')
"$L4S" ps --format json -o "$out/ps.json"
jvms=$(grep -c '"kind":"process"' "$out/ps.json")
vuln=$(grep '"kind":"process"' "$out/ps.json" | grep -c '"status":"vulnerable"')
echo "log4scan ps: $nproc_now processes on this host, $jvms JVMs ($vuln vulnerable), $(nproc) CPUs"
tail -n 1 "$out/ps.json" | sed 's/^/  summary: /'

loop_time() { # label args...
	label=$1
	shift
	times=""
	r=0
	while [ $r -lt "$RUNS" ]; do
		t0=$(date +%s.%N)
		"$L4S" ps --format json -o /dev/null "$@"
		t1=$(date +%s.%N)
		times="$times $(echo "$t1 - $t0" | bc)"
		r=$((r + 1))
	done
	echo $times | tr ' ' '\n' | sort -n | awk -v l="$label" '
		{ v[NR] = $1 }
		END { printf "  %-22s min %.3f s  median %.3f s  max %.3f s  (%d runs)\n", l, v[1], v[int((NR + 1) / 2)], v[NR], NR }'
}

if command -v hyperfine >/dev/null 2>&1; then
	hyperfine -i --style basic --warmup 2 --runs "$RUNS" --export-json "$out/hyperfine.json" \
		-n "ps (low priority)" "$L4S ps --format json -o /dev/null" \
		-n "ps --priority normal" "$L4S ps --format json -o /dev/null --priority normal"
else
	command -v bc >/dev/null 2>&1 || { echo "ps-bench: needs hyperfine or bc" >&2; exit 2; }
	loop_time "ps (low priority)"
	loop_time "ps --priority normal" --priority normal
fi
