#!/bin/sh
# t_layers.sh - the code's layers, checked: which file may include which
# (#include "..." lines, a .c/.h pair counted as one module) and, where it is
# cheap, which object may call or carry what (nm of the optimised build).
# One ok / not ok line per rule; a failure lists the offending edges.
#
# Rules (README "Layout", lib/README.md):
#   lib-folders      every lib/ file is in a layer folder (LIB_LAYERS below);
#                    none is left at the top of lib/
#   lib-named        every include of a lib/ header names its folder
#                    ("scan/scan.h", resolved through -Ilib), in lib/,
#                    programs/, tests/unit/ and fuzz/ alike
#   lib-layers       a lib/ file includes headers of its own folder or of the
#                    folders its row of LIB_LAYERS lists, nothing else
#   lib-sink         no lib/ file outside lib/report/ includes a lib/report/
#                    header (the output is a sink)
#   lib-internal     an X_internal.h is included from its own folder only
#                    (and by tests and fuzzers); programs/ includes no
#                    *_internal.h, no report/formats.h, no archive/zipfmt.h
#   lib-calls        an object of lib/ calls (nm: an undefined symbol that
#                    another lib/ object defines) only into its own folder or
#                    the folders its row of LIB_LAYERS lists, so report/ is
#                    called by no other folder; in the Windows build
#                    (build/win, when built) the same, and every folder may
#                    call win32/, the POSIX seam posix.h maps calls onto
#   lib-names        every function and variable a lib/ object exports starts
#                    with the first word of its file's name (scan_opts.c:
#                    scan*, fix_backup.c: fix*, as server-names), in
#                    win32/ with l4s_ (the POSIX names it stands for, in
#                    the seam's namespace); LIB_NAMES_OLD lists the files
#                    whose older names are still to be changed, and the
#                    prefixes they may use, nothing else
#   lib-size         no lib/ source file over 1,000 lines
#   lib-platform     _WIN32 is tested in lib/ only by *_win32.c, lib/win32/
#                    and the files in WIN32_IFDEF below
#   no-cycle         no include cycle among modules but inside one lib/
#                    folder (a platform half, X_linux.c or X_win32.c, is
#                    one module with X)
#   lib-no-programs  no lib/ file includes a programs/ header
#   lib-no-cli       lib/ has no command-line concern: no terminal, no
#                    option parsing (they live in programs/cli_*.c)
#   scan-opts-key    every field of struct scan_opts (lib/scan/scan.h) is in
#                    the table the cache key is made from
#                    (lib/scan/scan_opts.c), and the table names no other
#                    field
#   server-util      programs/server/ includes from lib/ the util headers and
#                    the verdict's (SERVER_HEADERS below) only
#   server-layers    inside the collector, every include goes down the
#                    SERVER_LAYERS table below (or stays in its own row)
#   server-boundary  report_parse.c, the untrusted-bytes boundary, includes
#                    no other collector header (no HTTP, no database)
#   server-handlers  the handlers (api_*.c, qb.c, dashboard.c) include no
#                    libmicrohttpd and call no connection of their own
#                    (dbc_*, db_acquire*, db_release: store_query() only)
#   server-drivers   db_sqlite.c / db_pg.c are reached through db.c only
#   server-calls     no call cycle among the collector's objects
#   server-names     every function and variable a collector file exports
#                    starts with the first word of its name (server_main.c:
#                    main)
#   programs-size    no collector or CLI source over 1,000 lines
#   server-links     log4scan-server carries no lib/ object but util's and
#                    libverdict's (SERVER_VERDICT), and
#                    no agent library (upload client, scanner, libarchive,
#                    the agent's sandbox...; libseccomp itself it links for
#                    its own allow-list, programs/server/server_sandbox.c,
#                    and libcurl for its webhooks, webhook_send.c: not the
#                    agent's upload code, lib/submit/)
. "$TOP/tests/lib.sh"
cd "$TOP" || exit 2
B=${LAYERS_BUILD:-build}
tmp=$OUT/layers
mkdir -p "$tmp"

