#!/bin/sh
# run.sh - the test suite driver (`make check`).
#
# Every test is a program that prints one line per check:
#     ok NAME
#     not ok NAME - why
# (unit tests in tests/unit/ built under ASan+UBSan, and the scripts
# tests/t_*.sh and tests/t_*.py).  A test program that exits non-zero counts
# as one more failure, so a crash is never silent.  The last line printed is
# "N passed, N failed".
#
# Environment given to each test:
#   L4S      the sanitizer-built agent     L4S_PLAIN  the optimised agent
#   L4S_SERVER  the collector              CORPUS     ../shared/corpus
#   OUT      a scratch directory for this test (tests/out/NAME)
#   LOG4SCAN_STATE_DIR  the agent's state directory (tests/out/state)
#   ONLY     (optional) run only tests whose file name contains this word
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
export L4S="$top/build/san/log4scan"
export L4S_PLAIN="$top/build/log4scan"
export L4S_SERVER="$top/build/san/log4scan-server"
export L4S_SERVER_PLAIN="$top/build/log4scan-server"
export CORPUS="${CORPUS:-$(cd "$top/../shared/corpus" 2>/dev/null && pwd -P)}"
export TOP="$top"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export PYTHONDONTWRITEBYTECODE=1
rm -rf tests/out
mkdir -p tests/out
# the agent's state (agent id, spool, cache) stays in the tree, not in the
# machine's /var/lib/log4scan (tests that look at the default unset it)
export LOG4SCAN_STATE_DIR="$top/tests/out/state"
mkdir -p "$LOG4SCAN_STATE_DIR"

passed=0
failed=0
log=tests/out/run.log
: > "$log"

run_one() { # name command...
	name=$1; shift
	export OUT="$top/tests/out/$name"
	mkdir -p "$OUT"
	res="$OUT/results.txt"
	"$@" > "$res" 2> "$OUT/stderr.txt" < /dev/null
	rc=$?
	# (a results file that vanished, e.g. under a concurrent run that
	# cleared tests/out, counts as a test that ran no check)
	p=$(grep -c '^ok ' "$res" 2>/dev/null); p=${p:-0}
	f=$(grep -c '^not ok ' "$res" 2>/dev/null); f=${f:-0}
	grep -E '^(not )?ok ' "$res" 2>/dev/null | sed "s|^|$name: |" >> "$log"
	grep '^not ok ' "$res" 2>/dev/null | sed "s|^|  $name: |"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "  $name: not ok exited with status $rc (see tests/out/$name/stderr.txt)"
		tail -n 5 "$OUT/stderr.txt" | sed 's/^/      /'
		f=$((f + 1))
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "  $name: not ok ran no check"
		f=1
	fi
	printf '%-28s %4d passed %4d failed\n' "$name" "$p" "$f"
	passed=$((passed + p))
	failed=$((failed + f))
}

for t in build/san/tests/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	case "$n" in *"${ONLY:-}"*) ;; *) continue ;; esac
	run_one "$n" "$t"
done
for t in tests/t_*.sh tests/t_*.py; do
	[ -f "$t" ] || continue
	n=$(basename "$t"); n=${n%.*}
	case "$n" in *"${ONLY:-}"*) ;; *) continue ;; esac
	case "$t" in
	*.py) run_one "$n" python3 "$t" ;;
	*) run_one "$n" sh "$t" ;;
	esac
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
