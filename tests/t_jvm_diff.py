#!/usr/bin/env python3
"""t_jvm_diff.py - log4scan against the real JVM over generated layouts.

Seeded (L4S_SEED, default 16; a failure prints the seed and the case) and
randomised: each generator below builds a few layouts from real release
jars of ../shared/corpus with random names, compression methods, nesting,
sizes and orders, and says for each Log4j copy in it:
  - where the JVM is asked: a jar, a class directory, or "OUTER!/ENTRY"
    (tests/java/LoadProbe.java extracts nested entries with
    java.util.zip.ZipFile, as a servlet container would); a copy inside a
    tarball is extracted with Python's tarfile first, a jmod's classes/ and
    exploded classes are asked about as the class directory they are;
  - which class: org.apache.logging.log4j.core.lookup.JndiLookup, or its
    relocated name when the copy was relocated (jarlab.relocate_class
    rewrites the constant pool, so the JVM loads it under the new name);
  - the path log4scan must report it at.
One JVM answers every question; log4scan scans the whole tree twice (the
defaults, and --max-nested-size 2 so that every nested archive over 2 MiB
-- the fat jars -- is streamed).  For each copy: JVM "loaded" <=> log4scan
reports a log4j-core at that path with JndiLookup present (CVE-2021-44228
not mitigated); a vulnerable release must be called vulnerable (its exact
version, or a bytecode range holding it); a copy whose JndiLookup was
removed must still be reported, as mitigated.

Layouts (the points of issue 16 they cover): plain, launch-script and
commented jars with and without extensions (2); war, ear>war>jar; tarballs
inside release zips, stored or deflated, named or not (2); jmods at the top
and nested (2); executable jars named bin/orders-service (2); self-
extracting installers (tar.gz followed by a jar) and plain tars ending in
a jar (2); fat Spring Boot jars, plain and executable, in image layers,
with hard links (3); relocated exploded classes in directories and in
tarballs (7); zip bombs beside vulnerable jars in wars and tarballs (9);
directories deeper than PATH_MAX (10); nested archives inside streamed ones,
with the parent's central directory deciding (3, 4: g_stream_nest; three
layouts per PER, and a check that nothing is reported under a name the
central directory does not give).

L4S_DIFF_COUNT=1 prints only "disagreements N of M" (for comparing builds)."""
import hashlib
import io
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tarfile
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jarlab  # noqa: E402

L4S = os.environ.get("L4S", "build/san/log4scan")
CORPUS = os.environ.get("CORPUS", "../shared/corpus").rstrip("/") + "/"
OUT = os.path.abspath(os.environ.get("OUT", "tests/out/t_jvm_diff"))
GEN = os.path.join(OUT, "gen")
SIDE = os.path.join(OUT, "side")   # what the JVM is asked about, extracted
SEED = int(os.environ.get("L4S_SEED", "16"))
PER = int(os.environ.get("L4S_DIFF_PER", "5"))  # layouts per generator
COUNT_ONLY = os.environ.get("L4S_DIFF_COUNT") == "1"
rng = random.Random(SEED)

REL = {"2.14.1": "log4j-samples/true-hits/log4j-core-2.14.1.jar",
       "2.0-beta9": "log4j-samples/true-hits/log4j-core-2.0-beta9.jar",
       "2.12.1": "log4j-samples/true-hits/log4j-core-2.12.1.jar",
       "2.17.1": "log4j-samples/false-hits/log4j-core-2.17.1.jar"}
VULNERABLE = {"2.14.1", "2.0-beta9", "2.12.1"}
JNDI = "org.apache.logging.log4j.core.lookup.JndiLookup"
MAP = [("org/apache/logging/log4j/", "com/acme/shaded/log4j/")]
RELOCATED = "com.acme.shaded.log4j.core.lookup.JndiLookup"

cases = []   # dict(label, jvm, cls, path, version)
stray = []   # (label, path prefix): no finding may be reported under it (the JVM cannot see it)