# lib/'s layers: each row is a folder and the folders it may include
# besides its own (lib/README.md gives the reasons).  A new folder needs a
# row here and a line in lib/README.md.
LIB_LAYERS='util
rules util
archive util
detect util rules
scan util rules archive detect
walk util rules archive detect scan
proc util rules archive detect scan walk
fix util rules archive detect scan walk proc
logs util
submit util
sys util
report util rules archive detect scan walk proc fix logs submit sys
win32 util'
# Names lib-names lets pass though they do not start with their file's name
# ("file prefix..." per line: a symbol of the file passes when it starts with
# one of them).  buf.c's allocation wrappers (xmalloc and its kin, the idiom
# of git and OpenBSD) and its string vectors, and finding.c's version-source
# constant, are used in nearly every file; every other lib/ name carries its
# file's name.  Add none.
LIB_NAMES_OLD='lib/util/buf.c x strv_
lib/detect/finding.c VS_'
# Stand-ins carry the names of what they stand in for: the Windows build's
# tar and image absence (notar_win32.c for scan/tarscan.c and scan/image.c),
# Nettle's SHA-256 over CNG, libdeflate over zlib.
LIB_NAMES_OLD="$LIB_NAMES_OLD
lib/scan/notar_win32.c tarscan_ image_
lib/win32/hash_cng.c sha256_
lib/win32/inflate_zlib.c libdeflate_"

# the lib/ files that may test _WIN32 though not *_win32.c: the two places
# that choose behaviour per OS (fix's in-use message; holders.c's "no
# system view" stand-in, which the Windows build replaces)
WIN32_IFDEF='lib/fix/fix_apply.c lib/proc/holders.c'

# The collector's layers, lowest first: a file may include headers of its
# own row or of rows above it.  A new file belongs in a row.
SERVER_LAYERS='report_parse auth sqlite_pcache server_sandbox regdomain metrics
db db_sqlite db_pg
store store_schema store_ingest store_merge ingest ingest_plan ingest_paths ingest_tx ingest_device cve_info store_rules store_rejudge store_team webhook webhook_events
webhook_admin webhook_send webhook_cli
server
http_req
qb api api_query api_list api_fleet api_ingest api_rules api_webhooks api_ops api_team dashboard http_limit
http_route http_conn
http
server_main'
SERVER_UTIL='lib/util/buf lib/util/jsonw lib/util/uuid'
# what the collector links of the agent's knowledge (libverdict.a, Makefile
# VERDICT_SRC): the rules and the verdict from a finding's recorded facts,
# to re-judge stored findings (issue 22); nothing that reads archives
SERVER_VERDICT='lib/detect/facts lib/detect/finding lib/detect/verdict lib/rules/rules lib/rules/version'
# headers it may include: util's, the verdict's, and detect/detect.h (the
# finding and the verdict's declarations; detect.o itself is not linked)
SERVER_HEADERS="$SERVER_UTIL $SERVER_VERDICT lib/detect/detect"

