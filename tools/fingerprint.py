#!/usr/bin/env python3
"""fingerprint.py JAR... - print `hash` lines for rules/log4j.rules.

For each log4j-core jar given (its version read from its own
META-INF/maven/.../log4j-core/pom.properties, never from the file name), hash
the class files that identify a release and group identical class files
across releases.  Run it over genuine Apache release jars only; the output is
reviewed and pasted into the rules file (a developer tool, not part of the
product).
"""
import hashlib
import re
import sys
import zipfile

CLASSES = ["lookup/JndiLookup", "net/JndiManager", "lookup/Interpolator",
           "pattern/MessagePatternConverter"]
PREFIX = "org/apache/logging/log4j/core/"


def version_key(v):
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?(?:-(alpha|beta|rc)(\d+))?", v)
    stage = {"alpha": 1, "beta": 2, "rc": 3, None: 5}[m.group(4)]
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), stage, int(m.group(5) or 0))


def main(paths):
    seen = {}  # (class, sha) -> set of versions
    for p in paths:
        try:
            z = zipfile.ZipFile(p)
        except (zipfile.BadZipFile, OSError):
            continue
        version = None
        for n in z.namelist():
            if n.endswith("/log4j-core/pom.properties"):
                for line in z.read(n).decode("utf-8", "replace").splitlines():
                    if line.startswith("version="):
                        version = line[8:].strip()
        if not version:
            continue
        for c in CLASSES:
            try:
                data = z.read(PREFIX + c + ".class")
            except KeyError:
                continue
            seen.setdefault((c, hashlib.sha256(data).hexdigest()), set()).add(version)
    for (c, sha), versions in sorted(seen.items(), key=lambda kv: (kv[0][0], version_key(min(kv[1], key=version_key)))):
        print("hash log4j-core %s %s %s" % (c, sha, " ".join(sorted(versions, key=version_key))))


if __name__ == "__main__":
    main(sys.argv[1:])
