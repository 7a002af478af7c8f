#!/bin/sh
# t_cache_govern.sh - the incremental cache (--cache) and resource
# governance (--time-budget, --max-cpu, --max-memory) of issue #3.
. "$TOP/tests/lib.sh"
T="$OUT/tree"
mkdir -p "$T/a" "$T/b"
cp "$CORPUS/log4j-samples/true-hits/log4j-core-2.14.1.jar" "$T/a/app.jar"
cp "$CORPUS/log4j-samples/false-hits/log4j-core-2.17.1.jar" "$T/b/lib.jar"
cp "$CORPUS/google-testdata/bad_jar_in_jar.jar" "$T/b/nested.jar"
C="$OUT/scan.cache"

"$L4S" scan --format json --cache="$C" "$T" > "$OUT/1.json"
"$L4S" scan --format json --cache="$C" "$T" > "$OUT/2.json"
strip() { grep -v -e '"kind":"summary"' -e '"kind":"report"' "$1" | sort; }  # the envelope is new each run
check_eq "cached re-scan reports the same records" "$(strip "$OUT/1.json" | md5sum)" "$(strip "$OUT/2.json" | md5sum)"
check_contains "cached re-scan opens no archive" "$(tail -n 1 "$OUT/2.json")" '"archives":0'
check_contains "cached re-scan still counts the findings" "$(tail -n 1 "$OUT/2.json")" '"vulnerable":2'

# Replace the vulnerable jar by a safe one with the same name: the cache
# must notice (size/mtime/ctime) and rescan it.
cp "$CORPUS/log4j-samples/false-hits/log4j-core-2.17.1.jar" "$T/a/app.jar"
"$L4S" scan --format json --cache="$C" "$T" > "$OUT/3.json"
check_contains "changed file is rescanned" "$(grep 'a/app.jar' "$OUT/3.json")" '"version":"2.17.1"'
check_contains "changed file verdict updated" "$(tail -n 1 "$OUT/3.json")" '"vulnerable":1'

# Other rules void the cache: a rules file without CVE-2021-44832 makes 2.17.0 safe.
cp "$CORPUS/log4j-samples/false-hits/log4j-core-2.17.0.jar" "$T/b/old.jar"
"$L4S" scan --format json --cache="$C" "$T" > /dev/null
sed '/^affected CVE-2021-44832/d;/^fixed CVE-2021-44832/d;/^source CVE-2021-44832/d;/^cve CVE-2021-44832/d' \
	"$TOP/rules/log4j.rules" > "$OUT/edited.rules"
"$L4S" scan --format json --cache="$C" --rules "$OUT/edited.rules" "$T" > "$OUT/4.json"
check_contains "different rules: cache not reused" "$(grep 'b/old.jar' "$OUT/4.json")" '"status":"safe"'

# A damaged cache file is ignored, not trusted.
printf 'L4SCACH1garbage' > "$C"
"$L4S" scan --format json --cache="$C" "$T" > "$OUT/5.json"; rc=$?
check_eq "damaged cache: scan still works" "$rc" 1
check_contains "damaged cache: everything rescanned" "$(tail -n 1 "$OUT/5.json")" '"archives":'

# --time-budget: a slow scan (CPU capped to 1%) stops after about a second
# and says what it did not reach.
mkdir -p "$T/many"
i=0; while [ $i -lt 300 ]; do mkdir -p "$T/many/d$i"; cp "$CORPUS/google-testdata/helloworld.jar" "$T/many/d$i/x.jar"; i=$((i+1)); done
start=$(date +%s)
"$L4S" scan --format json --threads 1 --max-cpu 1 --time-budget 1 "$T" > "$OUT/6.json"
end=$(date +%s)
check "time budget: scan stopped within 10 s" test $((end - start)) -le 10
check_contains "time budget: summary says what was not reached" "$(tail -n 1 "$OUT/6.json")" "time budget"

# --max-memory: too small is refused; a small budget still scans correctly.
"$L4S" scan --format json --max-memory 4 "$T" > /dev/null 2>&1; rc=$?
check_eq "--max-memory below the floor is refused" "$rc" 2
"$L4S" scan --format json --max-memory 32 "$T/a" > "$OUT/7.json"
check_contains "--max-memory 32 still scans" "$(cat "$OUT/7.json")" '"kind":"finding"'

# The whole scan's inflation is capped too (--max-inflate-total), with a
# clear error naming the cap; the scan completes.
"$L4S" scan --format json --max-inflate-total 1 "$CORPUS" > "$OUT/8.json"; rc=$?
check "--max-inflate-total: scan completes" test "$rc" -le 1
# (records come in the order the workers finish files, so any error record
# may come first: one of them must name the scan-wide cap)
check_contains "--max-inflate-total: error names the cap" "$(grep '"kind":"error"' "$OUT/8.json")" "exhausted (--max-inflate-total)"
check_contains "--max-inflate-total: summary is last" "$(tail -n 1 "$OUT/8.json")" '"kind":"summary"'
