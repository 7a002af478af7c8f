#!/bin/sh
# install-deps.sh - install the Debian packages that building and testing
# log4scan need, if any are missing.  Used by `make scan`, `make deps` and CI.
# (liblog4j2-java is test data: Debian's log4j-1.2-api 2.19.0 build, the
# bridge that ships helpers/OptionConverter, in /usr/share/java.)
set -e
PKGS="build-essential clang libclang-rt-14-dev pkg-config
 zlib1g-dev libdeflate-dev nettle-dev libseccomp-dev libcurl4-openssl-dev
 libjansson-dev libmicrohttpd-dev libsqlite3-dev libpq-dev libarchive-dev libargon2-dev
 python3 zip unzip strace openjdk-17-jdk-headless postgresql sqlite3 procps iproute2
 pandoc libzstd-dev liblz4-dev time zstd xz-utils bzip2 chromium
 mingw-w64 wine64 wine libz-mingw-w64-dev
 liblog4j2-java"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "installing:$missing"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
# node and npm drive the browser and schema tests; this image ships Node.js
# 20 from elsewhere, whose npm would conflict with Debian's npm package.
command -v npm >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends nodejs npm
