#!/bin/sh
# t_cli.sh - the command line of `log4scan scan`: --help/--version, bad
# arguments (exit 2), exit codes 0/1/2, --fail-on thresholds, --rules (an
# edited rules file changes the verdict with no rebuild; a broken one is
# refused naming its line), --exclude (and the summary's skipped list),
# --max-depth, -o, --no-sha256, --bytecode-only, and the text format
# (vulnerable first, then mitigated, then safe; summary line last; names
# escaped).  Test trees are copied from $CORPUS into $OUT at run time.
. "$(dirname "$0")/lib.sh"
: "${L4S:?}" "${CORPUS:?}" "${OUT:?}"
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
C=$CORPUS
T=$OUT/cli
rm -rf "$T"
mkdir -p "$T/clean" "$T/vuln/sub" "$T/medium" "$T/high" "$T/mixed" "$T/nested"
cp "$C/log4j-samples/false-hits/log4j-core-2.17.1.jar" "$T/clean/"
cp "$C/log4j-samples/true-hits/log4j-core-2.14.1.jar" "$T/vuln/sub/"
cp "$C/log4j-samples/false-hits/log4j-core-2.17.1.jar" "$T/vuln/"
cp "$C/log4j-samples/false-hits/log4j-core-2.17.0.jar" "$T/medium/"     # CVE-2021-44832 only (6.6)
cp "$C/log4j-samples/false-hits/log4j-core-2.3.2.jar" "$T/high/"        # CVE-2017-5645 (7.5) + 3.7
cp "$C/log4j-samples/false-hits/log4j-core-2.17.1.jar" "$C/log4j-samples/true-hits/log4j-core-2.14.1.jar" \
   "$C/google-testdata/log4j-core-2.14.0.jar.patched" "$T/mixed/"
cp "$C/google-testdata/bad_jar_in_jar_in_jar.jar" "$T/nested/"

# run ARGS... : sets rc, out (stdout), err (stderr)
run() {
	timeout 120 "$L4S" "$@" > "$T/out" 2> "$T/err" < /dev/null
	rc=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}
# count of JSON records in $T/out matching a Python condition on r
count() {
	python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if eval(sys.argv[2]):
        n += 1
print(n)' "$T/out" "$1"
}

# ---- help and version
run --help
check_eq "cli: --help exits 0" "$rc" 0
check_contains "cli: --help lists scan" "$out" "scan"
run scan --help
check_eq "cli: scan --help exits 0" "$rc" 0
for o in --format --exclude --follow-symlinks --max-depth --rules --fail-on --max-inflate --max-nested-size; do
	check_contains "cli: scan --help documents $o" "$out" "$o"
done
run --version
check_eq "cli: --version exits 0" "$rc" 0
check_eq "cli: --version prints the VERSION file" "$out" "log4scan $(cat "$TOP/VERSION")"
run
check_eq "cli: no command exits 2" "$rc" 2
run frobnicate
check_eq "cli: unknown command exits 2" "$rc" 2
check_contains "cli: unknown command named" "$err" "frobnicate"

# ---- bad arguments: exit 2 before scanning anything
for bad in "--format xml" "--max-depth -1" "--max-depth 65" "--max-depth abc" "--threads 0" \
	   "--threads 9999" "--fail-on bogus" "--fail-on none" "--max-inflate 0" "--max-nested-size x" \
	   "--no-such-option" "--rules /nonexistent/rules"; do
	# shellcheck disable=SC2086
	run scan $bad "$T/vuln"
	check_eq "cli: scan $bad exits 2" "$rc" 2
	check_eq "cli: scan $bad prints no report" "$out" ""
done

# ---- exit codes
run scan --format json "$T/clean"
check_eq "cli: clean tree exits 0" "$rc" 0
check_eq "cli: clean tree: one safe finding" "$(count 'r["kind"]=="finding" and r["status"]=="safe"')" 1
run scan --format json "$T/vuln"
check_eq "cli: vulnerable tree exits 1" "$rc" 1
run scan --format json "$T/nonexistent"
check_eq "cli: nonexistent root exits 2" "$rc" 2
check_eq "cli: nonexistent root: error record" "$(count 'r["kind"]=="error"')" 1
run scan --format json "$T/nonexistent" "$T/clean"
check_eq "cli: one good root of two exits 0" "$rc" 0
run scan --format json "$T/mixed/log4j-core-2.14.0.jar.patched"
check_eq "cli: a single file root (mitigated) exits 0" "$rc" 0
check_eq "cli: mitigated finding" "$(count 'r["kind"]=="finding" and r["status"]=="mitigated"')" 1

