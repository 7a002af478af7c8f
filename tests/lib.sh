# lib.sh - helpers for shell tests (sourced).  Each check prints one line:
# "ok NAME" or "not ok NAME - why".
set -u
ok() { echo "ok $*"; }
not_ok() { echo "not ok $*"; }
# check NAME COMMAND... : ok when the command succeeds
check() { n=$1; shift; if "$@" >/dev/null 2>&1; then ok "$n"; else not_ok "$n - command failed: $*"; fi; }
# check_eq NAME GOT WANT
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 - got '$2', want '$3'"; fi; }
# check_contains NAME HAYSTACK NEEDLE
check_contains() { case "$2" in *"$3"*) ok "$1" ;; *) not_ok "$1 - '$3' not found" ;; esac; }
check_absent() { case "$2" in *"$3"*) not_ok "$1 - '$3' found" ;; *) ok "$1" ;; esac; }
