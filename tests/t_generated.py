#!/usr/bin/env python3
"""t_generated.py - archive shapes built at test time from the corpus jars.

Every case below is assembled in $OUT/gen from real releases in $CORPUS
(nothing is copied into the repository): nesting at depth 3 and 4, a Spring
Boot fat jar with a STORED nested jar (plain and "fully executable" with a
launch script), archives recognised by content (.zip, .JAR, no extension),
renamed jars, relocated packages with and without pom.properties, ZIP64,
prepended scripts (offsets relative and adjusted), data descriptors,
duplicate and non-UTF-8 entry names, Java-agent class files (.esclazz,
.classdata), source jars, log4j-api and bridges alone, exploded class
directories, two copies in one archive, and the detector's decisions of
issue 16 (a vendor version in pom.properties, Log4j 1.x in a
jar-with-dependencies and exploded beside Log4j 2, Debian's log4j-1.2-api
bridge, a stray .classdata).  One `$L4S scan --format json` over
the tree, then each expectation of the CASES table is checked against the
records: a finding at that exact path with that component / version (or a
bytecode range that contains the true version) / status / CVEs, or no
finding under a path.  Archives are written by a small ZIP writer below
(write_zip) so every field can be controlled (names as raw bytes, ZIP64
records, data descriptors, absolute or relative offsets); the Info-ZIP
`zip` CLI builds a few more (-fz ZIP64, -fd descriptors, -A adjusted).
"""
import base64
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import warnings
import zipfile
import zlib

L4S = os.environ["L4S"]
CORPUS = os.environ["CORPUS"].rstrip("/") + "/"
OUT = os.environ.get("OUT", "/tmp/l4s-gen")
GEN = os.path.join(OUT, "gen")
warnings.filterwarnings("ignore")  # zipfile's "Duplicate name" warning

JARS = {
    "2.0-beta9": "log4j-samples/true-hits/log4j-core-2.0-beta9.jar",
    "2.3.2": "log4j-samples/false-hits/log4j-core-2.3.2.jar",
    "2.12.2": "log4j-samples/false-hits/log4j-core-2.12.2.jar",
    "2.14.1": "log4j-samples/true-hits/log4j-core-2.14.1.jar",
    "2.15.0": "log4j-samples/false-hits/log4j-core-2.15.0.jar",
    "2.16.0": "log4j-samples/false-hits/log4j-core-2.16.0.jar",
    "2.17.0": "log4j-samples/false-hits/log4j-core-2.17.0.jar",
    "2.17.1": "log4j-samples/false-hits/log4j-core-2.17.1.jar",
    "api": "log4j-samples/false-hits/log4j-api-2.14.1.jar",
    "1.2-api": "log4j-samples/false-hits/log4j-1.2-api-2.12.1.jar",
    "slf4j-impl": "log4j-samples/false-hits/log4j-slf4j-impl-2.13.2.jar",
    "over-slf4j": "log4j-samples/false-hits/log4j-over-slf4j-1.7.32.jar",
    "1.2.17": "log4j-samples/old-hits/log4j-1.2.17.jar",
}
CVES = {
    "2.14.1": ["CVE-2021-44228", "CVE-2021-44832", "CVE-2021-45046", "CVE-2021-45105"],
    "2.17.0": ["CVE-2021-44832"],
    "2.17.1": [],
    "2.12.2": ["CVE-2020-9488", "CVE-2021-44832", "CVE-2021-45105"],
    "2.3.2": ["CVE-2017-5645", "CVE-2020-9488"],
    "2.15.0": ["CVE-2021-44832", "CVE-2021-45046", "CVE-2021-45105"],
    "2.16.0": ["CVE-2021-44832", "CVE-2021-45105"],
    "2.0-beta9": ["CVE-2017-5645", "CVE-2020-9488", "CVE-2021-44228", "CVE-2021-44832", "CVE-2021-45046",
                  "CVE-2021-45105"],
}
CORE_PREFIX = "org/apache/logging/log4j/core/"


def ok(name, cond, why=""):
    print(("ok " if cond else "not ok ") + name + ("" if cond or not why else " - " + why))
    return cond


# ---------------------------------------------------------------- ZIP writer

