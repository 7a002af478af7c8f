#!/bin/sh
# t_layers.sh - the code's layers, checked: which file may include which
# (#include "..." lines, a .c/.h pair counted as one module) and, where it is
# cheap, which object may call or carry what (nm of the optimised build).
# One ok / not ok line per rule; a failure lists the offending edges.
#
# Rules (README "Layout"):
#   no-cycle         no include cycle among modules, but the lib/ cycles
#                    listed in KNOWN_CYCLES below (each inside one layer)
#   lib-no-programs  no lib/ file includes a programs/ header
#   lib-no-cli       lib/ has no command-line concern: no terminal, no
#                    option parsing (they live in programs/cli_*.c)
#   server-util      programs/server/ includes from lib/ the util headers only
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
#   server-links     log4scan-server carries no lib/ object but util's, and
#                    no agent library (upload client, scanner, libarchive...)
. "$TOP/tests/lib.sh"
cd "$TOP" || exit 2
B=${LAYERS_BUILD:-build}
tmp=$OUT/layers
mkdir -p "$tmp"

# lib/ cycles that exist today (one per line, members sorted by name).  An
# include cycle passes only if its members all belong to one line here.
# Remove a line when its cycle is gone.  Each is inside one layer (the
# eight-module cycle across layers was cut by detect.h's finding_copy --
# image, tarscan and proc no longer include report.h --, coverage.h --
# report.h no longer includes walk.h -- and the top-level tar wrappers
# moving from tarscan.c to image.c):
#   1. detect.c -> claims.h -> detect.h: claims.c, the detector's metadata
#      half, is declared over detect.h's types and called by detect.c
#   2. report <-> formats: the format table and the formats it lists
#   3. the scan engine: scan -> image (tar before zip), image -> tarscan,
#      tarscan -> scan (zip members of a tar)
#   4. walk <-> walk_queue: the listing and its queue
KNOWN_CYCLES='lib/claims lib/detect
lib/formats lib/report
lib/image lib/scan lib/tarscan
lib/walk lib/walk_queue'

# The collector's layers, lowest first: a file may include headers of its
# own row or of rows above it.  A new file belongs in a row.
SERVER_LAYERS='report_parse auth sqlite_pcache
db db_sqlite db_pg
store store_schema store_ingest store_merge ingest ingest_plan ingest_tx
server
http_req
qb api api_query api_list api_fleet api_ingest dashboard http_limit
http_route
http
server_main'
SERVER_UTIL='lib/buf lib/jsonw lib/uuid'

# ---- the include graph: "from-module to-module" per #include "..." line.
# A module is a file without its extension, and without "_internal": a
# .c/.h pair is one module, and X_internal.h is the private half of X's
# header.  An include is looked up beside the file, then in lib/ (-Ilib);
# one found in neither is a system stand-in (lib/win32/include) and left out.
ls lib/*.[ch] lib/win32/*.[ch] programs/*.[ch] programs/server/*.[ch] 2>/dev/null > "$tmp/files"
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
	function module(p) { sub(/\.[ch]$/, "", p); sub(/_internal$/, "", p); return p }
	FNR == 1 { dir = FILENAME; sub(/\/[^\/]*$/, "", dir) }
	/^[ \t]*#[ \t]*include[ \t]*"/ {
		inc = $0; sub(/^[^"]*"/, "", inc); sub(/".*$/, "", inc)
		t = norm(dir "/" inc)
		if (!exists(t)) { t = norm("lib/" inc); if (!exists(t)) next }
		from = module(FILENAME); to = module(t)
		if (from != to) print from, to
	}' $(cat "$tmp/files") | sort -u > "$tmp/edges"

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

# ---- no-cycle
scc "$tmp/edges" > "$tmp/cycles"
bad=$(while read -r c; do
	[ -n "$c" ] || continue
	known=no
	while read -r k; do
		[ -n "$k" ] || continue
		inall=yes
		for m in $c; do case " $k " in *" $m "*) ;; *) inall=no ;; esac; done
		[ $inall = yes ] && known=yes
	done <<EOF
$KNOWN_CYCLES
EOF
	[ $known = no ] && printf '{%s} ' "$c"
done < "$tmp/cycles")
if [ -z "$bad" ]; then ok "no-cycle ($(grep -c . "$tmp/cycles") known lib/ cycle(s) left)"; else not_ok "no-cycle - $bad"; fi

# ---- lib-no-programs
bad=$(awk '$1 ~ /^lib\// && $2 ~ /^programs\// { printf "%s->%s ", $1, $2 }' "$tmp/edges")
if [ -z "$bad" ]; then ok "lib-no-programs"; else not_ok "lib-no-programs - $bad"; fi

# ---- lib-no-cli
bad=$(grep -lE '\b(isatty|getopt_long|getopt)\(|<getopt\.h>|struct option\b' lib/*.[ch] 2>/dev/null | tr '\n' ' ')
if [ -z "$bad" ]; then ok "lib-no-cli"; else not_ok "lib-no-cli - terminal or option parsing in $bad"; fi

# ---- server-util
bad=$(awk -v util=" $SERVER_UTIL " '$1 ~ /^programs\/server\// && $2 ~ /^lib\// && index(util, " " $2 " ") == 0 {
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
	libobjs=$(for f in lib/*.c; do
		m=${f%.c}
		case " $SERVER_UTIL " in *" $m "*) continue ;; esac
		[ -f "$B/$m.o" ] && echo "$B/$m.o"
	done)
	nm -A --defined-only -g $libobjs | awk -F'[: ]+' 'NF >= 4 { print $NF, $1 }' | sort -u > "$tmp/lib-syms"
	bad=$(awk 'NR == FNR { s[$1]; next } ($1 in s) { printf "%s(%s) ", $1, $2 }' "$tmp/server-syms" "$tmp/lib-syms")
	bad="$bad$(nm "$S" | awk '{ print $NF }' | grep -E '^(l4s_submit|l4s_http_|archive_read_|seccomp_|libdeflate_|curl_)' |
		sort -u | head -5 | tr '\n' ' ')"
	if [ -z "$bad" ]; then ok "server-links"; else not_ok "server-links - $(echo "$bad" | cut -c1-400)"; fi
fi