# ---- the include graph: "from-module to-module" per #include "..." line.
# A module is a file without its extension, and without "_internal",
# "_linux" or "_win32": a .c/.h pair is one module, X_internal.h is the
# private half of X's header, X_linux.c and X_win32.c its platform halves.
# An include is looked up beside the file, then in lib/ (-Ilib); one found
# in neither is a system stand-in (lib/win32/include) and left out.
# incs: "file spelled-name resolved-path" per include that resolves.
ls lib/*.[ch] lib/*/*.[ch] programs/*.[ch] programs/server/*.[ch] 2>/dev/null > "$tmp/files"
ls tests/unit/*.[ch] fuzz/*.c 2>/dev/null > "$tmp/testfiles"
awk 'function norm(p,   n, a, o, i, k) {
		n = split(p, a, "/"); k = 0
		for (i = 1; i <= n; i++) {
			if (a[i] == "." || a[i] == "") continue
			if (a[i] == ".." && k > 0 && o[k] != "..") { k--; continue }
			o[++k] = a[i]
		}
		p = o[1]; for (i = 2; i <= k; i++) p = p "/" o[i]
		return p
	}
	function exists(p,   r, line) { r = (getline line < p); close(p); return r >= 0 }
	function module(p) { sub(/\.[ch]$/, "", p); sub(/_(internal|linux|win32)$/, "", p); return p }
	FNR == 1 { dir = FILENAME; sub(/\/[^\/]*$/, "", dir) }
	/^[ \t]*#[ \t]*include[ \t]*"/ {
		inc = $0; sub(/^[^"]*"/, "", inc); sub(/".*$/, "", inc)
		t = norm(dir "/" inc)
		if (!exists(t)) { t = norm("lib/" inc); if (!exists(t)) next }
		print FILENAME, inc, t
	}' $(cat "$tmp/files" "$tmp/testfiles") > "$tmp/incs"
grep -vFf "$tmp/testfiles" "$tmp/incs" | awk '
	function module(p) { sub(/\.[ch]$/, "", p); sub(/_(internal|linux|win32)$/, "", p); return p }
	{ from = module($1); to = module($3); if (from != to) print from, to }' | sort -u > "$tmp/edges"
# a lib/ path's layer: its folder (lib/scan/scan.c: scan), "-" at the top
layer_awk='function layer(p, a) { if (p !~ /^lib\//) return ""; if (split(p, a, "/") < 3) return "-"; return a[2] }'

# strongly connected components of size > 1, one per line, members sorted
scc() { # edges file
	awk '{ adj[$1] = adj[$1] " " $2; node[$1]; node[$2] }
	END {
		for (n in node) {
			split("", seen); seen[n] = 1; q[1] = n; h = 1; t = 1
			while (h <= t) {
				u = q[h++]; k = split(adj[u], a, " ")
				for (i = 1; i <= k; i++) if (!(a[i] in seen)) { seen[a[i]] = 1; q[++t] = a[i] }
			}
			for (v in seen) reach[n SUBSEP v] = 1
		}
		for (n in node) {
			if (n in done) continue
			c = n; m = 1
			for (v in node) if (v != n && ((n SUBSEP v) in reach) && ((v SUBSEP n) in reach)) { c = c " " v; done[v] = 1; m++ }
			done[n] = 1
			if (m > 1) print c
		}
	}' "$1" | while read -r line; do echo "$line" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//'; echo; done | sort
}

# ---- lib-folders
bad=$(ls lib/*.[ch] 2>/dev/null | tr '\n' ' ')
for d in lib/*/; do
	f=$(basename "$d")
	echo "$LIB_LAYERS" | awk -v f="$f" '$1 == f { found = 1 } END { exit !found }' || bad="$bad$d(no layer) "
done
if [ -z "$bad" ]; then ok "lib-folders"; else not_ok "lib-folders - not in a layer folder: $(echo "$bad" | cut -c1-400)"; fi

