#!/bin/sh
# pg-cluster.sh - a throwaway PostgreSQL cluster for tests and benchmarks.
#
#   sh scripts/pg-cluster.sh start DIR   initdb in DIR/data, start it on
#                                        127.0.0.1 (a free port, no other
#                                        address, unix socket inside DIR),
#                                        create database "log4scan" and print
#                                        its URL on stdout; a DIR that has a
#                                        cluster already is started again
#                                        (same data, a new free port)
#   sh scripts/pg-cluster.sh stop DIR    stop it (DIR is left for the caller)
#
# initdb refuses to run as root, so as root the cluster belongs to the
# `postgres` OS user (created by the Debian package).  Authentication is
# "trust" because nothing but loopback can reach it and it dies with the
# test.  Extra server settings can be given in PG_OPTS, e.g.
# PG_OPTS="-c fsync=off" for speed when durability is not what is measured.
set -eu
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$PGBIN/initdb" ] || { echo "pg-cluster: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 2; }
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: pg-cluster.sh start|stop DIR" >&2; exit 2; }

as_pg() { # run a command as the cluster owner
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case "$cmd" in
start)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$dir"
		# the postgres user must be able to reach DIR
		p=$dir
		while [ "$p" != / ]; do
			p=$(dirname "$p")
			[ -x "$p" ] || chmod o+x "$p"
		done
	fi
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	fresh=1
	[ -f "$dir/data/PG_VERSION" ] && fresh=0
	if [ "$fresh" = 1 ]; then
		as_pg "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync \
			>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
	fi
	as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 ${PG_OPTS:-}" start >/dev/null ||
		{ cat "$dir/server.log" >&2; exit 1; }
	[ "$fresh" = 0 ] || as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres log4scan
	echo "$port" > "$dir/port"
	echo "postgresql://postgres@127.0.0.1:$port/log4scan"
	;;
stop)
	[ -d "$dir/data" ] || exit 0
	as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	;;
*)
	echo "usage: pg-cluster.sh start|stop DIR" >&2
	exit 2
	;;
esac