def release_order():
    """log4j-core releases in order, from the rules file."""
    order = []
    rules = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rules", "log4j.rules")
    for line in open(rules):
        f = line.split()
        if len(f) > 2 and f[0] == "releases" and f[1] == "log4j-core":
            order += f[2:]
    return {v: i for i, v in enumerate(order)}


ORDER = release_order()


def version_holds(reported, true):
    """The reported version is the true one, or a range that contains it
    (class files alone, when the metadata is not at a relocated root)."""
    if reported == true:
        return True
    lo, _, hi = (reported or "").partition("..")
    return bool(hi) and lo in ORDER and hi in ORDER and ORDER[lo] <= ORDER[true] <= ORDER[hi]
_uniq = [0]


def ok(name, cond, why=""):
    if not COUNT_ONLY:
        print(("ok " if cond else "not ok ") + name + ("" if cond else " - " + str(why)[:700]))
    return cond


def uniq(stem):
    _uniq[0] += 1
    return "%s-%03d" % (stem, _uniq[0])


def put(rel, data):
    return jarlab.write(GEN, rel, data)


def side(data, name):
    return jarlab.write(SIDE, uniq(name), data)


def case(label, jvm, cls, path, version):
    cases.append({"label": label, "jvm": jvm, "cls": cls, "path": path, "version": version,
                  "mitigated": "mitigated" in label})  # the payload's tag is in every label


# ---------------------------------------------------------------- payloads

def payload(kinds=("vuln", "vuln", "beta9", "safe", "mitigated", "relocated", "relocated-mitigated")):
    """A Log4j copy: (entries, class the JVM is asked for, version, tag)."""
    kind = rng.choice(kinds)
    no_jndi = (lambda n: not n.endswith("JndiLookup.class"))
    if kind == "vuln":
        return jarlab.jar_entries(CORPUS + REL["2.14.1"]), JNDI, "2.14.1", kind
    if kind == "beta9":
        v = rng.choice(["2.0-beta9", "2.12.1"])
        return jarlab.jar_entries(CORPUS + REL[v]), JNDI, v, kind
    if kind == "safe":
        return jarlab.jar_entries(CORPUS + REL["2.17.1"]), JNDI, "2.17.1", kind
    if kind == "mitigated":
        return jarlab.jar_entries(CORPUS + REL["2.14.1"], no_jndi), JNDI, "2.14.1", kind
    keep = no_jndi if kind == "relocated-mitigated" else None
    return jarlab.relocate_jar(CORPUS + REL["2.14.1"], MAP, keep), RELOCATED, "2.14.1", kind


def method():
    return rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])


def filler(n):
    """Entries every real archive has: text, an image, a native blob."""
    out = [("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n")]
    for i in range(n):
        out.append(("static/img%d.png" % i, b"\x89PNG\r\n\x1a\n" + rng.randbytes(rng.randint(600, 3000))))
        out.append(("doc/readme%d.txt" % i, b"hello\n" * rng.randint(100, 400)))
    return out


def jar_of(entries, **kw):
    return jarlab.zip_bytes(entries, **kw)


SCRIPT = b"#!/bin/bash\n# launch script\nexec java -jar \"$0\" \"$@\"\n" + b"#" * 700 + b"\nexit 0\n"


# ---------------------------------------------------------------- generators

def g_plain():
    """Top-level jars: extension or none, launch script, long comment."""
    ents, cls, v, tag = payload()
    name = rng.choice(["app.jar", "orders-service", "app.bin", "service"])
    pre = SCRIPT if rng.random() < 0.5 else b""
    comment = b"built by ci " * rng.choice([0, 60, 300])
    p = put(uniq("plain") + "/" + name, jar_of(ents, prefix=pre, comment=comment))
    case("plain %s %s prefix=%d comment=%d" % (name, tag, len(pre), len(comment)), p, cls, p, v)