# ---- lib-named
bad=$(awk '$3 ~ /^lib\// && $3 !~ /^lib\/win32\/include\// {
	want = $3; sub(/^lib\//, "", want)
	if ($2 != want || want !~ /\//) printf "%s:\"%s\" ", $1, $2 }' "$tmp/incs")
if [ -z "$bad" ]; then ok "lib-named"; else not_ok "lib-named - $(echo "$bad" | cut -c1-400)"; fi

# ---- lib-layers
echo "$LIB_LAYERS" > "$tmp/lib-layers"
bad=$(awk "$layer_awk"'
	NR == FNR { for (i = 2; i <= NF; i++) may[$1 SUBSEP $i]; row[$1]; next }
	$1 ~ /^lib\// && $3 ~ /^lib\// {
		a = layer($1); b = layer($3)
		if (a == b && a != "-") next
		if (!(a in row) || !((a SUBSEP b) in may)) printf "%s->%s\n", $1, $3
	}' "$tmp/lib-layers" "$tmp/incs" | sort -u | tr '\n' ' ')
if [ -z "$bad" ]; then ok "lib-layers"; else not_ok "lib-layers - $(echo "$bad" | cut -c1-400)"; fi

# ---- lib-sink
bad=$(awk "$layer_awk"'$1 ~ /^lib\// && layer($1) != "report" && layer($3) == "report" { printf "%s->%s ", $1, $3 }' \
	"$tmp/incs")
if [ -z "$bad" ]; then ok "lib-sink"; else not_ok "lib-sink - $bad"; fi

# ---- lib-internal
bad=$(grep -vFf "$tmp/testfiles" "$tmp/incs" | awk "$layer_awk"'
	$3 ~ /_internal\.h$/ && $3 ~ /^lib\// && layer($1) != layer($3) { printf "%s->%s ", $1, $3 }
	$1 ~ /^programs\/[^\/]*$/ && $3 ~ /^lib\/(report\/formats|archive\/zipfmt)\.h$/ { printf "%s->%s ", $1, $3 }')
if [ -z "$bad" ]; then ok "lib-internal"; else not_ok "lib-internal - $bad"; fi

# ---- lib-calls: "layer symbol" per definition and "object symbol" per use,
# from nm over the built objects of lib/ (those of one build: $B, or the
# Windows build's objects)
lib_calls() { # build-dir seam-folder nm expected-sources...
	b=$1 seam=$2 nmc=$3; shift 3
	objs="" miss=""
	for f in "$@"; do
		if [ -f "$b/${f%.c}.o" ]; then objs="$objs $b/${f%.c}.o"; else miss="$miss$f "; fi
	done
	[ -n "$miss" ] && { echo "not built: $miss"; return; }
	$nmc -A --defined-only -g $objs | awk -F'[: ]+' -v b="$b/" 'NF >= 4 && $(NF-1) != "U" {
		p = $1; sub(b, "", p); split(p, a, "/"); print a[2], $NF }' > "$tmp/lib-defs"
	$nmc -A -u $objs | awk -F'[: ]+' -v b="$b/" '{ p = $1; sub(b, "", p); print p, $NF }' > "$tmp/lib-uses"
	awk -v seam="$seam" '
		FILENAME ~ /lib-layers$/ { for (i = 2; i <= NF; i++) may[$1 SUBSEP $i]; next }
		FILENAME ~ /lib-defs$/ { def[$2] = $1; next }
		($2 in def) {
			split($1, a, "/"); from = a[2]; to = def[$2]
			if (from == to || (from SUBSEP to) in may || to == seam) next
			o = $1; sub(/\.o$/, ".c", o); printf "%s:%s(%s) ", o, $2, to
		}' "$tmp/lib-layers" "$tmp/lib-defs" "$tmp/lib-uses"
}
linux_src=$(ls lib/*/*.c | grep -vE '^lib/win32/|_win32\.c$|^lib/submit/http_winhttp\.c$')
bad=$(lib_calls "$B" - nm $linux_src)
if [ -z "$bad" ]; then ok "lib-calls ($(wc -l < "$tmp/lib-uses") uses in $(echo $linux_src | wc -w) objects)"
else not_ok "lib-calls - $(echo "$bad" | cut -c1-600)"; fi
W=${LAYERS_WIN_BUILD:-build/win}
if [ -d "$W/lib" ]; then
	win_src=$(ls lib/*/*.c | grep -vE '_linux\.c$|^lib/scan/(tarscan|image)\.c$|^lib/submit/http_curl\.c$')
	winnm=nm; command -v x86_64-w64-mingw32-nm > /dev/null && winnm=x86_64-w64-mingw32-nm
	bad=$(lib_calls "$W" win32 $winnm $win_src)
	if [ -z "$bad" ]; then ok "lib-calls-win ($(wc -l < "$tmp/lib-uses") uses in $(echo $win_src | wc -w) objects)"
	else not_ok "lib-calls-win - $(echo "$bad" | cut -c1-600)"; fi
fi

# ---- lib-names: over the symbols lib_calls read last (the Windows build's
# when built, which holds win32/ and the *_win32.c halves) and the Linux one
lib_names() { # build-dir sources...
	b=$1; shift
	for f in "$@"; do
		o=$b/${f%.c}.o
		[ -f "$o" ] || continue
		stem=$(basename "$f" .c); word=${stem%%_*}
		case "$f" in lib/win32/*) word=l4s_ ;; esac
		old=$(echo "$LIB_NAMES_OLD" | awk -v f="$f" '$1 == f { $1 = ""; print }')
		nm --defined-only -g "$o" 2>/dev/null | awk -v f="$f" -v w="$word" -v old="$old" '
			NF >= 3 { s = $NF; sub(/^_/, "", s)
				if (index(s, w) == 1) next
				n = split(old, a, " "); for (i = 1; i <= n; i++) if (index(s, a[i]) == 1) next
				printf "%s:%s ", f, s }'
	done
}
bad="$(lib_names "$B" $linux_src)"
[ -d "$W/lib" ] && bad="$bad$(lib_names "$W" $(ls lib/*/*.c | grep -E '^lib/win32/|_win32\.c$|^lib/submit/http_winhttp\.c$'))"
if [ -z "$bad" ]; then ok "lib-names ($(echo "$LIB_NAMES_OLD" | grep -c .) files with older names listed)"
else not_ok "lib-names - $(echo "$bad" | cut -c1-600)"; fi

# ---- lib-size
bad=$(wc -l lib/*/*.[ch] | awk '$2 != "total" && $1 > 1000 { printf "%s(%d) ", $2, $1 }')
if [ -z "$bad" ]; then ok "lib-size"; else not_ok "lib-size - $bad"; fi

# ---- lib-platform
bad=$(grep -lE '^[ \t]*#[ \t]*(if|ifdef|ifndef|elif)\b.*_WIN32' lib/*.[ch] lib/*/*.[ch] 2>/dev/null |
	grep -vE '_win32\.[ch]$|^lib/win32/' | while read -r f; do
		case " $WIN32_IFDEF " in *" $f "*) ;; *) printf '%s ' "$f" ;; esac
	done)
