#!/bin/sh
# mkdeb.sh - build the Debian packages log4scan (agent) and log4scan-server
# (collector) from a finished build, with dpkg-deb (no debhelper needed).
#
#   sh scripts/mkdeb.sh BUILD OUTDIR
#
# BUILD holds log4scan, log4scan-server and man/ (make all man); the .deb
# files are written to OUTDIR.  Each package is staged in a fresh directory:
# stripped binaries, gzipped manual pages and changelog, the systemd units
# from dist/systemd with their paths filled in, the example configuration
# (the agent's /etc/log4scan/agent.conf is a conffile, mode 0600: it may
# hold a token), bash completion, copyright, the maintainer scripts from
# dist/debian (they create the state directory and enable nothing), and
# md5sums; Depends comes from dpkg-shlibdeps over the binaries.  The
# maintainer scripts honour $DPKG_ROOT, so the packages install into a
# throwaway root (dpkg --root=R --force-script-chrootless) as well as on a
# host.
set -eu
build=$1
out=$2
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(cat "$top/VERSION")-1
arch=$(dpkg --print-architecture)
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Depends: of these binaries, as dpkg-shlibdeps says (it wants a
# debian/control beside it)
depends() {
	mkdir -p "$work/shlibs/debian"
	printf 'Source: log4scan\n\nPackage: log4scan\nArchitecture: any\n' > "$work/shlibs/debian/control"
	(cd "$work/shlibs" && dpkg-shlibdeps -O "$@" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
}

units() { # DEST unit...
	dest=$1
	shift
	install -d "$dest/lib/systemd/system"
	for u in "$@"; do
		sed -e 's|@BINDIR@|/usr/bin|g' -e 's|@SBINDIR@|/usr/sbin|g' -e 's|@SYSCONFDIR@|/etc|g' \
			"$top/dist/systemd/$u" > "$dest/lib/systemd/system/$u"
		chmod 644 "$dest/lib/systemd/system/$u"
	done
}

doc() { # DEST PACKAGE
	install -d "$1/usr/share/doc/$2"
	install -m 644 "$top/dist/debian/copyright" "$1/usr/share/doc/$2/copyright"
	sed "s/@VERSION@/$(cat "$top/VERSION")/" "$top/dist/debian/changelog" | gzip -9n > "$1/usr/share/doc/$2/changelog.Debian.gz"
	chmod 644 "$1/usr/share/doc/$2/changelog.Debian.gz"
}

man() { # DEST SECTION PAGE
	install -d "$1/usr/share/man/man$2"
	gzip -9n < "$build/man/$3.$2" > "$1/usr/share/man/man$2/$3.$2.gz"
	chmod 644 "$1/usr/share/man/man$2/$3.$2.gz"
}

finish() { # DEST PACKAGE BINARY
	dest=$1 pkg=$2 bin=$3
	install -d -m 755 "$dest/DEBIAN"
	for s in postinst postrm; do
		install -m 755 "$top/dist/debian/$s.$pkg" "$dest/DEBIAN/$s"
	done
	[ -d "$dest/etc" ] && (cd "$dest" && find etc -type f | sed 's|^|/|' | sort) > "$dest/DEBIAN/conffiles"
	[ -s "$dest/DEBIAN/conffiles" ] || rm -f "$dest/DEBIAN/conffiles"
	size=$(du -sk --exclude=DEBIAN "$dest" | cut -f1)
	sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
		-e "s/@DEPENDS@/$(depends "$bin")/" "$top/dist/debian/control.$pkg" > "$dest/DEBIAN/control"
	(cd "$dest" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort | xargs md5sum) \
		> "$dest/DEBIAN/md5sums"
	chmod 644 "$dest/DEBIAN/control" "$dest/DEBIAN/md5sums"
	[ -f "$dest/DEBIAN/conffiles" ] && chmod 644 "$dest/DEBIAN/conffiles"
	dpkg-deb --root-owner-group -Zxz --build "$dest" "$out/${pkg}_${version}_${arch}.deb" >/dev/null
	echo "$out/${pkg}_${version}_${arch}.deb"
}

# ---- log4scan: the agent
a=$work/log4scan
install -d "$a/usr/bin"
install -m 755 "$build/log4scan" "$a/usr/bin/log4scan"
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$a/usr/bin/log4scan"
man "$a" 1 log4scan
units "$a" log4scan.service log4scan.timer log4scan-logs.service log4scan-logs.timer
install -d "$a/usr/share/bash-completion/completions"
install -m 644 "$top/dist/bash-completion/log4scan" "$a/usr/share/bash-completion/completions/log4scan"
doc "$a" log4scan
install -m 644 "$top/dist/agent.conf.example" "$a/usr/share/doc/log4scan/agent.conf.example"
install -d "$a/etc/log4scan"
install -m 600 "$top/dist/agent.conf.example" "$a/etc/log4scan/agent.conf"
install -d "$a/usr/share/lintian/overrides"
cat > "$a/usr/share/lintian/overrides/log4scan" <<'EOF'
# agent.conf may hold the collector token (token = ...): readable by root only
log4scan: non-standard-file-perm 0600 != 0644 [etc/log4scan/agent.conf]
EOF
chmod 644 "$a/usr/share/lintian/overrides/log4scan"
finish "$a" log4scan "$a/usr/bin/log4scan"

# ---- log4scan-server: the collector
s=$work/log4scan-server
install -d "$s/usr/sbin"
install -m 755 "$build/log4scan-server" "$s/usr/sbin/log4scan-server"
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$s/usr/sbin/log4scan-server"
man "$s" 8 log4scan-server
units "$s" log4scan-server.service
install -d "$s/usr/share/bash-completion/completions"
install -m 644 "$top/dist/bash-completion/log4scan" "$s/usr/share/bash-completion/completions/log4scan-server"
doc "$s" log4scan-server
finish "$s" log4scan-server "$s/usr/sbin/log4scan-server"
