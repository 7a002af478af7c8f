#!/bin/sh
# run.sh - the disk-scan benchmark (`make bench`; printed figures, not a test).
#
#   sh bench/run.sh [TREE]      default TREE: bench/out/tree, built first by
#                               bench/make-corpus.sh when missing or stale
#   RUNS=N     runs per figure (median; default 5)
#   L4S=PATH   the agent to measure (default build/log4scan, built if missing)
#   L4S_BASE=PATH  another build to measure beside it (bench/hash-bench.py)
#
# Prints, page cache warm, side by side: log4scan with --threads 1 and 2 (and
# the default when this machine does not have 2 CPUs), with --cache when the
# agent has it (first scan, then re-scan), and on the shared corpus; against
# three floors on the same tree: `find -type f` (the walk), `find | xargs
# cat` (reading every byte) and bench/cdfloor (reading only each archive's
# end record and central directory); then the ratios against the targets of
# issue #3.  Each command runs under bench/measure (wall, CPU, peak RSS,
# rchar).  Then runs the other benchmarks in bench/ that exist.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tree=${1:-$top/bench/out/tree}
corpus=${CORPUS:-$top/../shared/corpus}
L4S=${L4S:-$top/build/log4scan}
export L4S
[ -x "$L4S" ] || make agent
if [ -z "${1:-}" ]; then
	sh bench/make-corpus.sh "$tree"
fi
mkdir -p bench/out/bin
cc -O2 -Wall -o bench/out/bin/cdfloor bench/cdfloor.c
cc -O2 -Wall -o bench/out/bin/measure bench/measure.c
python3 bench/bench.py "$tree" "$corpus"
# issue 17's figures: L4S beside the floor (and beside L4S_BASE, another
# build, when given), in one run
echo
echo "== bench/hash-bench.py"
python3 bench/hash-bench.py "$tree" ${L4S_BASE:+base=$L4S_BASE} "new=$L4S"
echo
echo "== bench/subtree-bench.py (where the CPU and the bytes go, per subtree)"
python3 bench/subtree-bench.py "$tree" ${L4S_BASE:+base=$L4S_BASE} "new=$L4S"

for b in logs-bench.sh ps-bench.sh server-bench.sh; do
	if [ -f "bench/$b" ]; then
		echo
		echo "== bench/$b"
		sh "bench/$b" || echo "bench/$b failed (status $?)"
	fi
done