def write_zip(entries, prefix=b"", zip64=False, descriptors=False, absolute=False, comment=b""):
    """entries: (name: str|bytes, data: bytes, method 0|8).  prefix is put
    before the archive; offsets are relative to the archive start unless
    absolute.  zip64: sizes/offsets as 0xFFFFFFFF + ZIP64 extra, ZIP64 end
    record and locator.  descriptors: zeros in local headers and a data
    descriptor after each entry's data."""
    out = bytearray(prefix)
    base = 0 if absolute else len(prefix)
    cd = bytearray()
    for name, data, method in entries:
        name = name.encode("utf-8") if isinstance(name, str) else name
        crc = zlib.crc32(data) & 0xFFFFFFFF
        if method == 8:
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            comp = c.compress(data) + c.flush()
        else:
            comp = data
        flags = 0x8 if descriptors else 0
        if all(b < 0x80 for b in name) is False and not descriptors:
            pass  # raw bytes: no UTF-8 flag (bit 11) on purpose
        local = len(out) - base
        lsz = (0, 0, 0) if descriptors else (crc, len(comp), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if zip64 else 20, flags, method, 0, 0x21, *lsz,
                           len(name), 0) + name + comp
        if descriptors:
            out += struct.pack("<IIII", 0x08074B50, crc, len(comp), len(data))
        extra = struct.pack("<HHQQQ", 1, 24, len(data), len(comp), local) if zip64 else b""
        big = 0xFFFFFFFF
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 20, flags, method, 0, 0x21, crc,
                          big if zip64 else len(comp), big if zip64 else len(data), len(name), len(extra), 0, 0, 0,
                          0, big if zip64 else local) + name + extra
    cd_off = len(out) - base
    out += cd
    n = len(entries)
    if zip64:
        rec = len(out)  # the JDK reads the locator's offset from the file's start, prefix or not
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, len(cd), cd_off)
        out += struct.pack("<IIQI", 0x07064B50, 0, rec, 1)
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(comment))
    else:
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(cd), cd_off, len(comment))
    return bytes(out + comment)


def entries_of(jar, keep=None, rename=None, method=None):
    """(name, data, method) of a corpus jar; keep(name) filters, rename(name)
    maps names (None drops), method forces a compression method."""
    res = []
    with zipfile.ZipFile(CORPUS + jar) as z:
        for i in z.infolist():
            n = i.filename
            if keep and not keep(n):
                continue
            if rename:
                n = rename(n)
                if n is None:
                    continue
            m = method if method is not None else (8 if i.compress_type == 8 else 0)
            res.append((n, z.read(i), m))
    return res


def jar(v, **kw):
    return write_zip(entries_of(JARS[v]), **kw)


def raw(v):
    return open(CORPUS + JARS[v], "rb").read()


