#!/bin/sh
# t_ps.sh - `log4scan ps` against real JVMs (issue #4).
#
# Compiles tests/java/{Hold,Launcher}.java into $OUT and starts five JVMs:
#   cp      log4j-core 2.14.1 from the corpus on the class path, listening on a port
#   fat     java -jar fat.jar: log4j-core only as BOOT-INF/lib/*.jar inside it
#   nolook  -Dlog4j2.formatMsgNoLookups=true (listed, but not enough)
#   swap    a copy of core 2.14.1 in $OUT, later replaced by 2.17.1 (write + rename)
#   nobody  run as user nobody, for the permission test
# and checks the JSON Lines of `ps` (run as root; as root with exactly the
# capabilities dist/systemd/log4scan.service grants, read from the unit;
# with the unit's old set, CAP_DAC_READ_SEARCH alone; as another non-root
# user; and while processes come and go).  Every JVM is killed on exit.
. "$TOP/tests/lib.sh"

core="$CORPUS/log4j-samples/true-hits/log4j-core-2.14.1.jar"
api="$CORPUS/log4j-samples/false-hits/log4j-api-2.14.1.jar"
fixed="$CORPUS/log4j-samples/false-hits/log4j-core-2.17.1.jar"
for t in java javac jar setpriv python3; do
	command -v $t >/dev/null 2>&1 || { not_ok "tools - $t is missing (make deps)"; exit 0; }
done
[ -f "$core" ] && [ -f "$api" ] && [ -f "$fixed" ] || { not_ok "corpus - log4j jars missing under $CORPUS"; exit 0; }
[ "$(id -u)" = 0 ] || { not_ok "root - this test starts JVMs as another user and needs root"; exit 0; }