# ---- --fail-on
t() { # NAME DIR SEVERITY WANT
	run scan --format json --fail-on "$3" "$T/$2"
	check_eq "cli: --fail-on $3 on $1 exits $4" "$rc" "$4"
}
t 2.17.0 medium high 0
t 2.17.0 medium medium 1
t 2.17.0 medium low 1
t 2.3.2 high critical 0
t 2.3.2 high high 1
t 2.14.1 vuln critical 1
t 2.17.1 clean low 0

# ---- --rules
sed '/^affected CVE-2021-44832 2.13.0 2.17.1$/d' "$TOP/rules/log4j.rules" > "$T/no-44832-range.rules"
check "cli: edited rules file differs" sh -c "! cmp -s '$TOP/rules/log4j.rules' '$T/no-44832-range.rules'"
run scan --format json "$T/medium"
check_eq "cli: built-in rules: 2.17.0 vulnerable (exit 1)" "$rc" 1
run scan --format json --rules "$T/no-44832-range.rules" "$T/medium"
check_eq "cli: --rules without the range: 2.17.0 safe (exit 0)" "$rc" 0
check_eq "cli: --rules without the range: finding is safe" "$(count 'r["kind"]=="finding" and r["status"]=="safe" and r["version"]=="2.17.0"')" 1
run scan --format json --rules "$TOP/rules/log4j.rules" "$T/medium"
check_eq "cli: --rules with the shipped file behaves as built in" "$rc" 1
# a raised score changes --fail-on
sed 's/^cve CVE-2021-44832 log4j-core 6.6 /cve CVE-2021-44832 log4j-core 9.9 /' "$TOP/rules/log4j.rules" > "$T/rescored.rules"
run scan --format json --rules "$T/rescored.rules" --fail-on critical "$T/medium"
check_eq "cli: --rules with CVE-2021-44832 rescored 9.9: --fail-on critical exits 1" "$rc" 1
check_eq "cli: rescored severity is critical" "$(count 'r["kind"]=="finding" and r["severity"]=="critical"')" 1
# broken rules files: refused with the line, exit 2, no scan
{ head -n 40 "$TOP/rules/log4j.rules"; echo "affected CVE-2021-44228 2.0 banana"; } > "$T/broken.rules"
line=$(($(head -n 40 "$TOP/rules/log4j.rules" | wc -l) + 1))
run scan --format json --rules "$T/broken.rules" "$T/vuln"
check_eq "cli: broken rules file exits 2" "$rc" 2
check_contains "cli: broken rules file: error names line $line" "$err" "line $line:"
check_eq "cli: broken rules file: nothing scanned" "$out" ""
printf 'releases log4j-core 2.0 2.1\nbogus directive\n' > "$T/broken2.rules"
run scan --rules "$T/broken2.rules" "$T/vuln"
check_eq "cli: unknown directive exits 2" "$rc" 2
check_contains "cli: unknown directive: line 2" "$err" "line 2: unknown directive"
: > "$T/empty.rules"
run scan --rules "$T/empty.rules" "$T/vuln"
check_eq "cli: empty rules file exits 2" "$rc" 2

# ---- --exclude and the skipped list
run scan --format json --exclude "$T/vuln/sub" "$T/vuln"
check_eq "cli: --exclude DIR: exit 0" "$rc" 0
check_eq "cli: --exclude DIR: listed in summary skipped" \
	"$(count 'r["kind"]=="summary" and any(s["path"]=="'"$T/vuln/sub"'" and "exclu" in s["reason"] for s in r["skipped"])')" 1
run scan --format json --exclude '*/sub' "$T/vuln"
check_eq "cli: --exclude glob on a directory: exit 0" "$rc" 0
run scan --format json --exclude '*2.14.1.jar' "$T/vuln"
check_eq "cli: --exclude glob on a file: exit 0" "$rc" 0
check_eq "cli: --exclude glob on a file: 2.17.1 still found" "$(count 'r["kind"]=="finding"')" 1
run scan --format json --exclude '*/nomatch/*' "$T/vuln"
check_eq "cli: --exclude that matches nothing: exit 1" "$rc" 1

# ---- --max-depth
run scan --format json "$T/nested"
check_eq "cli: depth-2 nested jar found by default" "$rc" 1
run scan --format json --max-depth 1 "$T/nested"
check_eq "cli: --max-depth 1 stops before depth 2 (exit 0)" "$rc" 0
check_eq "cli: --max-depth 1 says so" "$(count 'r["kind"]=="error" and "--max-depth" in r["error"]')" 1
run scan --format json --max-depth 0 "$T/nested"
check_eq "cli: --max-depth 0: error at the first nested jar" \
	"$(count 'r["kind"]=="error" and "--max-depth" in r["error"] and r["path"].endswith("bad_jar_in_jar_in_jar.jar!/bad_jar_in_jar.jar")')" 1

