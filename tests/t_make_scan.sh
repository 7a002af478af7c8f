#!/bin/sh
# t_make_scan.sh - the README's first command (issue 19): `make scan`
# installs only what the agent needs, prints the human report even when its
# output is not a terminal, and explains the scan's exit status instead of
# failing make for "something found".  SCAN_ARGS points it at small trees
# here (the README's `make scan` scans the whole host).
. "$TOP/tests/lib.sh"

# the agent's package list: nothing of the collector, the tests or the
# Windows build
agent_pkgs=$(sh -c '. /dev/stdin; echo "$AGENT_PKGS"' <<EOS
$(sed -n '/^AGENT_PKGS=/,/"$/p' "$TOP/scripts/install-deps.sh")
EOS
)
check_contains "the agent's packages include its libraries" "$agent_pkgs" "libarchive-dev"
for heavy in mingw-w64 wine chromium postgresql openjdk libmicrohttpd-dev pandoc; do
	check_absent "make scan does not install $heavy" "$agent_pkgs" "$heavy"
done
check "make scan depends on the agent's packages only" grep -q '^scan: deps-agent$' "$TOP/Makefile"

mkdir -p "$OUT/vuln" "$OUT/clean"
cp "$CORPUS/log4j-samples/true-hits/log4j-core-2.14.1.jar" "$OUT/vuln/"
cp "$CORPUS/log4j-samples/false-hits/log4j-core-2.17.1.jar" "$OUT/clean/"

make -C "$TOP" --no-print-directory scan SCAN_ARGS="--no-config $OUT/vuln" > "$OUT/vuln.txt" 2>&1
check_eq "something found: make succeeds" "$?" 0
out=$(cat "$OUT/vuln.txt")
check_contains "the human report, not JSON, although stdout is a file" "$out" "VULNERABLE $OUT/vuln/log4j-core-2.14.1.jar"
check_absent "no JSON" "$out" '"kind":'
check_contains "the exit status explained" "$out" "log4scan exited 1: vulnerable Log4j"
check_absent "no make error" "$out" "Error 1"

make -C "$TOP" --no-print-directory scan SCAN_ARGS="--no-config $OUT/clean" > "$OUT/clean.txt" 2>&1
check_eq "nothing found: make succeeds" "$?" 0
check_contains "nothing found: said" "$(cat "$OUT/clean.txt")" "log4scan exited 0: no vulnerable Log4j"

make -C "$TOP" --no-print-directory scan SCAN_ARGS="--no-config --max-depth=zz $OUT/clean" > "$OUT/bad.txt" 2>&1
check "the scan failing fails make" test "$?" -ne 0
check_contains "and says so" "$(cat "$OUT/bad.txt")" "the scan itself failed"