pids=""
spinner=""
cleanup() {
	for p in $pids $spinner; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT INT TERM

# ---- build the test programs
mkdir -p "$OUT/cls" "$OUT/lcls" "$OUT/fat/BOOT-INF/classes" "$OUT/fat/BOOT-INF/lib" "$OUT/lib" "$OUT/run"
chmod 755 "$OUT" "$OUT/cls" "$OUT/lib"
chmod 777 "$OUT/run"
javac -nowarn -cp "$api" -d "$OUT/cls" "$TOP/tests/java/Hold.java" 2>"$OUT/javac.txt" &&
	javac -nowarn -d "$OUT/lcls" "$TOP/tests/java/Launcher.java" 2>>"$OUT/javac.txt"
check "compile test programs" test -f "$OUT/cls/Hold.class" -a -f "$OUT/lcls/Launcher.class"
cp "$OUT/cls/Hold.class" "$OUT/fat/BOOT-INF/classes/"
cp "$OUT"/lcls/*.class "$OUT/fat/"
cp "$core" "$api" "$OUT/fat/BOOT-INF/lib/"
printf 'Main-Class: Launcher\n' > "$OUT/manifest.txt"
rm -f "$OUT/fat.jar"
jar --create --file "$OUT/fat.jar" --manifest "$OUT/manifest.txt" --no-compress -C "$OUT/fat" . 2>>"$OUT/javac.txt"
check "build fat jar" test -f "$OUT/fat.jar"
cp "$core" "$OUT/lib/log4j-core.jar"
chmod 644 "$OUT/lib/log4j-core.jar"

# ---- start the JVMs
jopts="-Xshare:auto -XX:TieredStopAtLevel=1 -Xmx64m"
java $jopts -cp "$OUT/cls:$core:$api" Hold "$OUT/run/cp" listen >"$OUT/cp.log" 2>&1 &
pids="$pids $!"
java $jopts -jar "$OUT/fat.jar" "$OUT/run/fat" >"$OUT/fat.log" 2>&1 &
pids="$pids $!"
java $jopts -Dlog4j2.formatMsgNoLookups=true -cp "$OUT/cls:$core:$api" Hold "$OUT/run/nolook" >"$OUT/nolook.log" 2>&1 &
pids="$pids $!"
java $jopts -cp "$OUT/cls:$OUT/lib/log4j-core.jar:$api" Hold "$OUT/run/swap" >"$OUT/swap.log" 2>&1 &
pids="$pids $!"
setpriv --reuid=nobody --regid=nogroup --clear-groups java $jopts -cp "$OUT/cls:$core:$api" Hold "$OUT/run/nobody" >"$OUT/nobody.log" 2>&1 &
pids="$pids $!"

n=0
while [ $n -lt 240 ]; do
	ready=0
	for f in cp fat nolook swap nobody; do [ -s "$OUT/run/$f" ] && ready=$((ready + 1)); done
	[ $ready -eq 5 ] && break
	sleep 0.5
	n=$((n + 1))
done
check_eq "five JVMs started" "$ready" 5
if [ "$ready" -ne 5 ]; then
	tail -n 3 "$OUT"/*.log | sed 's/^/# /'
	exit 0
fi
for f in cp fat nolook swap nobody; do
	read -r p port < "$OUT/run/$f"
	eval "pid_$f=$p port_$f=$port"
done

# ---- the checker: python reads one ps output and asserts things about it
cat > "$OUT/check.py" <<'EOF'
import json, os, sys
out, mode = sys.argv[1], sys.argv[2]
env = os.environ
def ok(n, cond, why=""):
    print(("ok " if cond else "not ok ") + mode + ": " + n + ("" if cond else " - " + why))
recs = []
bad = 0
for line in open(out, encoding="utf-8"):
    try:
        recs.append(json.loads(line))
    except ValueError:
        bad += 1
ok("every line is JSON", bad == 0 and recs, "%d bad lines" % bad)
procs = {r["pid"]: r for r in recs if r.get("kind") == "process"}
finds = [r for r in recs if r.get("kind") == "finding"]
summ = [r for r in recs if r.get("kind") == "summary"]
ok("one summary, last", len(summ) == 1 and recs and recs[-1]["kind"] == "summary")
s = summ[0] if summ else {}
# each finding follows the process record with its pid
cur = None
order = True
for r in recs:
    if r["kind"] == "process": cur = r["pid"]
    elif r["kind"] == "finding" and r.get("pid") != cur: order = False
ok("findings follow their process and carry its pid", order)
ok("no kernel thread listed", 2 not in procs or "kthreadd" not in open("/proc/2/stat").read())
if "kthreadd" in open("/proc/2/stat").read():
    ok("kernel threads counted", s.get("kernel_threads", 0) > 0, str(s.get("kernel_threads")))
keys = {"kind","pid","user","command","start_time","container","listening","jars","status",
        "restart_required","mitigations","notes"}
ok("process records have the schema", procs and all(set(p) == keys for p in procs.values()),
   str([sorted(set(p) ^ keys) for p in procs.values()][:1]))

def fins(pid): return [f for f in finds if f.get("pid") == pid]
def pid(n): return int(env["pid_" + n])
core, fat, lib = env["core"], env["fatjar"], env["swapjar"]

if mode in ("root", "swapped", "unit"):
    for n in ("cp", "fat", "nolook", "swap", "nobody"):
        ok(n + " listed", pid(n) in procs, "pid %d missing" % pid(n))
    ok("jvms counted", s.get("jvms", 0) >= 5, str(s.get("jvms")))
    p = procs.get(pid("cp"), {})
    f = fins(pid("cp"))
    ok("cp: vulnerable", p.get("status") == "vulnerable", str(p.get("status")))
    ok("cp: jar path", p.get("jars") == [core], str(p.get("jars")))
    ok("cp: finding 2.14.1 at its path", any(x["path"] == core and x["version"] == "2.14.1"
        and x["status"] == "vulnerable" and "CVE-2021-44228" in x["cves"] for x in f), str(f)[:300])
    ok("cp: listening port", {"proto": "tcp", "addr": "127.0.0.1", "port": int(env["port_cp"])}
        in p.get("listening", []), str(p.get("listening")))
    ok("cp: command is the main class", p.get("command") == "Hold", str(p.get("command")))
    ok("cp: user root", p.get("user") == "root", str(p.get("user")))
    ok("cp: start time", len(p.get("start_time") or "") == 20 and p["start_time"].endswith("Z"))
    ok("cp: exposed counted", s.get("exposed", 0) >= 1)
    p = procs.get(pid("fat"), {})
    f = fins(pid("fat"))
    ok("fat: vulnerable", p.get("status") == "vulnerable", str(p.get("status")))
    ok("fat: the fat jar is the jar", p.get("jars") == [fat], str(p.get("jars")))
    ok("fat: nested finding", any(x["path"] == fat + "!/BOOT-INF/lib/log4j-core-2.14.1.jar"
        and x["version"] == "2.14.1" and x["status"] == "vulnerable" for x in f), str([x["path"] for x in f]))
    ok("fat: command -jar", p.get("command") == "-jar " + fat, str(p.get("command")))
    ok("fat: not listening", p.get("listening") == [])
    p = procs.get(pid("nolook"), {})
    ok("nolook: mitigation listed", p.get("mitigations") == ["-Dlog4j2.formatMsgNoLookups=true"],
       str(p.get("mitigations")))
    ok("nolook: still vulnerable", p.get("status") == "vulnerable", str(p.get("status")))
    ok("nolook: note says CVE-2021-45046", any("CVE-2021-45046" in x for x in p.get("notes", [])))
    ok("cp: no mitigation", procs.get(pid("cp"), {}).get("mitigations") == [])
    p = procs.get(pid("nobody"), {})
    ok("nobody: user", p.get("user") == "nobody", str(p.get("user")))
    ok("nobody: vulnerable (root sees it)", p.get("status") == "vulnerable", str(p.get("status")))
    p = procs.get(pid("swap"), {})
    f = fins(pid("swap"))
    ok("swap: jar path", p.get("jars") == [lib], str(p.get("jars")))
    ok("swap: vulnerable", p.get("status") == "vulnerable", str(p.get("status")))
    if mode in ("root", "unit"):
        ok("swap: no restart needed yet", p.get("restart_required") is False)
        ok("swap: finding 2.14.1", any(x["path"] == lib and x["version"] == "2.14.1" for x in f))
        ok("no restart counted", s.get("restart_required") == 0, str(s.get("restart_required")))
    else:
        ok("swap: restart required", p.get("restart_required") is True, str(p))
        ok("swap: loaded copy is 2.14.1 vulnerable", any(x["path"] == lib and x["version"] == "2.14.1"
            and x["status"] == "vulnerable" for x in f), str(f)[:300])
        ok("swap: evidence names the kernel handle", any(
            any("/proc/%d/fd/" % pid("swap") in e for e in x["evidence"]) for x in f))
        ok("swap: note names the disk copy", any("restart required" in n and "2.17.1" in n
            for n in p.get("notes", [])), str(p.get("notes")))
        ok("restart counted", s.get("restart_required", 0) >= 1)
        ok("cp: unaffected by the swap", procs.get(pid("cp"), {}).get("restart_required") is False)

if mode == "user":
    p = procs.get(pid("nobody"))
    ok("nobody: listed although unreadable", p is not None)
    p = p or {}
    ok("nobody: status unknown", p.get("status") == "unknown", str(p.get("status")))
    ok("nobody: note says permission denied", any("ermission denied" in n for n in p.get("notes", [])),
       str(p.get("notes")))
    ok("nobody: no finding claimed", fins(pid("nobody")) == [])
    ok("denied counted", s.get("denied", 0) > 0)

if mode == "oldcaps":
    # root without CAP_SYS_PTRACE: every JVM's fd links and maps are refused
    # by the kernel.  None may be called safe; each says which file and why.
    for n in ("cp", "fat", "nolook", "swap", "nobody"):
        p = procs.get(pid(n))
        ok(n + " listed", p is not None, "pid %d missing" % pid(n))
        p = p or {}
        ok(n + ": unknown, never safe", p.get("status") == "unknown", str(p.get("status")))
        ok(n + ": note names the file and the errno",
           any(("/proc/%d/fd" % pid(n)) in x and "EACCES" in x for x in p.get("notes", [])), str(p.get("notes")))
        ok(n + ": note names the capability", any("CAP_SYS_PTRACE" in x for x in p.get("notes", [])))
        ok(n + ": no finding claimed", fins(pid(n)) == [])
    ok("no JVM counted safe", s.get("jvm_status", {}).get("safe", -1) == 0, str(s.get("jvm_status")))
    ok("unknown counted", s.get("jvm_status", {}).get("unknown", 0) >= 5, str(s.get("jvm_status")))

if mode == "churn":
    ok("summary has exited count", "exited" in s)
EOF
export core fatjar="$OUT/fat.jar" swapjar="$OUT/lib/log4j-core.jar"
export pid_cp pid_fat pid_nolook pid_swap pid_nobody port_cp

# ---- as root
"$L4S" ps --format json > "$OUT/ps-root.json" 2> "$OUT/ps-root.err"
rc=$?
check_eq "ps exit status 1 (vulnerable JVMs)" "$rc" 1
python3 "$OUT/check.py" "$OUT/ps-root.json" root

"$L4S" ps --format text > "$OUT/ps-root.txt" 2>&1
check_contains "text output names the fat jar finding" "$(cat "$OUT/ps-root.txt")" "fat.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar"
check_contains "text output has the summary" "$(cat "$OUT/ps-root.txt")" "JVMs:"

# ---- as root with exactly the systemd unit's capabilities (issue 19): the
# bounding set of dist/systemd/log4scan.service, no inheritable or ambient
# capabilities, no new privileges - what systemd gives the daily scan.
unitcaps=$(sed -n 's/^CapabilityBoundingSet=//p' "$TOP/dist/systemd/log4scan.service")
setcaps=-all
for cap in $unitcaps; do setcaps="$setcaps,+$(echo "$cap" | sed 's/^CAP_//' | tr 'A-Z' 'a-z')"; done
check_contains "the unit grants CAP_SYS_PTRACE" "$unitcaps" CAP_SYS_PTRACE
setpriv --bounding-set="$setcaps" --inh-caps=-all --ambient-caps=-all --no-new-privs \
	"$L4S" ps --format json > "$OUT/ps-unit.json" 2> "$OUT/ps-unit.err"
check_eq "ps with the unit's capabilities ($setcaps): exit status 1" "$?" 1
python3 "$OUT/check.py" "$OUT/ps-unit.json" unit

# ---- the unit's old set, CAP_DAC_READ_SEARCH alone: unknown, never safe
setpriv --bounding-set=-all,+dac_read_search --inh-caps=-all --ambient-caps=-all --no-new-privs \
	"$L4S" ps --format json > "$OUT/ps-oldcaps.json" 2> "$OUT/ps-oldcaps.err"
check_eq "ps with CAP_DAC_READ_SEARCH only: exit status 1 (unknown JVMs)" "$?" 1
python3 "$OUT/check.py" "$OUT/ps-oldcaps.json" oldcaps
setpriv --bounding-set=-all,+dac_read_search --inh-caps=-all --ambient-caps=-all --no-new-privs \
	"$L4S" ps --format text > "$OUT/ps-oldcaps.txt" 2>&1
check_contains "text: the JVMs are UNKNOWN" "$(cat "$OUT/ps-oldcaps.txt")" "UNKNOWN    pid $pid_cp"
check_absent "text: none is SAFE" "$(cat "$OUT/ps-oldcaps.txt")" "SAFE       pid"
setpriv --bounding-set=-all,+dac_read_search --inh-caps=-all --ambient-caps=-all --no-new-privs \
	"$L4S" ps --format json --fail-on low > /dev/null 2>&1
check_eq "--fail-on low: unknown JVMs do not fail" "$?" 0
setpriv --bounding-set=-all,+dac_read_search --inh-caps=-all --ambient-caps=-all --no-new-privs \
	"$L4S" ps --format json --fail-on critical,unknown > /dev/null 2>&1
check_eq "--fail-on critical,unknown: they do" "$?" 1
setpriv --bounding-set=-all,+dac_read_search --inh-caps=-all --ambient-caps=-all --no-new-privs \
	"$L4S" scan --no-config --format json "$OUT/cls" > "$OUT/scan-oldcaps.json" 2>&1
check_eq "a scan of given paths has no process view: exit status 0" "$?" 0

# ---- as another non-root user: nobody's JVM cannot be read
setpriv --reuid=64123 --regid=64123 --clear-groups "$L4S" ps --format json > "$OUT/ps-user.json" 2> "$OUT/ps-user.err"
rc=$?
check "ps as non-root does not fail" test "$rc" -le 1
check_absent "ps as non-root: no sanitizer report" "$(cat "$OUT/ps-user.err")" "Sanitizer"
python3 "$OUT/check.py" "$OUT/ps-user.json" user

# ---- replace the jar under the running JVM: write a new file, rename over
cp "$fixed" "$OUT/lib/.log4j-core.jar.new" && mv "$OUT/lib/.log4j-core.jar.new" "$OUT/lib/log4j-core.jar"
"$L4S" ps --format json > "$OUT/ps-swapped.json" 2> "$OUT/ps-swapped.err"
check_eq "ps after the swap: exit status 1" "$?" 1
python3 "$OUT/check.py" "$OUT/ps-swapped.json" swapped

# ---- processes coming and going while ps runs
( while :; do /bin/true; done ) &
spinner=$!
( while :; do /bin/sleep 0; done ) &
spinner="$spinner $!"
fails=0
i=0
while [ $i -lt 3 ]; do
	"$L4S" ps --format json > "$OUT/ps-churn.json" 2> "$OUT/ps-churn.err"
	rc=$?
	[ "$rc" -le 1 ] || fails=$((fails + 1))
	grep -q Sanitizer "$OUT/ps-churn.err" && fails=$((fails + 1))
	i=$((i + 1))
done
for p in $spinner; do kill -9 "$p" 2>/dev/null; done
spinner=""
check_eq "ps while processes exit: no failure in 3 runs" "$fails" 0
python3 "$OUT/check.py" "$OUT/ps-churn.json" churn

# ---- a JVM that exits: it is not listed afterwards, and nothing breaks
kill -9 $pid_nolook
wait $pid_nolook 2>/dev/null
"$L4S" ps --format json > "$OUT/ps-after.json" 2>&1
check_absent "exited JVM no longer listed" "$(grep '"kind":"process"' "$OUT/ps-after.json")" "\"pid\":$pid_nolook,"

# ---- options
"$L4S" ps --bogus > /dev/null 2>&1
check_eq "unknown option: exit 2" "$?" 2
"$L4S" ps --priority sometimes > /dev/null 2>&1
check_eq "bad --priority: exit 2" "$?" 2
"$L4S" ps --fail-on severe > /dev/null 2>&1
check_eq "bad --fail-on: exit 2" "$?" 2
"$L4S" ps --fail-on high,medium > /dev/null 2>&1
check_eq "--fail-on with two severities: exit 2" "$?" 2
"$L4S" ps --help > "$OUT/help.txt" 2>&1
check_contains "help mentions --read-environ" "$(cat "$OUT/help.txt")" "--read-environ"
"$L4S" ps --format json --priority normal -o "$OUT/ps-o.json" > /dev/null 2>&1
check_contains "--output writes the report" "$(tail -n 1 "$OUT/ps-o.json")" '"kind":"summary"'
exit 0