if [ -z "$bad" ]; then ok "lib-platform"; else not_ok "lib-platform - _WIN32 tested in $bad"; fi

# ---- no-cycle
scc "$tmp/edges" > "$tmp/cycles"
bad=$(awk "$layer_awk"'{ l = layer($1); for (i = 2; i <= NF; i++) if (layer($i) != l) l = "?"
	if (l == "" || l == "-" || l == "?") printf "{%s} ", $0 }' "$tmp/cycles")
if [ -z "$bad" ]; then ok "no-cycle ($(grep -c . "$tmp/cycles") inside one lib/ folder)"; else not_ok "no-cycle - $bad"; fi

# ---- lib-no-programs
bad=$(awk '$1 ~ /^lib\// && $2 ~ /^programs\// { printf "%s->%s ", $1, $2 }' "$tmp/edges")
if [ -z "$bad" ]; then ok "lib-no-programs"; else not_ok "lib-no-programs - $bad"; fi

# ---- lib-no-cli
bad=$(grep -lE '\b(isatty|getopt_long|getopt)\(|<getopt\.h>|struct option\b' lib/*.[ch] lib/*/*.[ch] 2>/dev/null | tr '\n' ' ')
if [ -z "$bad" ]; then ok "lib-no-cli"; else not_ok "lib-no-cli - terminal or option parsing in $bad"; fi

