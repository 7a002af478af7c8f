#!/usr/bin/env python3
"""hash-bench.py - issue 17's figures: log4scan builds side by side with the
central-directory floor, in one run (printed figures, not a test).

    python3 bench/hash-bench.py TREE [NAME=LOG4SCAN ...]

  default builds: new=build/log4scan; pass e.g. main=/tmp/main/build/log4scan
  first to compare (this host's speed drifts by 30-50% between hours, so
  builds are compared only within one run: each round runs every command
  once, in turn, and each figure is the median over RUNS rounds).
  RUNS=N rounds (default 5); SPARSE=0 skips the 8 GiB sparse file.

Per build: --threads 1 CPU and its ratio to bench/cdfloor's CPU (target
<= 1.3), the same with --sha256=none (--no-sha256), bytes asked of read
(rchar) against the floor's cd_bytes (target <= 1.5), default threads wall
against the floor's wall (target <= 0.7), peak RSS (target <= 24 MB), the
cached re-scan against `find -type f` (target <= 1.5), and an 8 GiB sparse
file (1 MB on disk) with a vulnerable jar at its end (target < 1 s).
Needs bench/out/bin/measure and cdfloor (bench/run.sh builds them)."""
import os
import re
import statistics
import subprocess
import sys
import tempfile

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(top, "bench/out/bin")
RUNS = int(os.environ.get("RUNS", "5"))
tree = sys.argv[1]
builds = [a.split("=", 1) for a in sys.argv[2:]] or [["new", os.path.join(top, "build/log4scan")]]
corpus = os.environ.get("CORPUS", os.path.join(top, "../shared/corpus"))


def measure(cmd, out=os.devnull):
    p = subprocess.run([os.path.join(BIN, "measure"), "-o", out] + cmd, stderr=subprocess.PIPE, text=True)
    m = re.search(r"^MEASURE (.*)$", p.stderr, re.M)
    if not m:
        sys.exit("hash-bench: measure failed for %s:\n%s" % (cmd, p.stderr[-2000:]))
    return {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}


fl = subprocess.run([os.path.join(BIN, "cdfloor"), tree], capture_output=True, text=True, check=True).stdout.split()
T = {fl[i]: int(fl[i + 1]) for i in range(0, len(fl), 2)}
print("tree %s: %d files, %.2f GB, %d archives, cd_bytes %.1f MB; load average %s" % (
    tree, T["files"], T["bytes"] / 1e9, T["archives"], T["cd_bytes"] / 1e6, open("/proc/loadavg").read().split()[0]))
subprocess.run("find '%s' -type f -print0 | xargs -0 cat > /dev/null" % tree, shell=True)
tmp = tempfile.mkdtemp(prefix="l4s-hashbench-")
ncpu = os.cpu_count() or 1


def nosha(exe):
    h = subprocess.run([exe, "scan", "--help"], capture_output=True, text=True).stdout
    return ["--sha256=none"] if "--sha256=" in h else ["--no-sha256"]


cmds = {"floor": [os.path.join(BIN, "cdfloor"), tree], "find": ["find", tree, "-type", "f"]}
for name, exe in builds:
    base = [exe, "scan", "--no-config", "--format", "json"]
    cmds[name + " t1"] = base + ["--threads", "1", tree]
    cmds[name + " t1 nosha"] = base + ["--threads", "1"] + nosha(exe) + [tree]
    cmds[name + " td"] = base + ["--threads", str(ncpu), tree]
    cache = os.path.join(tmp, name + ".cache")
    measure(base + ["--cache=" + cache, tree])   # the first scan fills it
    cmds[name + " cached"] = base + ["--cache=" + cache, tree]
res = {k: [] for k in cmds}
for _ in range(RUNS):
    for k, c in cmds.items():
        res[k].append(measure(c))
med = {k: {f: statistics.median(r[f] for r in v) for f in v[0]} for k, v in res.items()}

fl = med["floor"]
print("\n%-28s %8s %8s %8s %9s" % ("", "wall s", "cpu s", "RSS MB", "read MB"))
for k in cmds:
    m = med[k]
    print("%-28s %8.3f %8.3f %8.1f %9.1f" % (k, m["wall"], m["cpu"], m["maxrss_kb"] / 1024, m["rchar"] / 1e6))

sparse = None
if os.environ.get("SPARSE", "1") != "0":
    jar = os.path.join(corpus, "log4j-samples/true-hits/log4j-core-2.14.1.jar")
    sparse = os.path.join(tmp, "sparse.jar")
    with open(sparse, "wb") as f:
        f.truncate(8 << 30)
        f.seek(8 << 30)
        f.write(open(jar, "rb").read())

print("\nagainst issue 17's targets (median of %d rounds):" % RUNS)
for name, exe in builds:
    t1, td, ns, ca = (med[name + s] for s in (" t1", " td", " t1 nosha", " cached"))
    sp = measure([exe, "scan", "--no-config", "--format", "json", sparse]) if sparse else None
    print("  %s (%s)" % (name, exe))
    rows = [("--threads 1 CPU / cdfloor CPU", t1["cpu"] / fl["cpu"], 1.3, ""),
            ("  the same, hashing nothing", ns["cpu"] / fl["cpu"], 1.3, ""),
            ("bytes read / cd_bytes", t1["rchar"] / T["cd_bytes"], 1.5, ""),
            ("  the same, hashing nothing", ns["rchar"] / T["cd_bytes"], 1.5, ""),
            ("default threads wall / cdfloor wall", td["wall"] / fl["wall"], 0.7, ""),
            ("peak RSS, MB (default threads)", td["maxrss_kb"] / 1024, 24.0, ""),
            ("cached re-scan wall / find -type f", ca["wall"] / med["find"]["wall"], 1.5, "")]
    if sp:
        rows.append(("8 GiB sparse file with a jar at its end, s", sp["wall"], 1.0, ""))
    for label, v, lim, _ in rows:
        print("    %-44s %8.3f   target <= %-5g %s" % (label, v, lim, "met" if v <= lim else "NOT MET"))
for f in os.listdir(tmp):
    os.unlink(os.path.join(tmp, f))
os.rmdir(tmp)
