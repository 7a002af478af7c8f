#!/bin/sh
# t_unit_nspawn.sh - the shipped systemd unit, run by systemd (issue 19).
#
# Boots a Debian 12 container with systemd-nspawn (systemd as its PID 1),
# installs the agent package from `make deb` with dpkg, starts a JVM running
# log4j-core 2.14.1 as user nobody, and starts log4scan.service the way the
# timer does: systemd applies the unit's capability bounding set, seccomp
# filter and sandboxing.  The report the unit wrote must show that JVM
# vulnerable, with its listening port; with a drop-in restoring the unit's
# old bounding set (CAP_DAC_READ_SEARCH alone) the same JVM must be
# "unknown", never "safe".  The container's root is a debootstrap tree kept
# in $L4S_NSPAWN_ROOT (default /var/tmp/log4scan-nspawn/root), made once
# from Debian's mirror; the container's writes go to a throwaway overlay
# (--volatile=overlay).  The JDK is the host's, bind-mounted read-only.
. "$TOP/tests/lib.sh"
for t in systemd-nspawn debootstrap java javac dpkg-deb; do
	command -v $t >/dev/null 2>&1 || { ok "unit: skipped - $t is missing (make deps)"; exit 0; }
done
[ "$(id -u)" = 0 ] || { not_ok "root - systemd-nspawn needs root"; exit 0; }
ROOT=${L4S_NSPAWN_ROOT:-/var/tmp/log4scan-nspawn/root}
core="$CORPUS/log4j-samples/true-hits/log4j-core-2.14.1.jar"
api="$CORPUS/log4j-samples/false-hits/log4j-api-2.14.1.jar"
jdk=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")

# ---- the container's root, made once (again when a package was added to
# the list since: libisal2 came with the ISA-L inflater)
PKGS=systemd,systemd-sysv,dbus,libjansson4,libseccomp2,libdeflate0,libisal2,libnettle8,libcurl4,liblz4-1,libzstd1,libbz2-1.0,liblzma5,zlib1g,procps,util-linux
for p in $(echo "$PKGS" | tr , ' '); do
	ls "$ROOT/var/lib/dpkg/info/$p.list" "$ROOT/var/lib/dpkg/info/$p":*.list >/dev/null 2>&1 || rm -f "$ROOT/lib/systemd/systemd"
done
if [ ! -x "$ROOT/lib/systemd/systemd" ]; then
	rm -rf "$ROOT"
	mkdir -p "$(dirname "$ROOT")"
	debootstrap --variant=minbase --include="$PKGS" \
		bookworm "$ROOT" http://deb.debian.org/debian > "$OUT/debootstrap.txt" 2>&1
	check_eq "debootstrap of the container's root ($ROOT)" "$?" 0
fi
[ -x "$ROOT/lib/systemd/systemd" ] || exit 0