def g_war():
    ents, cls, v, tag = payload()
    inner = jar_of(ents)
    lib = "WEB-INF/lib/" + rng.choice(["log4j-core.jar", "core-lib.jar", "log4j-core"])
    war = jar_of(filler(3) + [(lib, inner, method())])
    if rng.random() < 0.5:
        p = put(uniq("war") + "/app.war", war)
        case("war %s %s" % (lib, tag), p + "!/" + lib, cls, p + "!/" + lib, v)
    else:
        ear = jar_of(filler(1) + [("web.war", war, method())])
        p = put(uniq("ear") + "/app.ear", ear)
        loc = p + "!/web.war!/" + lib
        case("ear>war %s %s" % (lib, tag), loc, cls, loc, v)


def g_release_zip():
    """A tarball inside a release zip (point 2), named or not."""
    ents, cls, v, tag = payload()
    jar = jar_of(ents)
    comp = rng.choice(["gz", "xz", "bz2", None])
    tar = jarlab.tar_bytes([("app-1.0/lib/log4j-core.jar", jar), ("app-1.0/README", b"read me\n")], comp)
    tname = rng.choice(["app-1.0.tar" + ("." + comp if comp else ""), "payload", "app-1.0.dat"])
    z = jar_of(filler(2) + [(tname, tar, method())])
    p = put(uniq("release") + "/release.zip", z)
    case("release zip > %s (%s) > jar %s" % (tname, comp, tag), side(jar, "x.jar"), cls,
         p + "!/" + tname + "!/app-1.0/lib/log4j-core.jar", v)


def jmod_bytes(ents):
    """JM 1 0 + a zip whose classes are under classes/ (jmod layout)."""
    body = [("classes/" + n, d, m) for n, d, m in ents if not n.endswith("/")]
    return b"JM\x01\x00" + jar_of(body, fix_offsets=False)


def extract_classes(ents):
    d = os.path.join(SIDE, uniq("classes"))
    for n, data, _ in ents:
        if n.endswith("/") or n.startswith("META-INF/"):
            continue
        q = os.path.join(d, n)
        os.makedirs(os.path.dirname(q), exist_ok=True)
        with open(q, "wb") as f:
            f.write(data)
    return d


def g_jmod():
    """A JDK module file: classes/ in a zip after a 4-byte header; jlink
    puts those classes in the runtime image, so the JVM is asked about them
    as a class directory."""
    ents, cls, v, tag = payload()
    jm = jmod_bytes(ents)
    where = rng.choice(["top", "zip", "tar"])
    if where == "top":
        p = put(uniq("jmod") + "/" + rng.choice(["app.jmod", "app-module"]), jm)
        case("jmod %s" % tag, extract_classes(ents), cls, p, v)
    elif where == "zip":
        n = rng.choice(["jmods/app.jmod", "jmods/app"])
        p = put(uniq("jmodzip") + "/jdk.zip", jar_of([(n, jm, method())]))
        case("zip > jmod %s %s" % (n, tag), extract_classes(ents), cls, p + "!/" + n, v)
    else:
        p = put(uniq("jmodtar") + "/jdk.tar.gz", jarlab.tar_bytes([("jmods/app.jmod", jm)], "gz"))
        case("tar.gz > jmod %s" % tag, extract_classes(ents), cls, p + "!/jmods/app.jmod", v)


def g_exec_in_zip():
    """An executable jar named bin/orders-service inside a distribution zip."""
    ents, cls, v, tag = payload()
    exe = jar_of(ents, prefix=SCRIPT if rng.random() < 0.7 else b"")
    n = "orders-1.0/bin/orders-service"
    p = put(uniq("dist") + "/orders-1.0.zip", jar_of(filler(1) + [(n, exe, method())]))
    case("zip > %s %s" % (n, tag), p + "!/" + n, cls, p + "!/" + n, v)


