#!/usr/bin/env python3
"""wine-l4s.py - run build/win/log4scan.exe under Wine as if it were the
Linux agent, so that the Linux end-to-end tests (t_corpus, t_generated,
t_logs) can be pointed at the Windows build unchanged (L4S=this script).

Arguments that are absolute Linux paths become Windows paths on Wine's Z:
drive (Z:\\ is /); paths in the output are mapped back: in JSON records the
path fields (the part before the first "!/" is the file system path, the
rest are archive entry names and stay as they are), in text output every
Z:\\... path.  Nothing else is changed, so any other difference (a finding,
a version, a status, an exit code) shows in the Linux test's checks.
Environment: L4S_WIN_EXE (default build/win/log4scan.exe next to this
tree), WINEPREFIX (set by t_windows.py), WINEDEBUG=-all."""
import base64
import json
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXE = os.environ.get("L4S_WIN_EXE", os.path.join(TOP, "build/win/log4scan.exe"))


def to_win(a):
    if a.startswith("/") and len(a) > 1:
        return "Z:" + a.replace("/", "\\")
    for opt in ("--output=", "--backup-dir=", "--rules=", "--exclude="):
        if a.startswith(opt) and a[len(opt):].startswith("/"):
            return opt + to_win(a[len(opt):])
    return a


def fs_back(p):
    """Z:\\a\\b.jar!/x/y.jar -> /a/b.jar!/x/y.jar"""
    if not isinstance(p, str):
        return p
    m = re.match(r"^[Zz]:(\\[^!]*|)((?:!/.*)?)$", p, re.S)
    if not m:
        i = p.find("!/")
        top, rest = (p, "") if i < 0 else (p[:i], p[i:])
        if re.match(r"^[A-Ya-y]:\\", top):
            return top.replace("\\", "/") + rest
        return p
    return (m.group(1).replace("\\", "/") or "/") + m.group(2)


def back(o):
    if isinstance(o, dict):
        return {k: back_field(k, v) for k, v in o.items()}
    if isinstance(o, list):
        return [back(x) for x in o]
    return o


def back_field(k, v):
    if k == "path_b64" and isinstance(v, str):
        raw = base64.b64decode(v).decode("utf-8", "surrogateescape")
        return base64.b64encode(fs_back(raw).encode("utf-8", "surrogateescape")).decode()
    if k in ("path", "backup", "dir", "file") and isinstance(v, str):
        return fs_back(v)
    if k in ("jars", "removed", "skipped_paths") and isinstance(v, list):
        return [fs_back(x) if isinstance(x, str) else back(x) for x in v]
    return back(v)


TEXT_PATH = re.compile(r"[Zz]:\\[^\s:]*")


def main():
    args = [to_win(a) for a in sys.argv[1:]]
    env = dict(os.environ)
    env.setdefault("WINEDEBUG", "-all")
    env.setdefault("WINEDLLOVERRIDES", "mscoree,mshtml=")
    p = subprocess.run(["wine", EXE] + args, stdin=sys.stdin.buffer if not sys.stdin.isatty() else None,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out = []
    for line in p.stdout.split(b"\n"):
        s = line.decode("utf-8", "surrogateescape")
        try:
            o = json.loads(s)
            if isinstance(o, dict):
                s = json.dumps(back(o), ensure_ascii=False, separators=(",", ":"))
        except ValueError:
            s = TEXT_PATH.sub(lambda m: fs_back(m.group(0)), s)
        out.append(s.encode("utf-8", "surrogateescape"))
    sys.stdout.buffer.write(b"\n".join(out))
    err = TEXT_PATH.sub(lambda m: fs_back(m.group(0)), p.stderr.decode("utf-8", "surrogateescape"))
    sys.stderr.buffer.write(err.encode("utf-8", "surrogateescape"))
    sys.exit(p.returncode)


main()
