#!/bin/sh
# t_scan_host.sh - a whole-host `scan` (no PATH): pseudo filesystems are
# passed over and listed, the process view is included (and --no-processes
# leaves it out), and the sandbox does not get in the way.  A time budget
# keeps the walk of this machine short.
. "$TOP/tests/lib.sh"
"$L4S" scan --format json --time-budget 3 > "$OUT/host.json" 2> "$OUT/host.err"; rc=$?
sum=$(tail -n 1 "$OUT/host.json")
check "whole-host scan exits 0 or 1" test "$rc" -le 1
check_contains "summary is last" "$sum" '"kind":"summary"'
check_contains "process view counted in the summary" "$sum" '"jvms":'
check_contains "/proc passed over as a pseudo filesystem" "$sum" '{"path":"/proc","reason":"pseudo filesystem (proc)"}'
check_absent "sandbox installed without complaint" "$(cat "$OUT/host.err")" "sandbox not installed"
"$L4S" scan --format json --time-budget 2 --no-processes > "$OUT/noproc.json"
check_absent "--no-processes leaves the process view out" "$(tail -n 1 "$OUT/noproc.json")" '"jvms":'
"$L4S" scan --priority high /tmp > /dev/null 2>&1; rc=$?
check_eq "--priority takes low or normal" "$rc" 2
