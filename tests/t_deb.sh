#!/bin/sh
# t_deb.sh - `make deb` (issue 19): the agent and collector packages build,
# pass lintian (no error or warning; the only tag not asked about is listed
# with its reason in dist/debian/lintian-suppress), and install into a
# throwaway root with dpkg itself (maintainer scripts run with $DPKG_ROOT):
# the files where Debian puts them, the state directory created, nothing
# enabled, the units valid for systemd; purge removes the state.
. "$TOP/tests/lib.sh"
for t in dpkg-deb lintian; do
	command -v $t >/dev/null 2>&1 || { not_ok "tools - $t is missing (make deps)"; exit 0; }
done
make -C "$TOP" --no-print-directory deb > "$OUT/make-deb.txt" 2>&1
check_eq "make deb (build, lintian --fail-on error,warning)" "$?" 0
v=$(cat "$TOP/VERSION")-1
a=$(dpkg --print-architecture)
agent="$TOP/build/deb/log4scan_${v}_${a}.deb"
server="$TOP/build/deb/log4scan-server_${v}_${a}.deb"
check "agent package built" test -f "$agent"
check "collector package built" test -f "$server"
lintian --suppress-tags-from-file "$TOP/dist/debian/lintian-suppress" "$agent" "$server" > "$OUT/lintian.txt" 2>&1
check_absent "lintian: no error" "$(cat "$OUT/lintian.txt")" "E: "
check_absent "lintian: no warning" "$(cat "$OUT/lintian.txt")" "W: "
check_contains "agent: depends on its shared libraries" "$(dpkg-deb -f "$agent" Depends)" "libjansson4"
check_contains "agent: recommends libcurl4 (loaded for --submit)" "$(dpkg-deb -f "$agent" Recommends)" "libcurl4"

# ---- install into a throwaway root
R="$OUT/root"
rm -rf "$R"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/triggers"
: > "$R/var/lib/dpkg/status"
dpkg --root="$R" --force-script-chrootless --force-depends --log=/dev/null -i "$agent" "$server" > "$OUT/dpkg-i.txt" 2>&1
check_eq "dpkg -i of both packages into the throwaway root" "$?" 0
for f in usr/bin/log4scan usr/sbin/log4scan-server usr/share/man/man1/log4scan.1.gz \
	usr/share/man/man8/log4scan-server.8.gz lib/systemd/system/log4scan.service lib/systemd/system/log4scan.timer \
	lib/systemd/system/log4scan-logs.service lib/systemd/system/log4scan-logs.timer \
	lib/systemd/system/log4scan-server.service usr/share/doc/log4scan/copyright etc/log4scan/agent.conf; do
	check "installed: /$f" test -f "$R/$f"
done
check_eq "agent.conf is root's only (it may hold a token)" "$(stat -c %a "$R/etc/log4scan/agent.conf")" 600
check_eq "postinst created the state directory" "$(stat -c %a "$R/var/lib/log4scan" 2>&1)" 755
check_eq "nothing enabled" "$(find "$R/etc/systemd" -name '*.wants' 2>/dev/null | wc -l)" 0
check_contains "units point at the installed binary" "$(cat "$R/lib/systemd/system/log4scan.service")" \
	"ExecStart=/usr/bin/log4scan scan --config /etc/log4scan/agent.conf"
check_contains "the installed agent runs" "$("$R/usr/bin/log4scan" --version)" "log4scan $(cat "$TOP/VERSION")"
check "the installed agent is hardened (full RELRO, bind now)" sh -c \
	"readelf -d '$R/usr/bin/log4scan' | grep -q BIND_NOW && readelf -l '$R/usr/bin/log4scan' | grep -q GNU_RELRO"
if command -v systemd-analyze >/dev/null 2>&1; then
	# checked by this host's systemd, with the binaries' paths pointed into
	# the throwaway root
	mkdir -p "$OUT/units"
	for u in log4scan.service log4scan.timer log4scan-logs.service log4scan-logs.timer log4scan-server.service; do
		sed -e "s|/usr/s\{0,1\}bin/log4scan|$R&|" "$R/lib/systemd/system/$u" > "$OUT/units/$u"
	done
	systemd-analyze verify --man=no "$OUT"/units/* > "$OUT/verify.txt" 2>&1
	check_eq "systemd-analyze verify: the units are valid ($(head -c 200 "$OUT/verify.txt"))" "$?" 0
fi
dpkg --root="$R" --force-script-chrootless --force-depends --log=/dev/null -P log4scan log4scan-server \
	> "$OUT/dpkg-P.txt" 2>&1
check_eq "dpkg --purge" "$?" 0
check "purge removed the state directory" test ! -e "$R/var/lib/log4scan"
check "purge removed the configuration" test ! -e "$R/etc/log4scan/agent.conf"
check "purge removed the binaries" test ! -e "$R/usr/bin/log4scan"