def put(rel, data):
    p = os.path.join(GEN, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    return p


def no_meta(n):
    return not n.startswith("META-INF/")


def relocate(prefix, ext=".class", drop_meta=True):
    def f(n):
        if n.startswith("META-INF/"):
            return None if drop_meta else n
        if n.startswith(CORE_PREFIX):
            n = prefix + n[len(CORE_PREFIX):]
            if n.endswith(".class"):
                n = n[:-6] + ext
            return n
        return None  # other classes of the jar are not needed
    return f


# ---------------------------------------------------------------- the cases
# Each builder writes files under GEN; EXPECT lists (kind, path, ...):
#   ("find", path, component, version, status[, cves])   exact version
#   ("range", path, component, truth, status)             bytecode range containing truth
#   ("none", path)                                         no finding at or below path
#   ("error", path, substring)                             an error record at path
EXPECT = []


def expect(*e):
    EXPECT.append(e)


def build():
    shutil.rmtree(GEN, ignore_errors=True)
    os.makedirs(GEN)

    # -- nesting at depth 3: a.ear!/lib/b.war!/WEB-INF/lib/log4j-core-2.14.1.jar
    war = write_zip([("WEB-INF/web.xml", b"<web-app/>", 8), ("WEB-INF/lib/log4j-core-2.14.1.jar", raw("2.14.1"), 8)])
    put("nest3/a.ear", write_zip([("META-INF/application.xml", b"<application/>", 8), ("lib/b.war", war, 8)]))
    expect("find", "nest3/a.ear!/lib/b.war!/WEB-INF/lib/log4j-core-2.14.1.jar", "log4j-core", "2.14.1", "vulnerable",
           CVES["2.14.1"])
    # depth 4, mixing STORED and DEFLATED levels and upper-case extensions
    l3 = write_zip([("lib/log4j-core-2.17.0.jar", raw("2.17.0"), 0)])
    l2 = write_zip([("deep/C.WAR", l3, 8)])
    l1 = write_zip([("B.JAR", l2, 0)])
    put("nest4/outer.zip", write_zip([("inner/a.ear", l1, 8)]))
    expect("find", "nest4/outer.zip!/inner/a.ear!/B.JAR!/deep/C.WAR!/lib/log4j-core-2.17.0.jar", "log4j-core",
           "2.17.0", "vulnerable", CVES["2.17.0"])

    # -- Spring Boot fat jar: BOOT-INF/lib/*.jar STORED
    boot = [("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nMain-Class: org.springframework.boot.loader.JarLauncher\r\n", 8),
            ("BOOT-INF/classes/com/example/App.class", b"\xca\xfe\xba\xbe" + bytes(20), 8),
            ("BOOT-INF/lib/spring-core-5.3.jar", write_zip([("x.txt", b"x", 0)]), 0),
            ("BOOT-INF/lib/log4j-core-2.14.1.jar", raw("2.14.1"), 0),
            ("BOOT-INF/lib/log4j-api-2.14.1.jar", raw("api"), 0)]
    put("boot/app.jar", write_zip(boot))
    expect("find", "boot/app.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar", "log4j-core", "2.14.1", "vulnerable", CVES["2.14.1"])
    expect("none", "boot/app.jar!/BOOT-INF/lib/log4j-api-2.14.1.jar")
    # "fully executable" Spring Boot jar: launch script before the zip
    script = b"#!/bin/bash\n# Spring Boot launch script\n" + b"#" * 5000 + b"\nexec java -jar \"$0\" \"$@\"\nexit 0\n"
    put("boot/app-exec", write_zip(boot, prefix=script))
    expect("find", "boot/app-exec!/BOOT-INF/lib/log4j-core-2.14.1.jar", "log4j-core", "2.14.1", "vulnerable")
    put("boot/app-exec-abs.jar", write_zip(boot, prefix=script, absolute=True))
    expect("find", "boot/app-exec-abs.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar", "log4j-core", "2.14.1", "vulnerable")

    # -- archives by content, not by name
    for name in ("content/log4j-core-2.14.1.zip", "content/LOG4J-CORE.JAR", "content/log4j-core-noext",
                 "content/log4j.bin", "content/.hidden"):
        put(name, raw("2.14.1"))
        expect("find", name, "log4j-core", "2.14.1", "vulnerable")
    put("content/nested-upper.zip", write_zip([("LIB/LOG4J.JAR", raw("2.16.0"), 8)]))
    expect("find", "content/nested-upper.zip!/LIB/LOG4J.JAR", "log4j-core", "2.16.0", "vulnerable", CVES["2.16.0"])

    # -- renamed files: the name is never evidence
    put("renamed/log4j-core-2.14.1.jar", raw("2.17.1"))
    expect("find", "renamed/log4j-core-2.14.1.jar", "log4j-core", "2.17.1", "safe", [])
    put("renamed/log4j-core-2.17.1.jar", raw("2.14.1"))
    expect("find", "renamed/log4j-core-2.17.1.jar", "log4j-core", "2.14.1", "vulnerable", CVES["2.14.1"])
    put("renamed/commons-util-1.0.jar", raw("2.15.0"))
    expect("find", "renamed/commons-util-1.0.jar", "log4j-core", "2.15.0", "vulnerable", CVES["2.15.0"])

    # -- relocated packages (shading): pom kept -> exact; stripped -> range
    for v in ("2.14.1", "2.17.1"):
        put("relocated/keep-pom-%s.jar" % v,
            write_zip(entries_of(JARS[v], rename=relocate("com/acme/shaded/log4j/core/", drop_meta=False))))
        expect("find", "relocated/keep-pom-%s.jar" % v, "log4j-core", v, "vulnerable" if CVES[v] else "safe", CVES[v])
    for v in ("2.0-beta9", "2.3.2", "2.12.2", "2.14.1", "2.15.0", "2.16.0", "2.17.0", "2.17.1"):
        put("relocated/stripped-%s.jar" % v, write_zip(entries_of(JARS[v], rename=relocate("x/y/"))))
        expect("range", "relocated/stripped-%s.jar" % v, "log4j-core", v, "vulnerable" if CVES[v] else "safe")
    # two relocated copies in one uber jar, no metadata: two findings
    two = entries_of(JARS["2.14.1"], rename=relocate("a/shaded/core/")) + \
        entries_of(JARS["2.17.1"], rename=relocate("b/shaded/core/"))
    put("relocated/two-copies.jar", write_zip(two))
    expect("range", "relocated/two-copies.jar#a/shaded/core/", "log4j-core", "2.14.1", "vulnerable")
    expect("range", "relocated/two-copies.jar#b/shaded/core/", "log4j-core", "2.17.1", "safe")

    # -- Java agents: classes stored as .esclazz / .classdata
    put("agent/elastic-apm-agent.jar",
        write_zip(entries_of(JARS["2.14.1"], rename=relocate("agent/org/apache/logging/log4j/core/", ".esclazz"))))
    expect("range", "agent/elastic-apm-agent.jar", "log4j-core", "2.14.1", "vulnerable")
    put("agent/opentelemetry-javaagent.jar",
        write_zip(entries_of(JARS["2.17.1"], rename=relocate("inst/org/apache/logging/log4j/core/", ".classdata"))))
    expect("range", "agent/opentelemetry-javaagent.jar", "log4j-core", "2.17.1", "safe")

    # -- ZIP64, prepended scripts, data descriptors (own writer)
    put("shapes/zip64.jar", jar("2.14.1", zip64=True))
    expect("find", "shapes/zip64.jar", "log4j-core", "2.14.1", "vulnerable")
    put("shapes/zip64-prepended", jar("2.14.1", zip64=True, prefix=b"#!/bin/sh\nexec java -jar $0\n"))
    expect("find", "shapes/zip64-prepended", "log4j-core", "2.14.1", "vulnerable")
    put("shapes/prepended-relative.run", jar("2.17.0", prefix=b"#!/bin/sh\nexec java -jar \"$0\"\n" + bytes(3000)))
    expect("find", "shapes/prepended-relative.run", "log4j-core", "2.17.0", "vulnerable", CVES["2.17.0"])
    put("shapes/prepended-absolute.sh", jar("2.17.0", prefix=b"#!/bin/sh\nexit 0\n", absolute=True))
    expect("find", "shapes/prepended-absolute.sh", "log4j-core", "2.17.0", "vulnerable", CVES["2.17.0"])
    put("shapes/descriptors.jar", jar("2.12.2", descriptors=True))
    expect("find", "shapes/descriptors.jar", "log4j-core", "2.12.2", "vulnerable", CVES["2.12.2"])
    put("shapes/zip64-descriptors-nested.war",
        write_zip([("WEB-INF/lib/log4j-core.jar", jar("2.14.1", zip64=True, descriptors=True), 0)], zip64=True))
    expect("find", "shapes/zip64-descriptors-nested.war!/WEB-INF/lib/log4j-core.jar", "log4j-core", "2.14.1",
           "vulnerable")
    # python zipfile writing to a non-seekable stream (data descriptors)
    class Pipe(io.RawIOBase):
        def __init__(self):
            self.b = bytearray()

        def writable(self):
            return True

        def write(self, d):
            self.b += d
            return len(d)
    p = Pipe()
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d, _ in entries_of(JARS["2.16.0"]):
            z.writestr(n, d)
    put("shapes/streamed.jar", bytes(p.b))
    expect("find", "shapes/streamed.jar", "log4j-core", "2.16.0", "vulnerable", CVES["2.16.0"])
    # duplicate entry names: every entry twice
    dup = entries_of(JARS["2.14.1"])
    put("shapes/duplicates.jar", write_zip(dup + dup))
    expect("find", "shapes/duplicates.jar", "log4j-core", "2.14.1", "vulnerable", CVES["2.14.1"])
    # a comment after the end record, holding a fake end-record signature
    put("shapes/comment.jar", jar("2.14.1", comment=b"built by PK\x05\x06 test " + b"c" * 300))
    expect("find", "shapes/comment.jar", "log4j-core", "2.14.1", "vulnerable")

    # -- Info-ZIP: -fz (ZIP64 records), -fd (descriptors), -A (adjusted sfx)
    if shutil.which("zip") and shutil.which("unzip"):
        tree = os.path.join(OUT, "unz-2.14.1")
        shutil.rmtree(tree, ignore_errors=True)
        subprocess.run(["unzip", "-q", "-o", CORPUS + JARS["2.14.1"], "-d", tree], check=True)
        for flag, name in (("-fz", "infozip-fz.jar"), ("-fd", "infozip-fd.jar")):
            dst = os.path.join(GEN, "infozip", name)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            subprocess.run(["zip", "-q", "-r", flag, dst, "."], cwd=tree, check=True)
            expect("find", "infozip/" + name, "log4j-core", "2.14.1", "vulnerable")
        sfx = os.path.join(GEN, "infozip", "selfextract")
        with open(sfx, "wb") as f:
            f.write(b"#!/bin/sh\necho self-extracting\nexit 0\n" + raw("2.14.1"))
        subprocess.run(["zip", "-q", "-A", sfx], check=True)
        expect("find", "infozip/selfextract", "log4j-core", "2.14.1", "vulnerable")
    else:
        ok("Info-ZIP zip/unzip installed (scripts/install-deps.sh lists them)", False)

    # -- non-UTF-8 entry name of a nested jar
    put("names/latin1.war", write_zip([(b"WEB-INF/lib/caf\xe9-log4j.jar", raw("2.14.1"), 0)]))
    expect("find", "names/latin1.war!/WEB-INF/lib/caf\udce9-log4j.jar", "log4j-core", "2.14.1", "vulnerable")
    # a newline in an entry name
    put("names/newline.war", write_zip([("WEB-INF/lib/evil\nVULNERABLE fake.jar", raw("2.17.1"), 0)]))
    expect("find", "names/newline.war!/WEB-INF/lib/evil\nVULNERABLE fake.jar", "log4j-core", "2.17.1", "safe")

    # -- not log4j-core: sources, api and bridges alone
    src = [(n[:-6] + ".java", b"package x; class X {}", 8) if n.endswith(".class") else (n, d, m)
           for n, d, m in entries_of(JARS["2.14.1"])]
    put("notcore/log4j-core-2.14.1-sources.jar", write_zip(src))
    expect("none", "notcore/log4j-core-2.14.1-sources.jar")
    put("notcore/bridges.war", write_zip([("WEB-INF/lib/log4j-api-2.14.1.jar", raw("api"), 8),
                                          ("WEB-INF/lib/log4j-1.2-api-2.12.1.jar", raw("1.2-api"), 8),
                                          ("WEB-INF/lib/log4j-slf4j-impl-2.13.2.jar", raw("slf4j-impl"), 8),
                                          ("WEB-INF/lib/log4j-over-slf4j-1.7.32.jar", raw("over-slf4j"), 0)]))
    expect("none", "notcore/bridges.war")
    # pom.properties of log4j-core without any class file: metadata alone is not a finding
    put("notcore/pom-only.jar", write_zip(entries_of(JARS["2.14.1"], keep=lambda n: n.startswith("META-INF/"))))
    expect("none", "notcore/pom-only.jar")

    # -- mitigated and 1.x inside containers
    put("mixed/app.war", write_zip([
        ("WEB-INF/lib/log4j-core-2.14.1.jar",
         write_zip(entries_of(JARS["2.14.1"], keep=lambda n: not n.endswith("lookup/JndiLookup.class"))), 8),
        ("WEB-INF/lib/log4j-1.2.17.jar", raw("1.2.17"), 8),
        ("WEB-INF/lib/log4j-core-2.17.1.jar", raw("2.17.1"), 0)]))
    expect("find", "mixed/app.war!/WEB-INF/lib/log4j-core-2.14.1.jar", "log4j-core", "2.14.1", "mitigated",
           ["CVE-2021-44832", "CVE-2021-45105"])
    expect("find", "mixed/app.war!/WEB-INF/lib/log4j-1.2.17.jar", "log4j-1.x", "1.2.17", "vulnerable")
    expect("find", "mixed/app.war!/WEB-INF/lib/log4j-core-2.17.1.jar", "log4j-core", "2.17.1", "safe", [])

    # -- the detector's decisions (issue 16; t_jvm_detect asks the JVM about many more)
    # a vendor version in pom.properties does not outvote class files pinning 2.14.1
    core_pom = "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties"
    lie = [(n, b"artifactId=log4j-core\nversion=2.17.3\n" if n == core_pom else d, m)
           for n, d, m in entries_of(JARS["2.14.1"], keep=lambda n: n != "META-INF/MANIFEST.MF")]
    put("decide/pom-says-2.17.3.jar", write_zip(lie))
    expect("find", "decide/pom-says-2.17.3.jar", "log4j-core", "2.14.1", "vulnerable", CVES["2.14.1"])
    # Log4j 1.2.17 merged with log4j-api and log4j-core into one jar-with-dependencies
    merged = {}
    for v in ("api", "1.2.17", "2.17.1"):
        for n, d, m in entries_of(JARS[v]):
            merged.setdefault(n, (n, d, m))
    put("decide/jar-with-dependencies.jar", write_zip(list(merged.values())))
    expect("find", "decide/jar-with-dependencies.jar#org/apache/log4j/", "log4j-1.x", "1.2.17", "vulnerable",
           ["CVE-2019-17571", "CVE-2021-4104", "CVE-2022-23302", "CVE-2022-23305", "CVE-2022-23307"])
    expect("find", "decide/jar-with-dependencies.jar#org/apache/logging/log4j/core/", "log4j-core", "2.17.1", "safe",
           [])
    # the same exploded into a directory
    d = os.path.join(GEN, "decide/exploded-with-dependencies")
    for n, data, _ in merged.values():
        if n.startswith("org/") and not n.endswith("/"):
            os.makedirs(os.path.dirname(os.path.join(d, n)), exist_ok=True)
            open(os.path.join(d, n), "wb").write(data)
    expect("range", "decide/exploded-with-dependencies#org/apache/logging/log4j/core/", "log4j-core", "2.17.1",
           "safe")
    expect("find", "decide/exploded-with-dependencies#org/apache/log4j/", "log4j-1.x", "", "vulnerable")
    # Debian's log4j-1.2-api 2.19.0 (it has helpers/OptionConverter): the bridge, not Log4j 1.x
    deb_bridge = "/usr/share/java/log4j-1.2-api.jar"
    if os.path.exists(deb_bridge):
        put("decide/log4j-1.2-api-2.19.0.jar", open(deb_bridge, "rb").read())
        expect("none", "decide/log4j-1.2-api-2.19.0.jar")
    else:
        print("# %s not installed (liblog4j2-java): Debian's bridge not checked here" % deb_bridge)
    # JndiLookup.class removed, a JndiLookup.classdata left beside the .class files: mitigated
    jl = "org/apache/logging/log4j/core/lookup/JndiLookup.class"
    stray = entries_of(JARS["2.14.1"], keep=lambda n: n != jl) + \
        entries_of(JARS["2.14.1"], keep=lambda n: n == jl, rename=lambda n: n[:-6] + ".classdata")
    put("decide/stray-classdata.jar", write_zip(stray))
    expect("find", "decide/stray-classdata.jar", "log4j-core", "2.14.1", "mitigated",
           ["CVE-2021-44832", "CVE-2021-45105"])

    # -- exploded class directories
    d = os.path.join(GEN, "exploded/webapp/WEB-INF/classes")
    os.makedirs(d)
    with zipfile.ZipFile(CORPUS + JARS["2.14.1"]) as z:
        z.extractall(d)
    expect("find", "exploded/webapp/WEB-INF/classes", "log4j-core", "2.14.1", "vulnerable", CVES["2.14.1"])
    d = os.path.join(GEN, "exploded/classes-only")
    os.makedirs(d)
    with zipfile.ZipFile(CORPUS + JARS["2.17.0"]) as z:
        z.extractall(d, [n for n in z.namelist() if n.startswith("org/")])
    expect("range", "exploded/classes-only", "log4j-core", "2.17.0", "vulnerable")


# ---------------------------------------------------------------- checking

def vkey(v):
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?(?:-(alpha|beta|rc)(\d+))?", v)
    stage = {"alpha": 1, "beta": 2, "rc": 3, None: 5}[m.group(4)]
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), stage, int(m.group(5) or 0))


