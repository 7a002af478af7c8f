#!/bin/sh
# t_fuzz.sh - every libFuzzer harness in fuzz/, built with clang under
# ASan+UBSan and run briefly (FUZZ_SECONDS each, default 10) over seeds made
# from the shared corpus: the "run briefly in CI" part of the fuzzing.
# Longer runs: make fuzz-run FUZZ_SECONDS=600.
. "$TOP/tests/lib.sh"
cd "$TOP" || exit 2
if ! make -s fuzz > "$OUT/build.log" 2>&1; then
	not_ok "fuzz harnesses build - see $OUT/build.log: $(grep -m1 -E 'error' "$OUT/build.log")"
	exit 1
fi
ok "fuzz harnesses build"
L4S_AGENT=${L4S_AGENT:-$L4S_PLAIN} sh tests/fuzz-run.sh "${FUZZ_SECONDS:-10}"
