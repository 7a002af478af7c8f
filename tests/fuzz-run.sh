#!/bin/sh
# fuzz-run.sh SECONDS - run every libFuzzer harness (build/fuzz/fuzz_*, built
# by `make fuzz`) for SECONDS each over its seed corpus, and print one line
# per harness: "ok fuzz_X" or "not ok fuzz_X - crash (...)".
#
# Seeds are built at run time from ../shared/corpus (tests/fuzz-seeds.py)
# into build/fuzz/seeds-*; each harness keeps its growing working corpus in
# build/fuzz/corpus-X and writes crash inputs to build/fuzz/artifacts-X/.
# Seeds also come from what the built agent produces (reports, cache files:
# L4S_AGENT, default build/log4scan) and from fuzz/seeds/KIND, committed.  The line of each
# harness gives its runs, the edges it reached (libFuzzer's "cov") and how
# many seeds it started from, the figures of the README's table.
# Environment: CORPUS (default ../shared/corpus), FUZZ_ONLY (space-separated
# harness names, e.g. "proc cache": run only those).  Exit status 1 when any
# harness crashed.
secs=${1:-20}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
F=build/fuzz
CORPUS=${CORPUS:-$(cd "$top/../shared/corpus" 2>/dev/null && pwd)}
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:allocator_may_return_null=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
if [ -n "$CORPUS" ] && [ -d "$CORPUS" ]; then
	python3 tests/fuzz-seeds.py "$CORPUS" "$F" || echo "fuzz-run: seed building failed" >&2
fi
status=0
found=0
for h in "$F"/fuzz_*; do
	[ -x "$h" ] || continue
	n=$(basename "$h")
	kind=${n#fuzz_}
	if [ -n "${FUZZ_ONLY:-}" ]; then
		case " $FUZZ_ONLY " in *" $kind "*) ;; *) continue ;; esac
	fi
	found=1
	mkdir -p "$F/corpus-$kind" "$F/artifacts-$kind" "$F/seeds-$kind"
	case $kind in
	zip|zipwrite|fixplan) maxlen=65536 ;;
	classfile) maxlen=16384 ;;
	*) maxlen=32768 ;;
	esac
	log="$F/$n.log"
	"$h" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$F/artifacts-$kind/" \
		"$F/corpus-$kind" "$F/seeds-$kind" $(case $kind in zipwrite|fixplan) echo "$F/seeds-zip" ;; esac) \
		$([ -d "fuzz/seeds/$kind" ] && echo "fuzz/seeds/$kind") > "$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	seeds=$(ls "$F/seeds-$kind" 2>/dev/null | wc -l)
	if [ "$rc" -eq 0 ]; then
		echo "ok $n (${runs:-?} runs in ${secs}s, ${cov:-?} edges, $seeds seeds)"
	else
		what=$(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY' "$log" | cut -c1-160)
		art=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
		echo "not ok $n - crash (${what:-exit $rc}; input ${art:-?}; log $log)"
		status=1
	fi
done
[ "$found" -eq 1 ] || { echo "not ok fuzz - no harness in $F (run make fuzz)"; status=1; }
exit $status