def g_installer():
    """Self-extracting: a tar.gz followed by a jar (both scanned); and a
    plain tar whose last member is a jar (java -cp x.tar loads from it)."""
    e1, c1, v1, t1 = payload()
    e2, c2, v2, t2 = payload()
    j1, j2 = jar_of(e1), jar_of(e2)
    if rng.random() < 0.5:
        tgz = jarlab.tar_bytes([("setup/lib/core.jar", j1), ("setup/install.sh", b"#!/bin/sh\n")], "gz")
        p = put(uniq("installer") + "/setup.bin", tgz + j2)
        case("installer: tar.gz member %s" % t1, side(j1, "m.jar"), c1, p + "!/setup/lib/core.jar", v1)
        case("installer: trailing jar %s" % t2, p, c2, p, v2)
    else:
        tar = jarlab.tar_bytes([("app/README", b"x\n"), ("app/lib/core.jar", j1)])
        p = put(uniq("tarjar") + "/app.tar", tar)
        case("plain tar: member %s" % t1, side(j1, "m.jar"), c1, p + "!/app/lib/core.jar", v1)
        # java -cp app.tar loads from the jar at its tail: the same bytes as
        # the member, which is where log4scan reports them
        case("plain tar: the tar itself as a zip %s" % t1, p, c1, p + "!/app/lib/core.jar", v1)


def fat_jar(ents, executable):
    inner = jar_of(ents)
    big = [("BOOT-INF/classes/app/App.class", b"\xca\xfe\xba\xbe" + rng.randbytes(200), 8)]
    for i in range(rng.randint(2, 4)):  # other libraries: enough bytes to pass 1 MiB
        big.append(("BOOT-INF/lib/lib%d.jar" % i, jar_of([("x/%d.bin" % k, rng.randbytes(60000), 0)
                                                          for k in range(6)]), 0))
    big.append(("BOOT-INF/lib/log4j-core-lib.jar", inner, 0))
    rng.shuffle(big)
    return jar_of(filler(1) + big, prefix=SCRIPT if executable else b"")


def g_image():
    """A fat jar in an image layer (streamed with --max-nested-size 2),
    with a hard link to it in the same layer."""
    ents, cls, v, tag = payload()
    exe = rng.random() < 0.4
    fat = fat_jar(ents, exe)
    layer1 = jarlab.tar_bytes([("etc/os-release", b"ID=debian\n")])
    layer2 = jarlab.tar_bytes([("opt", None), ("opt/app", None), ("opt/app/app.jar", fat),
                               ("opt/app/current.jar", ("link", "opt/app/app.jar"))])
    img, digests = jarlab.docker_save([layer1, layer2])
    p = put(uniq("image") + "/image.tar", img)
    fat_side = side(jarlab.tar_member(layer2, "opt/app/current.jar"), "fat.jar")
    for member in ("opt/app/app.jar", "opt/app/current.jar"):
        case("image layer fat jar (%s) %s exe=%s" % (member, tag, exe),
             fat_side + "!/BOOT-INF/lib/log4j-core-lib.jar", cls,
             "%s!/%s!/%s!/BOOT-INF/lib/log4j-core-lib.jar" % (p, digests[1], member), v)


def exploded(ents):
    """Class files and resources of a copy, under WEB-INF/classes."""
    return [("webapp/WEB-INF/classes/" + n, d) for n, d, _ in ents if not n.endswith("/")]


def g_exploded():
    """Relocated (or canonical) exploded classes, in a directory or a tarball."""
    ents, cls, v, tag = payload(("relocated", "relocated", "relocated-mitigated", "vuln", "mitigated"))
    files = exploded(ents)
    pkgroot = "com/acme/shaded/log4j/core" if cls == RELOCATED else None
    if rng.random() < 0.5:
        top = os.path.join(GEN, uniq("exploded"))
        for n, d in files:
            put(os.path.relpath(os.path.join(top, n), GEN), d)
        cp = os.path.join(top, "webapp/WEB-INF/classes")
        path = os.path.join(cp, pkgroot) if pkgroot else cp
        case("exploded dir %s" % tag, cp, cls, path, v)
    else:
        comp = rng.choice(["gz", None])
        p = put(uniq("explodedtar") + "/webapp.tar" + (".gz" if comp else ""),
                jarlab.tar_bytes([(n, d) for n, d in files], comp))
        cp = p + "!/webapp/WEB-INF/classes"
        case("exploded in tar %s" % tag, extract_classes(ents), cls,
             cp + "/" + pkgroot if pkgroot else cp, v)


