#!/usr/bin/env python3
"""subtree-bench.py - where the CPU and the bytes go, per subtree of the
bench tree: bench/cdfloor against log4scan builds, side by side in one run
(printed figures, not a test; the per-subtree table of the README's
"Benchmarks", issue 17).

    python3 bench/subtree-bench.py TREE [NAME=LOG4SCAN ...]

  default build: new=build/log4scan.  Each round runs every command once,
  in turn; each figure is the median over RUNS rounds (default 3).  Per
  subtree of TREE (debian/, srv/, corpus/, home/ + var/) and per build:
  --threads 1 CPU and bytes read (rchar), hashing nothing (--sha256=none)
  and with the default policy, beside the floor's CPU, bytes read and
  cd_bytes.  Needs bench/out/bin/measure and cdfloor (bench/run.sh builds
  them)."""
import os
import re
import statistics
import subprocess
import sys

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(top, "bench/out/bin")
RUNS = int(os.environ.get("RUNS", "3"))
tree = sys.argv[1]
builds = [a.split("=", 1) for a in sys.argv[2:]] or [["new", os.path.join(top, "build/log4scan")]]
parts = [["debian"], ["srv"], ["corpus"], ["home", "var"]]
parts = [[os.path.join(tree, d) for d in p] for p in parts if all(os.path.isdir(os.path.join(tree, d)) for d in p)]


def measure(cmd):
    p = subprocess.run([os.path.join(BIN, "measure"), "-o", os.devnull] + cmd, stderr=subprocess.PIPE, text=True)
    m = re.search(r"^MEASURE (.*)$", p.stderr, re.M)
    if not m:
        sys.exit("subtree-bench: measure failed for %s:\n%s" % (cmd, p.stderr[-2000:]))
    return {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}


print("load average %s; median of %d rounds; CPU s, MB read (rchar)" % (open("/proc/loadavg").read().split()[0], RUNS))
hdr = "%-12s %24s %9s" % ("subtree", "files/archives/cd MB", "floor")
for name, _ in builds:
    hdr += " | %-28s" % (name + ": none / default")
print(hdr)
for part in parts:
    fl = subprocess.run([os.path.join(BIN, "cdfloor")] + part, capture_output=True, text=True, check=True).stdout.split()
    T = {fl[i]: int(fl[i + 1]) for i in range(0, len(fl), 2)}
    cmds = {"floor": [os.path.join(BIN, "cdfloor")] + part}
    for name, exe in builds:
        base = [exe, "scan", "--no-config", "--format", "json", "--threads", "1"]
        cmds[name + " none"] = base + ["--sha256=none"] + part
        cmds[name + " default"] = base + part
    res = {k: [] for k in cmds}
    for _ in range(RUNS):
        for k, c in cmds.items():
            res[k].append(measure(c))
    med = {k: {f: statistics.median(r[f] for r in v) for f in v[0]} for k, v in res.items()}
    label = "+".join(os.path.basename(p) for p in part)
    line = "%-12s %24s %4.3f %4.0f" % (label, "%d/%d/%.1f" % (T["files"], T["archives"], T["cd_bytes"] / 1e6),
                                     med["floor"]["cpu"], med["floor"]["rchar"] / 1e6)
    for name, _ in builds:
        a, b = med[name + " none"], med[name + " default"]
        line += " | %5.3f / %5.3f  %4.0f / %4.0f MB" % (a["cpu"], b["cpu"], a["rchar"] / 1e6, b["rchar"] / 1e6)
    print(line)
