#!/bin/sh
# install-deps.sh - install the Debian packages that building and testing
# log4scan need, if any are missing.
#
#   sh scripts/install-deps.sh agent   what building the agent needs (make scan)
#   sh scripts/install-deps.sh         everything: collector, tests, Windows
#                                      cross-build, packaging (make deps,
#                                      make check, CI)
# (liblog4j2-java is test data: Debian's log4j-1.2-api 2.19.0 build, the
# bridge that ships helpers/OptionConverter, in /usr/share/java.)
set -e
# the agent: compiler, and the headers and static archives it links
AGENT_PKGS="build-essential pkg-config zlib1g-dev libdeflate-dev libisal-dev nettle-dev libseccomp-dev
 libcurl4-openssl-dev libjansson-dev libarchive-dev libzstd-dev liblz4-dev"
# the collector, the tests, the Windows build and the packages
ALL_PKGS="$AGENT_PKGS clang libclang-rt-14-dev
 libmicrohttpd-dev libsqlite3-dev libpq-dev libargon2-dev publicsuffix
 python3 python3-jsonschema zip unzip strace openjdk-17-jdk-headless postgresql sqlite3 procps iproute2
 pandoc time zstd xz-utils bzip2 chromium
 mingw-w64 wine64 wine libz-mingw-w64-dev
 liblog4j2-java
 dpkg-dev fakeroot lintian msitools wixl systemd-container debootstrap"
case "${1:-all}" in
agent) PKGS=$AGENT_PKGS ;;
all) PKGS=$ALL_PKGS ;;
*) echo "usage: install-deps.sh [agent|all]" >&2; exit 2 ;;
esac
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	echo "installing:$missing"
	$SUDO apt-get update
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
fi
[ "${1:-all}" = agent ] && exit 0
# node and npm drive the browser and schema tests; this image ships Node.js
# 20 from elsewhere, whose npm would conflict with Debian's npm package.
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
command -v npm >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends nodejs npm