def contains(rng, truth):
    if ".." in rng:
        lo, hi = rng.split("..")
        return vkey(lo) <= vkey(truth) <= vkey(hi)
    return rng == truth


def exact_path(r):
    """The path's exact bytes, as a str with surrogateescape for bad bytes."""
    if "path_b64" in r:
        return base64.b64decode(r["path_b64"]).decode("utf-8", "surrogateescape")
    return r["path"]


def main():
    build()
    p = subprocess.run(["timeout", "300", L4S, "scan", "--format", "json", "--threads", "2", GEN],
                       capture_output=True)
    ok("generated: scan exits 1 (vulnerable found)", p.returncode == 1,
       "exit %d: %s" % (p.returncode, p.stderr[-400:].decode("utf-8", "replace")))
    recs = []
    for line in p.stdout.splitlines():
        try:
            recs.append(json.loads(line))
        except ValueError:
            ok("generated: output line is JSON", False, repr(line[:200]))
    root = GEN + "/"
    findings, errors = {}, {}
    for r in recs:
        if r.get("kind") not in ("finding", "error"):
            continue
        path = exact_path(r)
        if not path.startswith(root):
            ok("generated: record path under the scanned root", False, path)
            continue
        (findings if r["kind"] == "finding" else errors).setdefault(path[len(root):], []).append(r)
    # a name that is not UTF-8: OpenJDK 17 refuses the war (older JVMs open
    # it), which log4scan reports beside the finding (zip.h)
    refusal = errors.pop("names/latin1.war", [])
    ok("generated: the JDK's refusal of the non-UTF-8 name is reported",
       len(refusal) == 1 and "OpenJDK 17 refuses" in refusal[0]["error"] and "bad entry name" in refusal[0]["error"],
       repr(refusal))
    # records that are not errors about anything we built on purpose
    for path, es in sorted(errors.items()):
        ok("generated: no unexpected error at %s" % path.encode("unicode_escape").decode(), False,
           "; ".join(e["error"] for e in es))
    for e in EXPECT:
        kind, path = e[0], e[1]
        label = "generated %s %s" % (kind, path.encode("unicode_escape").decode())
        root_filter = None
        if "#" in path:
            path, root_filter = path.split("#", 1)
        got = findings.get(path, [])
        if kind == "none":
            under = [(k, g["status"]) for k, gs in findings.items() if k == path or k.startswith(path + "!/")
                     for g in gs]
            ok(label, not under, "got %r" % under)
            continue
        if root_filter:
            # several copies at one path: the JSON does not name the package
            # root, so pick the finding whose version range holds the truth
            got = [g for g in got if g.get("root") == root_filter or
                   ("root" not in g and g["version"] and contains(g["version"], e[3]))]
        if len(got) != 1:
            ok(label, False, "expected one finding, got %d: %r" % (
                len(got), [(g["component"], g["version"], g["status"]) for g in findings.get(path, [])]))
            continue
        g = got[0]
        probs = []
        comp, want_status = e[2], e[4]
        if g["component"] != comp:
            probs.append("component %s != %s" % (g["component"], comp))
        if kind == "find":
            if g["version"] != e[3]:
                probs.append("version %r != %r" % (g["version"], e[3]))
            if len(e) > 5 and sorted(g["cves"]) != sorted(e[5]):
                probs.append("cves %s != %s" % (sorted(g["cves"]), sorted(e[5])))
        else:
            if not g["version"] or not contains(g["version"], e[3]):
                probs.append("version %r does not contain %s" % (g["version"], e[3]))
            if g["version_source"] != "bytecode":
                probs.append("version_source %s != bytecode" % g["version_source"])
        if g["status"] != want_status:
            probs.append("status %s != %s" % (g["status"], want_status))
        if "path_b64" in g:
            probs += [] if "\ufffd" in g["path"] else ["path_b64 present but no U+FFFD in path"]
        ok(label, not probs, "; ".join(probs))
    # the non-UTF-8 name: U+FFFD in "path", exact bytes in "path_b64"
    bad = [g for gs in findings.values() for g in gs if "latin1.war" in g["path"]]
    ok("generated: non-UTF-8 entry name has U+FFFD and path_b64",
       len(bad) == 1 and "\ufffd" in bad[0]["path"] and
       base64.b64decode(bad[0].get("path_b64", "")).endswith(b"!/WEB-INF/lib/caf\xe9-log4j.jar"),
       repr(bad))
    summ = [r for r in recs if r.get("kind") == "summary"]
    ok("generated: one summary record, last", len(summ) == 1 and recs[-1] is summ[0])


main()