# ---- -o, --no-sha256, sha256, --bytecode-only, --threads
run scan --format json -o "$T/report.json" "$T/vuln"
check_eq "cli: -o: exit 1" "$rc" 1
check_eq "cli: -o: nothing on stdout" "$out" ""
check_eq "cli: -o: report written" "$(grep -c '"kind":"finding"' "$T/report.json")" 2
run scan --format json -o /nonexistent-dir/report.json "$T/vuln"
check_eq "cli: -o into a missing directory exits 2" "$rc" 2
run scan --format json --no-sha256 "$T/clean"
check_eq "cli: --no-sha256: sha256 null" "$(count 'r["kind"]=="finding" and r["sha256"] is None')" 1
run scan --format json "$T/clean"
check_eq "cli: default policy: a safe archive is not hashed" "$(count 'r["kind"]=="finding" and r["sha256"] is None')" 1
run scan --format json --sha256=all "$T/clean"
sum=$(sha256sum "$T/clean/log4j-core-2.17.1.jar" | cut -d' ' -f1)
check_eq "cli: --sha256=all: sha256 is the file's" "$(count 'r["kind"]=="finding" and r["sha256"]=="'"$sum"'"')" 1
run scan --format json --bytecode-only "$T/vuln/sub"
check_eq "cli: --bytecode-only: version from bytecode" \
	"$(count 'r["kind"]=="finding" and r["version_source"]=="bytecode" and r["status"]=="vulnerable"')" 1
run scan --format json --threads 1 "$T/mixed"
one=$(count 'r["kind"]=="finding"')
run scan --format json --threads 7 "$T/mixed"
check_eq "cli: --threads 1 and 7 find the same" "$(count 'r["kind"]=="finding"')" "$one"
run scan "$T/mixed"
check_contains "cli: JSON when stdout is not a terminal" "$out" '"kind":"summary"'

# ---- text format
run scan --format text "$T/mixed"
check_eq "cli: text: exit 1" "$rc" 1
order=$(printf '%s\n' "$out" | grep -E -o '^(VULNERABLE|MITIGATED|SAFE)' | tr '\n' ' ')
check_eq "cli: text: vulnerable first, then mitigated, then safe" "$order" "VULNERABLE MITIGATED SAFE "
last=$(printf '%s\n' "$out" | tail -n 1)
check_contains "cli: text: summary line last" "$last" "3 files examined"
check_contains "cli: text: summary counts" "$last" "1 vulnerable, 1 mitigated, 1 safe"
check_contains "cli: text: CVE listed" "$out" "CVE-2021-44228"
check_contains "cli: text: upgrade advice" "$out" "upgrade to 2.17.1"
run scan --format text -q "$T/mixed"
check_absent "cli: text -q: no SAFE line" "$out" "SAFE "
check_contains "cli: text -q: VULNERABLE kept" "$out" "VULNERABLE"
run scan --format text --exclude "$T/vuln/sub" "$T/vuln"
check_contains "cli: text: excluded directory listed as not scanned" "$out" "not scanned: $T/vuln/sub"
mkdir -p "$T/nl"
cp "$C/log4j-samples/true-hits/log4j-core-2.14.1.jar" "$T/nl/x
VULNERABLE forged.jar"
run scan --format text "$T/nl"
check_eq "cli: text: a newline in a name cannot forge a line" \
	"$(printf '%s\n' "$out" | grep -c '^VULNERABLE')" 1
check_contains "cli: text: newline shown escaped" "$out" 'x\x0aVULNERABLE forged.jar'
run scan --format text "$T/nonexistent"
check_eq "cli: text: nonexistent root exits 2" "$rc" 2
check_contains "cli: text: errors go to stderr" "$err" "$T/nonexistent"
# A root named on the command line that is a symlink to a directory (/opt/app
# -> /data/app) is walked; links below it are still not followed.
mkdir -p "$T/linkroot/real/sub"
cp "$C/log4j-samples/true-hits/log4j-core-2.14.1.jar" "$T/linkroot/real/"
ln -s real "$T/linkroot/root"
ln -s .. "$T/linkroot/real/sub/up"
run scan --format json "$T/linkroot/root"
check_eq "cli: a root that is a link to a directory is walked" "$rc" 1
check_contains "cli: link root: finding under the link's path" "$out" "\"path\":\"$T/linkroot/root/log4j-core-2.14.1.jar\""
check_contains "cli: link root: links below it not followed" "$out" '"symlinks_not_followed":1'