def overlap_bomb(names, kernel_mib):
    """Every central-directory entry points at one deflated kernel of zeros."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    comp = b"".join(c.compress(chunk) for _ in range(kernel_mib)) + c.flush()
    crc = 0
    for _ in range(kernel_mib):
        crc = zlib.crc32(chunk, crc)
    size = kernel_mib << 20
    n0 = names[0].encode()
    out = bytearray(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(comp), size, len(n0), 0)
                    + n0 + comp)
    cd = bytearray()
    for n in names:
        nb = n.encode()
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(comp), size, len(nb),
                          0, 0, 0, 0, 0, 0) + nb
    off = len(out)
    return bytes(out + cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(names), len(names), len(cd), off, 0))


def nested_bomb(levels, width):
    """42.zip-style: zips of zips, the innermost a deflated run of zeros."""
    z = jar_of([("zeros.jar", bytes(24 << 20), 8)])
    for _ in range(levels):
        z = jar_of([("z%d.jar" % i, z, 8) for i in range(width)])
    return z


BOMBS = {}


def bombs():
    if not BOMBS:
        BOMBS["zbsm.jar"] = open(CORPUS + "google-testdata/zipbombs/zbsm.jar", "rb").read()
        BOMBS["r.zip"] = open(CORPUS + "google-testdata/zipbombs/r.zip", "rb").read()
        BOMBS["overlap.jar"] = overlap_bomb(["lib/a%02d.jar" % k for k in range(12)], 48)
        BOMBS["nested.jar"] = nested_bomb(2, 6)
    return BOMBS


def g_bomb():
    """Zip bombs beside a vulnerable jar, in a war or a tarball."""
    ents, cls, v, tag = payload()
    inner = jar_of(ents)
    libs = [("WEB-INF/lib/" + n, d, 0 if rng.random() < 0.5 else 8) for n, d in bombs().items()]
    libs.append(("WEB-INF/lib/log4j-core.jar", inner, method()))
    rng.shuffle(libs)
    if rng.random() < 0.6:
        p = put(uniq("bombwar") + "/app.war", jar_of(filler(1) + libs))
        loc = p + "!/WEB-INF/lib/log4j-core.jar"
        case("bombs beside a jar in a war %s" % tag, loc, cls, loc, v)
    else:
        p = put(uniq("bombtar") + "/app.tar.gz", jarlab.tar_bytes([(n, d) for n, d, _ in libs], "gz"))
        case("bombs beside a jar in a tar.gz %s" % tag, side(inner, "b.jar"), cls,
             p + "!/WEB-INF/lib/log4j-core.jar", v)


def g_deep():
    """A jar below a directory path longer than PATH_MAX (4096)."""
    ents, cls, v, tag = payload()
    data = jar_of(ents)
    top = os.path.join(GEN, uniq("deep"))
    os.makedirs(top)
    fd = os.open(top, os.O_RDONLY)
    names = []
    for i in range(rng.randint(18, 24)):
        n = "level%02d-" % i + "d" * rng.randint(200, 240)
        os.mkdir(n, dir_fd=fd)
        nfd = os.open(n, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nfd
        names.append(n)
    w = os.open("log4j-core.jar", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(w, data)
    os.close(w)
    os.close(fd)
    path = os.path.join(top, *names, "log4j-core.jar")
    case("deep directory (%d bytes) %s" % (len(path), tag), side(data, "deep.jar"), cls, path, v)


def raw_zip(entries, dd=(), local_names=None, ghosts=()):
    """A zip written by hand: entries (name, data, method); the names in dd
    get a data descriptor (sizes and CRC zero in the local header); a local
    header may carry another name than the central directory's
    (local_names); ghosts (name, data, method) are local headers that no
    central directory entry lists."""
    out, cd = bytearray(), bytearray()
    local_names = local_names or {}
    allents = [(e, False) for e in entries] + [(g, True) for g in ghosts]
    rng.shuffle(allents)
    for (name, data, m), ghost in allents:
        comp = data if m == 0 else (lambda c: c.compress(data) + c.flush())(zlib.compressobj(6, zlib.DEFLATED, -15))
        crc = zlib.crc32(data)
        flag = 8 if name in dd and m == 8 else 0
        ln = local_names.get(name, name).encode()
        off = len(out)
        hc, hs, hz = (0, 0, 0) if flag else (crc, len(comp), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flag, m, 0, 0, hc, hs, hz, len(ln), 0) + ln + comp
        if flag:
            out += struct.pack("<IIII", 0x08074B50, crc, len(comp), len(data))
        if ghost:
            continue
        nb = name.encode()
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flag, m, 0, 0, crc, len(comp), len(data),
                          len(nb), 0, 0, 0, 0, 0, off) + nb
    n = len(entries)
    return bytes(out + cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(cd), len(out), 0))


def padded(ents, mib):
    """Entries plus incompressible padding: an archive that stays larger
    than --max-nested-size 2 when DEFLATED inside another."""
    return ents + [("pad/blob%d.bin" % i, rng.randbytes(1 << 19), 0) for i in range(int(mib * 2))]


def g_stream_nest():
    """Nested archives inside a streamed one (point 3): a fat jar or war
    over --max-nested-size 2, in a tarball (read once) or DEFLATED in a
    zip, holding a DEFLATED nested jar itself over 2 MiB, named or told by
    its bytes alone (a launch script before it, no extension), one or two
    levels deep, with a data descriptor, a local header naming it otherwise
    than the central directory, a stale local header of a vulnerable jar
    the central directory does not list, and zip bombs before it."""
    ents, cls, v, tag = payload()
    exe = rng.random() < 0.3
    inner = jar_of(padded(ents, 2.2), prefix=SCRIPT if exe else b"")
    n_in = rng.choice(["BOOT-INF/lib/log4j-core-2.x.jar", "BOOT-INF/lib/core-blob", "lib/orders-service"])
    chain = [n_in]
    data = inner
    if rng.random() < 0.4:  # one more level: a DEFLATED jar holding it
        mid = jar_of(padded([("inner/" + n_in.split("/")[-1], inner, 8)], 0.5))
        chain = ["BOOT-INF/lib/mid.jar", "inner/" + n_in.split("/")[-1]]
        data = mid
        n_in = chain[0]
    top = [(n_in, data, 8)] + [(n, d, rng.choice([0, 8])) for n, d in filler(2)]
    top += [("BOOT-INF/lib/x%d.jar" % i, jar_of([("x/%d.bin" % i, rng.randbytes(200000), 0)]), rng.choice([0, 8]))
            for i in range(2)]
    dd = [n_in] if rng.random() < 0.4 else []
    lnames = {n_in: "BOOT-INF/lib/renamed.bin"} if rng.random() < 0.3 else {}
    ghosts = []
    if rng.random() < 0.4:
        ghosts = [("BOOT-INF/lib/ghost-core.jar", jar_of(padded(jarlab.jar_entries(CORPUS + REL["2.14.1"]), 2.2)),
                   8)]
    bombed = rng.random() < 0.3
    if bombed:
        b = bombs()
        top += [("BOOT-INF/lib/" + n, b[n], 8) for n in ("nested.jar", "zbsm.jar")]
    fat = raw_zip(top, dd=dd, local_names=lnames, ghosts=ghosts)
    where = rng.choice(["tar", "tar.gz", "zip"])
    if where == "zip":
        member = "dist/app.jar"
        p = put(uniq("streamzip") + "/dist.zip", jar_of([(member, fat, 8)]))
    else:
        member = "opt/app/app.jar"
        p = put(uniq("streamtar") + "/layer." + where,
                jarlab.tar_bytes([("opt", None), ("opt/app", None), (member, fat)],
                                 "gz" if where == "tar.gz" else None))
    fat_side = side(fat, "fat.jar")
    label = "streamed %s > fat > %s %s dd=%d renamed=%d ghost=%d bombs=%d exe=%d" % (
        where, "!/".join(chain), tag, bool(dd), bool(lnames), bool(ghosts), bombed, exe)
    case(label, fat_side + "!/" + "!/".join(chain), cls, p + "!/" + member + "!/" + "!/".join(chain), v)
    for g in ghosts:
        stray.append((label, p + "!/" + member + "!/" + g[0]))
    if lnames:
        stray.append((label, p + "!/" + member + "!/" + lnames[n_in]))


GENERATORS = [g_plain, g_war, g_release_zip, g_jmod, g_exec_in_zip, g_installer, g_image, g_exploded, g_bomb,
              g_deep, g_stream_nest]


# ---------------------------------------------------------------- run

def scan(*args):
    p = subprocess.run([L4S, "scan", "--format", "json", "--max-inflate", "256", *args, GEN],
                       capture_output=True, timeout=1800)
    recs = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        try:
            recs.append(json.loads(line))
        except ValueError:
            pass
    return p, recs


def present(recs, path):
    """Does log4scan say JndiLookup is there (a log4j-core at exactly that
    path, CVE-2021-44228 not mitigated)?  And the statuses it gave."""
    fs = [r for r in recs if r.get("kind") == "finding" and r.get("path") == path and
          r.get("component") == "log4j-core"]
    pres = [f for f in fs if "CVE-2021-44228" not in f.get("mitigated_cves", [])]
    return bool(pres), [(f["status"], f.get("version")) for f in fs]


def main():
    shutil.rmtree(OUT + "/gen", ignore_errors=True)
    shutil.rmtree(SIDE, ignore_errors=True)
    os.makedirs(GEN, exist_ok=True)
    for g in GENERATORS:
        for _ in range(PER * (3 if g is g_stream_nest else 1)):  # the most varied: more layouts
            g()
    probe = jarlab.LoadProbe(OUT)
    answers = probe.ask([(c["jvm"], [c["cls"]]) for c in cases])
    runs = [("defaults", scan()), ("--max-nested-size 2", scan("--max-nested-size", "2"))]
    bad = 0
    for what, (p, recs) in runs:
        crashed = p.returncode not in (0, 1) or b"ERROR: AddressSanitizer" in p.stderr or b"runtime error" in p.stderr
        ok("jvm diff (%s): scan ran cleanly (exit %d)" % (what, p.returncode), not crashed,
           p.stderr.decode(errors="replace")[-600:])
        for c in cases:
            ans = answers.get(c["jvm"], ["error:no answer"])[0]
            if ans.startswith("error"):
                ok("jvm diff: the JVM can answer for %s" % c["label"], False, ans)
                continue
            loaded = ans == "loaded"
            seen, statuses = present(recs, c["path"])
            agree = loaded == seen and (not seen or c["version"] not in VULNERABLE or
                                        any(st == "vulnerable" and version_holds(v, c["version"])
                                            for st, v in statuses))
            # a copy without JndiLookup is still a copy: reported, mitigated
            if c["mitigated"] and not loaded:
                agree = agree and any(st == "mitigated" for st, _ in statuses)
            bad += not agree
            ok("jvm diff (%s, seed %d): %s: JVM %s, log4scan %s" % (what, SEED, c["label"], ans,
                                                                     statuses or "nothing"),
               agree, "at %s" % c["path"])
        for label, pre in stray:
            hits = [r["path"] for r in recs if r.get("kind") == "finding" and
                    (r.get("path") == pre or r.get("path", "").startswith(pre + "!/"))]
            bad += bool(hits)
            ok("jvm diff (%s, seed %d): %s: nothing reported under a name the central directory does not give"
               % (what, SEED, label), not hits, hits)
        errs = [r for r in recs if r.get("kind") == "error"]
        ok("jvm diff (%s): at most one budget record per archive with bombs" % what,
           all(sum(1 for r in errs if r["path"] == q["path"]) <= 2 for q in errs), errs[:4])
    n = len(cases) * len(runs)
    if COUNT_ONLY:
        print("disagreements %d of %d (%d layouts, seed %d)" % (bad, n, len(cases), SEED))
    else:
        print("# %d cases x %d scans, %d disagreements; JVM answered in %.1f s" % (len(cases), len(runs), bad,
                                                                                 probe.seconds))


main()
