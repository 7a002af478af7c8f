#!/bin/sh
# t_io_guard.sh - regression guards on bytes read and peak memory (not timings).
#
# The optimised agent ($L4S_PLAIN: ASan would inflate the RSS) runs under
# bench/measure, which reports rchar (bytes asked of read/pread, from
# /proc/PID/io) and peak RSS (ru_maxrss) of exactly that process.
#
# 1. A 200 MB jar of STORED incompressible data entries and small classes,
#    no nested archive, no Log4j.  A tail-first reader needs the tail (at
#    most 64 KiB + 22 bytes), the central directory (about 17 KB here) and
#    the few entries the detector asks for: measured 85 KB, 0.04% of the
#    file.  Bound: 0.25% (about 525 KB): six times the measure, and below
#    one data entry (1 MiB), so reading any data entry, or the whole file,
#    fails it.
# 2. The same jar with log4j-core's classes shaded in, with --no-sha256:
#    now the fingerprinted classes are inflated too (measured 249 KB,
#    0.12%).  Bound: 0.5% (1 MB), still below a single data entry.
#    With hashing on, the archive holding the finding is read once for its
#    SHA-256: bound 1.05 x the size (catches reading it twice).
# 3. A 1 GiB Spring Boot-like fat jar: 4 STORED entries of 256 MiB (zeros,
#    written as holes, so no disk is used) and a STORED nested
#    log4j-core-2.14.1.jar.  The nested jar must be found, peak RSS stay
#    under 64 MB (measured 7 MB: a STORED nested archive is a window onto
#    the file, never a copy) and bytes read under 1% (measured 0.19%: the
#    tail, the central directories, and the nested jar once for its hash).
. "$TOP/tests/lib.sh"
set -u
mk="python3 $TOP/tests/t_io_guard.d/mkzip.py"
core="$CORPUS/log4j-samples/true-hits/log4j-core-2.14.1.jar"
m="$OUT/measure"
if ! cc -O2 -o "$m" "$TOP/bench/measure.c" 2>"$OUT/cc.txt"; then
	not_ok "build bench/measure.c - $(head -c 300 "$OUT/cc.txt")"
	exit 0
fi

# run NAME OUTFILE ARGS... : sets rchar, rss_kb, status
run() {
	_n=$1 _o=$2
	shift 2
	"$m" -o "$_o" "$L4S_PLAIN" scan --format json "$@" 2>"$OUT/$_n.measure"
	_l=$(grep '^MEASURE ' "$OUT/$_n.measure")
	rchar=$(echo "$_l" | sed 's/.* rchar=\([0-9-]*\).*/\1/')
	rss_kb=$(echo "$_l" | sed 's/.* maxrss_kb=\([0-9-]*\).*/\1/')
	status=$(echo "$_l" | sed 's/.* status=\([0-9-]*\).*/\1/')
	echo "$_n: $_l" >&2
}
# below NAME VALUE LIMIT WHAT : ok when VALUE < LIMIT (integers)
below() {
	if [ "$2" -ge 0 ] 2>/dev/null && [ "$2" -lt "$3" ]; then ok "$1"; else not_ok "$1 - $4: $2, limit $3"; fi
}
size_of() { stat -c %s "$1"; }

# 1. no nested archive, no Log4j: tail and central directory only
big=$OUT/big.jar
$mk big "$big" 200
sz=$(size_of "$big")
run big "$OUT/big.json" "$big"
check_eq "big jar: scan exit status 0" "$status" 0
below "big jar: bytes read < 0.25% of its size" "$rchar" $((sz / 400)) "rchar"
check_contains "big jar: one archive, no error" "$(tail -n 1 "$OUT/big.json")" '"archives":1,'
check_contains "big jar: no error" "$(tail -n 1 "$OUT/big.json")" '"errors":0,'
rm -f "$big"

# 2. Log4j shaded into the same kind of jar
shaded=$OUT/shaded.jar
$mk big "$shaded" 200 "$core"
sz=$(size_of "$shaded")
run shaded "$OUT/shaded.json" --no-sha256 "$shaded"
check_contains "shaded jar: log4j-core 2.14.1 found" "$(cat "$OUT/shaded.json")" '"version":"2.14.1"'
below "shaded jar, --no-sha256: bytes read < 0.5% of its size" "$rchar" $((sz / 200)) "rchar"
run shaded-sha "$OUT/shaded-sha.json" "$shaded"
below "shaded jar, hashed: read once (< 1.05 x its size)" "$rchar" $((sz + sz / 20)) "rchar"
rm -f "$shaded"

# 3. 1 GiB STORED fat jar with a nested log4j-core
fat=$OUT/fat.jar
$mk fat "$fat" 1024 "$core"
sz=$(size_of "$fat")
run fat "$OUT/fat.json" "$fat"
check_contains "1 GiB fat jar: nested log4j-core found" "$(cat "$OUT/fat.json")" \
	'"path":"'"$fat"'!/BOOT-INF/lib/log4j-core-2.14.1.jar"'
check_eq "1 GiB fat jar: exit status 1 (vulnerable)" "$status" 1
below "1 GiB fat jar: peak RSS < 64 MB" "$rss_kb" 65536 "maxrss KB"
below "1 GiB fat jar: bytes read < 1% of its size" "$rchar" $((sz / 100)) "rchar"
run fat-t1 "$OUT/fat-t1.json" --threads 1 "$fat"
below "1 GiB fat jar, --threads 1: peak RSS < 64 MB" "$rss_kb" 65536 "maxrss KB"
rm -f "$fat"

# 4. Start-up memory: the agent maps no shared object it does not use on
#    every run.  libcurl (and its TLS, Kerberos and LDAP stack) is loaded
#    only for --submit (lib/submit/http_curl.c), and libarchive is linked
#    statically, without the libxml2/ICU/libstdc++ its shared build pulls
#    in.  Together they were 8 MB of the 11.5 MB start-up RSS.
libs=$(ldd "$L4S_PLAIN" 2>&1)
for l in libcurl libxml2 libicu libstdc++ libssl libgnutls libkrb5 libldap; do
	check_absent "agent does not link $l at start-up" "$libs" "$l"
done
run empty "$OUT/empty.json" --no-processes "$OUT"
below "scan of a small directory: peak RSS < 8 MB (start-up)" "$rss_kb" 8192 "maxrss KB"