# ---- scan-opts-key: the field names declared in struct scan_opts against
# the SCAN_OPTS_KEY_FIELD(name, ...) lines of the key's table
awk '/^struct scan_opts \{/ { in_s = 1; next } in_s && /^\};/ { exit }
	in_s { sub(/\/\*.*$/, ""); if ($0 !~ /;/) next
	       sub(/;.*$/, ""); n = split($0, a, /[ \t*,]+/); print a[n] }' lib/scan/scan.h | sort > "$tmp/opts-struct"
grep -oE '^[[:space:]]*SCAN_OPTS_KEY_FIELD\([a-z_0-9]+' lib/scan/scan_opts.c | sed 's/.*(//' | sort > "$tmp/opts-key"
bad=$(comm -23 "$tmp/opts-struct" "$tmp/opts-key" | sed 's/$/(not in the key) /' | tr -d '\n')
bad="$bad$(comm -13 "$tmp/opts-struct" "$tmp/opts-key" | sed 's/$/(not in the struct) /' | tr -d '\n')"
if [ ! -s "$tmp/opts-struct" ]; then not_ok "scan-opts-key - no struct scan_opts found in lib/scan/scan.h"
elif [ -z "$bad" ]; then ok "scan-opts-key ($(grep -c . "$tmp/opts-struct") fields)"
else not_ok "scan-opts-key - $bad"; fi

# ---- server-util
bad=$(awk -v util=" $SERVER_HEADERS " '$1 ~ /^programs\/server\// && $2 ~ /^lib\// && index(util, " " $2 " ") == 0 {
	printf "%s->%s ", $1, $2 }' "$tmp/edges")
if [ -z "$bad" ]; then ok "server-util"; else not_ok "server-util - $bad"; fi