# ---- the agent package and the test JVM
make -C "$TOP" --no-print-directory deb > "$OUT/make-deb.txt" 2>&1
check_eq "make deb" "$?" 0
mkdir -p "$OUT/jvm/cls" "$OUT/results" "$OUT/debs"
chmod 777 "$OUT/results"
cp "$TOP"/build/deb/log4scan_"$(cat "$TOP/VERSION")"-1_*.deb "$OUT/debs/"
javac -nowarn -cp "$api" -d "$OUT/jvm/cls" "$TOP/tests/java/Hold.java" 2>"$OUT/javac.txt"
cp "$core" "$api" "$OUT/jvm/"
rm -f "$OUT"/results/*
cat > "$OUT/jvm/run.sh" <<EOF
#!/bin/sh
# runs inside the container as a oneshot service, then powers it off
r=/results
exec > \$r/run.log 2>&1
set -x
dpkg -i /debs/*.deb; echo "\$?" > \$r/dpkg.rc
# what the package left enabled: nothing
ls /etc/systemd/system/timers.target.wants 2>/dev/null | grep log4scan > \$r/enabled.txt
echo 'exclude = $jdk/*' >> /etc/log4scan/agent.conf
setpriv --reuid=nobody --regid=nogroup --clear-groups $jdk/bin/java -Xshare:auto -XX:TieredStopAtLevel=1 -Xmx64m \
	-cp /opt/jvm/cls:/opt/jvm/$(basename "$core"):/opt/jvm/$(basename "$api") Hold \$r/ready listen > \$r/jvm.log 2>&1 &
n=0; while [ ! -s \$r/ready ] && [ \$n -lt 240 ]; do sleep 0.5; n=\$((n+1)); done
# the scan's exit status and the unit's result, recorded by a test drop-in
# (in the state directory: the rest of the file system is read-only to it)
mkdir -p /etc/systemd/system/log4scan.service.d
printf '[Service]\nExecStopPost=/bin/sh -c "echo \$\$SERVICE_RESULT \$\$EXIT_STATUS > /var/lib/log4scan/status.\$\$(cat /results/mode)"\n' \
	> /etc/systemd/system/log4scan.service.d/test.conf
echo unit > \$r/mode
systemctl daemon-reload
systemctl start log4scan.service
systemctl show -p CapabilityBoundingSet log4scan.service > \$r/unit.txt
cp /var/lib/log4scan/last-scan.json \$r/unit.json
journalctl -u log4scan.service --no-pager > \$r/unit.journal 2>&1
stat -c %a /var/lib/log4scan/last-scan.json > \$r/unit.mode
# the unit's old capability set, as a drop-in
mkdir -p /etc/systemd/system/log4scan.service.d
printf '[Service]\nCapabilityBoundingSet=\nCapabilityBoundingSet=CAP_DAC_READ_SEARCH\n' > /etc/systemd/system/log4scan.service.d/old.conf
echo old > \$r/mode
systemctl daemon-reload
systemctl start log4scan.service
systemctl show -p CapabilityBoundingSet log4scan.service > \$r/old.txt
cp /var/lib/log4scan/last-scan.json \$r/old.json
cp /var/lib/log4scan/status.* \$r/
echo done > \$r/finished
systemctl poweroff
EOF
chmod 755 "$OUT/jvm/run.sh"
units="$OUT/units"
mkdir -p "$units"
cat > "$units/l4s-test.service" <<'EOF'
[Unit]
Description=log4scan unit test
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/opt/jvm/run.sh
[Install]
WantedBy=multi-user.target
EOF
# the test service is wanted by the tree itself (a dangling link when the
# service is not bound in)
ln -sf /etc/systemd/system/l4s-test.service "$ROOT/etc/systemd/system/multi-user.target.wants/l4s-test.service"
timeout 900 systemd-nspawn -D "$ROOT" --volatile=overlay -b --register=no --keep-unit -M l4s-unit-test \
	--console=read-only --capability=CAP_CHECKPOINT_RESTORE \
	--bind-ro="$jdk" --bind-ro=/etc/java-17-openjdk --bind-ro="$OUT/jvm:/opt/jvm" --bind-ro="$OUT/debs:/debs" \
	--bind="$OUT/results:/results" --bind-ro="$units/l4s-test.service:/etc/systemd/system/l4s-test.service" \
	> "$OUT/console.txt" 2>&1
check "the container booted systemd and ran the test to its end" test -f "$OUT/results/finished"
[ -f "$OUT/results/finished" ] || { tail -n 20 "$OUT/console.txt" | sed 's/^/# /'; tail -n 20 "$OUT/results/run.log" 2>/dev/null | sed 's/^/# /'; exit 0; }
check_eq "dpkg -i of the agent package inside the container" "$(cat "$OUT/results/dpkg.rc")" 0
check_eq "the package enabled no timer" "$(cat "$OUT/results/enabled.txt")" ""

cat > "$OUT/check.py" <<'EOF'
import json, os, sys
res, mode = sys.argv[1], sys.argv[2]
pid = int(open(res + "/ready").read().split()[0])
port = int(open(res + "/ready").read().split()[1])
def ok(n, c, why=""):
    print(("ok " if c else "not ok ") + mode + ": " + n + ("" if c else " - " + str(why)[:300]))
recs = [json.loads(l) for l in open(res + "/" + mode + ".json", encoding="utf-8")]
ok("the report starts with its envelope", recs and recs[0].get("kind") == "report")
procs = {r["pid"]: r for r in recs if r.get("kind") == "process"}
p = procs.get(pid, {})
unit = dict(l.strip().split("=", 1) for l in open(res + "/" + mode + ".txt") if "=" in l)
st = open(res + "/status." + mode).read().split() if os.path.exists(res + "/status." + mode) else []
ok("the unit succeeded with the scan's exit status 1 (a result, not a failure)", st == ["success", "1"], st)
ok("the JVM of user nobody is listed", p.get("user") == "nobody", p)
if mode == "unit":
    caps = unit.get("CapabilityBoundingSet", "")
    ok("systemd gave the unit its capability set", all(c in caps for c in
       ("cap_dac_read_search", "cap_sys_ptrace", "cap_checkpoint_restore")) and "cap_sys_admin" not in caps, caps)
    ok("the JVM is vulnerable", p.get("status") == "vulnerable", p)
    ok("its listening port is seen", any(l.get("port") == port for l in p.get("listening", [])), p.get("listening"))
    ok("its log4j-core 2.14.1 is a finding", any(r.get("kind") == "finding" and r.get("pid") == pid and
       r.get("version") == "2.14.1" and r.get("status") == "vulnerable" for r in recs))
else:
    ok("systemd gave the unit the old set", unit.get("CapabilityBoundingSet") == "cap_dac_read_search", unit)
    ok("the JVM is unknown, never safe", p.get("status") == "unknown", p)
    ok("the note names the file and the errno", any("/proc/%d/fd" % pid in n and "EACCES" in n
       for n in p.get("notes", [])), p.get("notes"))
EOF
python3 "$OUT/check.py" "$OUT/results" unit
python3 "$OUT/check.py" "$OUT/results" old
check_eq "the report is root's only (UMask=0077)" "$(cat "$OUT/results/unit.mode")" 600