# ---- server-layers
echo "$SERVER_LAYERS" | awk '{ for (i = 1; i <= NF; i++) print "programs/server/" $i, NR }' > "$tmp/rows"
bad=$( (grep '^programs/server/' "$tmp/files" | sed 's/\.[ch]$//; s/_internal$//; s/$/ ?/'; cat "$tmp/rows") |
	awk 'FILENAME == "-" { if ($2 == "?") file[$1]; else row[$1] = $2; next }
	     { if (!($1 in row) || !($2 in row)) next
	       if (row[$2] > row[$1]) printf "%s->%s ", $1, $2 }
	     END { for (f in file) if (!(f in row)) printf "%s(in no row) ", f }' - "$tmp/edges")
if [ -z "$bad" ]; then ok "server-layers"; else not_ok "server-layers - $bad"; fi

# ---- server-boundary
bad=$(awk '$1 == "programs/server/report_parse" && $2 ~ /^programs\// { printf "%s ", $2 }' "$tmp/edges")
sys=$(grep -lE '#[ \t]*include[ \t]*<(microhttpd|sqlite3|postgresql/libpq-fe)\.h>' programs/server/report_parse.[ch] 2>/dev/null |
	tr '\n' ' ')
[ -n "$sys" ] && bad="${bad}HTTP or database headers (in $sys)"
if [ -z "$bad" ]; then ok "server-boundary"; else not_ok "server-boundary - report_parse includes $bad"; fi

# ---- symbols of the collector's objects (one nm for all): "module symbol"
# in defs (defined, global) and uses (undefined)
: > "$tmp/defs"; : > "$tmp/uses"; objs=""; missing=""
for f in programs/server/*.c; do
	o=$B/programs/server/$(basename "$f" .c).o
	if [ -f "$o" ]; then objs="$objs $o"; else missing="$missing$(basename "$o") "; fi
done
if [ -n "$objs" ]; then
	nm -A --defined-only -g $objs | awk -F'[: ]+' 'NF >= 4 { m = $1; sub(/.*\//, "", m); sub(/\.o$/, "", m); print m, $NF }' > "$tmp/defs"
	nm -A -u $objs | awk -F'[: ]+' '{ m = $1; sub(/.*\//, "", m); sub(/\.o$/, "", m); print m, $NF }' > "$tmp/uses"
fi
not_built() { [ -z "$missing" ] || { not_ok "$1 - not built: $missing"; return 0; }; return 1; }

# ---- server-handlers
bad=$(grep -l 'microhttpd\.h' programs/server/api_*.c programs/server/qb.c programs/server/dashboard.c 2>/dev/null |
	tr '\n' ' ')
bad="$bad$(awk '$1 ~ /^(api_|qb$|dashboard$)/ && $2 ~ /^(dbc_|db_acquire|db_release|db_open)/ { printf "%s:%s ", $1, $2 }' "$tmp/uses")"
if not_built server-handlers; then :
elif [ -z "$bad" ]; then ok "server-handlers"; else not_ok "server-handlers - $bad"; fi

# ---- server-drivers
bad=$(grep -lE '^[ \t]*#[ \t]*include[ \t]*"db_internal\.h"' programs/server/*.[ch] |
	grep -vxE 'programs/server/db(_sqlite|_pg)?\.c' | tr '\n' ' ')
bad="$bad$(awk '$1 !~ /^db(_sqlite|_pg)?$/ && $2 ~ /^db_(sqlite|pg)_driver$/ { printf "%s:%s ", $1, $2 }' "$tmp/uses")"
if not_built server-drivers; then :
elif [ -z "$bad" ]; then ok "server-drivers"; else not_ok "server-drivers - $bad"; fi

# ---- server-calls: module A calls module B when A uses a symbol B defines
awk 'NR == FNR { def[$2] = $1; next } ($2 in def) && def[$2] != $1 { print $1, def[$2] }' \
	"$tmp/defs" "$tmp/uses" | sort -u > "$tmp/calls"
scc "$tmp/calls" > "$tmp/callcycles"
if not_built server-calls; then :
elif [ -s "$tmp/callcycles" ]; then not_ok "server-calls - $(sed 's/.*/{&}/' "$tmp/callcycles" | tr '\n' ' ')"
else ok "server-calls"; fi

# ---- server-names: the first word of the file's name (server_main: main)
bad=$(awk '{ r = $1; sub(/_.*/, "", r); if ($1 == "server_main") r = "main"
	     if (index($2, r) != 1) printf "%s.c:%s ", $1, $2 }' "$tmp/defs")
if not_built server-names; then :
elif [ -z "$bad" ]; then ok "server-names"; else not_ok "server-names - $bad"; fi

# ---- server-size
bad=$(wc -l programs/*.[ch] programs/server/*.[ch] | awk '$2 != "total" && $1 > 1000 { printf "%s(%d) ", $2, $1 }')
if [ -z "$bad" ]; then ok "programs-size"; else not_ok "programs-size - $bad"; fi

# ---- server-links
S=$B/log4scan-server
if [ ! -x "$S" ]; then
	not_ok "server-links - $S not built"
else
	nm "$S" | awk '$2 ~ /^[TDBR]$/ { print $3 }' | sort -u > "$tmp/server-syms"
	libobjs=$(for f in lib/*.c lib/*/*.c; do
		m=${f%.c}
		case " $SERVER_UTIL $SERVER_VERDICT " in *" $m "*) continue ;; esac
		[ -f "$B/$m.o" ] && echo "$B/$m.o"
	done)
	nm -A --defined-only -g $libobjs | awk -F'[: ]+' 'NF >= 4 { print $NF, $1 }' | sort -u > "$tmp/lib-syms"
	bad=$(awk 'NR == FNR { s[$1]; next } ($1 in s) { printf "%s(%s) ", $1, $2 }' "$tmp/server-syms" "$tmp/lib-syms")
	bad="$bad$(nm "$S" | awk '{ print $NF }' | grep -E '^(l4s_submit|l4s_http_|submit_|http_client|archive_read_|sandbox_install|libdeflate_)' |
		sort -u | head -5 | tr '\n' ' ')"
	if [ -z "$bad" ]; then ok "server-links"; else not_ok "server-links - $(echo "$bad" | cut -c1-400)"; fi
fi
