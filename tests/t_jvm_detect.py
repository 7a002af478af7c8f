#!/usr/bin/env python3
"""t_jvm_detect.py - the detector's decisions against the real JVM (issue 16,
points 5, 6 and 8): metadata never outvotes class files, Log4j 1.x is found
per copy whatever shares the container, and renamed class suffixes count
only with their copy.

Cases are generated from the corpus jars with a seeded random generator
(L4S_SEED, default 16; L4S_CASES scales the number of cases), so a failure
reproduces.  Three families:
  meta    a log4j-core release's classes under metadata (pom.properties,
          MANIFEST.MF) that claims a random version: real releases, vendor
          strings (2.17.3, 2.99.0, 2.17.1.redhat-00001, -SNAPSHOT), garbage,
          over-long and non-ASCII text; JndiLookup.class sometimes removed;
  fat     jar-with-dependencies merges (first entry of a name wins, as the
          shade and assembly plugins do) of log4j 1.2.17 / 1.1.3 / Debian's
          patched 1.2.17 (dangerous classes randomly left out, its pom
          claiming random versions) with log4j-api, log4j-core, the
          log4j-1.2-api bridge (2.12.1 from the corpus, Debian's 2.19.0 when
          installed), log4j-over-slf4j and slf4j-log4j12, in random order,
          as a jar or an exploded directory;
  suffix  a log4j-core copy stored as .class with stray .classdata/.esclazz
          entries (JndiLookup among them, its .class sometimes removed), or
          a Java agent's copy stored entirely as .classdata/.esclazz (under a
          prefix or not) with stray .class entries;
plus reload4j-shaped copies (classes written here with the shape of
reload4j's fixes, compiled against 1.2.17): their JMSAppender loads, yet is
not CVE-2021-4104, because what it calls is the fix.
The ground truth is tests/java/LoadProbe.java: one JVM is asked, for every
case, whether org.apache.logging.log4j.core.lookup.JndiLookup loads, and for
1.x whether the classes the 1.x CVEs need (net.JMSAppender, net.SocketServer,
net.JMSSink, jdbc.JDBCAppender, chainsaw.*) and the fixes (HardenedObjectInputStream,
JdbcPatternParser) load; a class that fails only for want of a javax API
the application supplies where it is used (JMSSink implements
javax.jms.MessageListener, which Java 17 lacks) counts as shipping.  For an agent's copy the JVM is asked about the
copy as its own class loader sees it: the entries with the agent's suffix,
renamed to .class.  The true release of each class set and its CVEs come
from the corpus manifest.tsv, not from log4scan's rules.

log4scan must agree: a Log4Shell CVE (CVE-2021-44228/45046) is reported iff
JndiLookup loads and the true release is affected; the copy is mitigated iff
it does not load and the release is affected; every CVE of the true release
is reported; the version reported is the true release or a range that holds
it; a 1.x CVE is reported iff its class loads and no fix loads; a 1.x copy
that is there is reported (Debian's patched one as safe), and bridges alone
are never reported as 1.x.  Disagreements are written to
$OUT/disagreements.txt, one per line with the case's recipe."""
import json
import os
import time
import random
import re
import shutil
import struct
import subprocess
import sys
import zipfile

L4S = os.environ["L4S"]
CORPUS = os.environ["CORPUS"].rstrip("/") + "/"
OUT = os.environ.get("OUT", "/tmp/l4s-jvm-detect")
TOP = os.environ.get("TOP", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED = int(os.environ.get("L4S_SEED", "16"))
SCALE = float(os.environ.get("L4S_CASES", "1"))
GEN = os.path.join(OUT, "cases")

CORE = "org/apache/logging/log4j/core/"
JNDI = "org.apache.logging.log4j.core.lookup.JndiLookup"
LOG4SHELL = ("CVE-2021-44228", "CVE-2021-45046")
CORE_POM = "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties"
L1_POM = "META-INF/maven/log4j/log4j/pom.properties"
# The 1.x CVEs and the class each needs, with the classes whose presence
# (or, for chainsaw, whose use by the reader) is the fix: from the corpus
# README's status rules.
L1 = "org.apache.log4j."
L1_CVES = {
    "CVE-2019-17571": (["net.SocketServer"], "net.HardenedObjectInputStream"),
    "CVE-2021-4104": (["net.JMSAppender"], None),
    "CVE-2022-23302": (["net.JMSSink"], None),
    "CVE-2022-23305": (["jdbc.JDBCAppender"], "jdbc.JdbcPatternParser"),
    "CVE-2022-23307": (["chainsaw.Main", "chainsaw.LoggingReceiver", "chainsaw.EventDetails"], "slurper"),
}
L1_NEEDS = sorted({c for cls, _ in L1_CVES.values() for c in cls})
L1_PROBES = L1_NEEDS + ["net.HardenedObjectInputStream", "jdbc.JdbcPatternParser"]
DEBIAN_BRIDGE = "/usr/share/java/log4j-1.2-api.jar"

disagreements = []


def ok(name, cond, why=""):
    print(("ok " if cond else "not ok ") + name + ("" if cond or not why else " - " + why))
    return cond


# ------------------------------------------------------------ ground truth

def vkey(v):
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?(?:-(alpha|beta|rc)(\d+))?$", v)
    stage = {"alpha": 1, "beta": 2, "rc": 3, None: 5}[m.group(4)]
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), stage, int(m.group(5) or 0))


def manifest_rows():
    rows = []
    for line in open(CORPUS + "manifest.tsv", encoding="utf-8"):
        if line.startswith("#") or line.startswith("path\t") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        rows.append({"path": f[0], "component": f[1], "version": f[2], "status": f[3],
                     "cves": sorted([] if f[4] == "-" else f[4].split(","))})
    return rows


def core_releases():
    """{version: (jar path, CVEs of the release with JndiLookup present)}:
    one plain release jar per exact version in the manifest."""
    out = {}
    for r in manifest_rows():
        p = r["path"]
        if (r["component"] != "log4j-core" or ".." in r["version"] or "!/" in p or not p.endswith(".jar")
                or r["status"] not in ("VULNERABLE", "NOT_VULNERABLE") or "shaded" in p
                or "similar" in p or r["version"] in out):
            continue
        out[r["version"]] = (CORPUS + p, r["cves"])
    return out


def read_jar(path):
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i)) for i in z.infolist() if not i.is_dir()]


def class_refs(b):
    """Names of the CONSTANT_Class entries of a class file (an independent
    reader: the test does not trust log4scan's)."""
    n = struct.unpack(">H", b[8:10])[0]
    off, utf, cls, i = 10, {}, [], 1
    while i < n:
        t = b[off]
        if t == 1:
            ln = struct.unpack(">H", b[off + 1:off + 3])[0]
            utf[i] = b[off + 3:off + 3 + ln].decode("utf-8", "replace")
            off += 3 + ln
        elif t in (3, 4, 9, 10, 11, 12, 17, 18):
            off += 5
        elif t in (5, 6):
            off += 9
            i += 1
        elif t == 7:
            cls.append(struct.unpack(">H", b[off + 1:off + 3])[0])
            off += 3
        elif t in (8, 16, 19, 20):
            off += 3
        elif t == 15:
            off += 4
        else:
            raise ValueError("tag %d" % t)
        i += 1
    return {utf[c] for c in cls if c in utf}


class Probe:
    """One JVM running LoadProbe for all cases."""

    def __init__(self):
        d = os.path.join(OUT, "probe")
        os.makedirs(d, exist_ok=True)
        r = subprocess.run(["javac", "-nowarn", "-d", d, os.path.join(TOP, "tests/java/LoadProbe.java")],
                           capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError("javac LoadProbe: " + r.stderr[-400:])
        self.dir = d

    def ask(self, questions):
        """questions: [(location, [class...])] -> [[answer...]]"""
        text = "".join("%s\t%s\n" % (loc, "\t".join(cls)) for loc, cls in questions)
        r = subprocess.run(["java", "-cp", self.dir, "LoadProbe"], input=text, capture_output=True,
                           text=True, timeout=900)
        lines = r.stdout.splitlines()
        if len(lines) != len(questions):
            raise RuntimeError("LoadProbe answered %d of %d: %s" % (len(lines), len(questions), r.stderr[-400:]))
        return [ln.split("\t")[1:] for ln in lines]


# ------------------------------------------------------------ case writers

def write_jar(path, entries, method=zipfile.ZIP_DEFLATED):
    """Entries of 8 KiB and more DEFLATED (when method is), smaller ones
    STORED: jars mix both, and a compressor per small entry is what makes
    writing hundreds of jars slow."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with zipfile.ZipFile(path, "w", compresslevel=1) as z:
        for name, data in entries:
            m = method if len(data) >= 8192 else zipfile.ZIP_STORED
            z.writestr(zipfile.ZipInfo(name, (2021, 12, 10, 0, 0, 0)), data, compress_type=m)


def write_dir(path, entries):
    for name, data in entries:
        p = os.path.join(path, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)


def trimmed_core(rng, entries):
    """A log4j-core copy cut down for speed: its metadata, every class the
    detector fingerprints and JndiLookup needs to load (the lookup package,
    net/, pattern/MessagePatternConverter, util/), and a random sample of the
    rest (so the number of classes under the root varies)."""
    keep = []
    for name, data in entries:
        rel = name[len(CORE):] if name.startswith(CORE) else None
        if rel is None:
            keep.append((name, data))
        elif rel.startswith(("lookup/", "net/JndiManager", "pattern/MessagePatternConverter", "util/",
                             "config/plugins/Plugin")) or rng.random() < 0.08:
            keep.append((name, data))
    return keep


VENDOR = ["2.17.3", "2.99.0", "2.14.1.redhat-00001", "2.17.1.redhat-00002", "2.17.1-SNAPSHOT", "2.14.1.1",
          "3.0.0", "2.15", "2.0", "2.16.0-vendor", "1.2.17", "2.17.1-final"]
GARBAGE = ["abc", "", "${jndi:ldap://x/a}", "2.17.1 ", " ", "v2.17.1", "2.17.1\x01", "\u00e9\u00e9",
           "9" * 200, "latest", "2.x", "2.17.1;rm -rf", "\\2.17.1", '"2.17.1"']


def random_claim(rng, releases):
    k = rng.random()
    if k < 0.45:
        return rng.choice(releases)
    if k < 0.75:
        return rng.choice(VENDOR)
    if k < 0.95:
        return rng.choice(GARBAGE)
    return "".join(chr(rng.randrange(0x21, 0x250)) for _ in range(rng.randrange(1, 30)))


def set_pom_version(entries, pom, claim):
    out = []
    for name, data in entries:
        if name == pom:
            text = data.decode("latin-1")
            text = re.sub(r"(?m)^version=.*$", lambda m: "version=" + claim, text)
            data = text.encode("utf-8", "surrogateescape")
        out.append((name, data))
    return out


def set_manifest_version(entries, claim):
    out = []
    for name, data in entries:
        if name == "META-INF/MANIFEST.MF":
            text = data.decode("latin-1")
            text = re.sub(r"(?m)^Implementation-Version:.*$", lambda m: "Implementation-Version: " + claim, text)
            if "Implementation-Version:" not in text:
                text = text.rstrip("\r\n") + "\r\nImplementation-Title: Apache Log4j Core\r\n" \
                                             "Implementation-Version: " + claim + "\r\n"
            data = text.encode("utf-8")
        out.append((name, data))
    return out


# ------------------------------------------------------------ families

def gen_meta(rng, n, rel, jars):
    """Family meta: metadata claims over real class sets."""
    cases = []
    versions = sorted(rel, key=vkey)
    for i in range(n):
        v = rng.choice(versions)
        entries = trimmed_core(rng, jars[v])
        drop = rng.random() < 0.3
        if drop:
            entries = [(nm, d) for nm, d in entries if nm != CORE + "lookup/JndiLookup.class"]
        how = rng.choice(["pom", "pom", "manifest", "both", "both-same"])
        recipe = ["meta", "release=" + v, "drop-jndi" if drop else "jndi"]
        claim = random_claim(rng, versions)
        claims = {}
        if how in ("pom", "both", "both-same"):
            entries = set_pom_version(entries, CORE_POM, claim)
            recipe.append("pom=%r" % claim)
            claims["pom.properties"] = claim
        if how == "manifest":
            entries = [(nm, d) for nm, d in entries if nm != CORE_POM]
        if how in ("manifest", "both", "both-same"):
            mclaim = claim if how != "both" else random_claim(rng, versions)
            entries = set_manifest_version(entries, mclaim)
            recipe.append("manifest=%r" % mclaim)
            claims["manifest"] = mclaim
        path = os.path.join(GEN, "meta", "m%04d.jar" % i)
        write_jar(path, entries)
        cases.append({"family": "meta", "path": path, "recipe": " ".join(recipe), "release": v,
                      "probe_loc": path, "core": True, "claims": claims})
    return cases


def l1_parts():
    parts = {"1.2.17": CORPUS + "log4j-samples/old-hits/log4j-1.2.17.jar",
             "1.1.3": CORPUS + "log4j-samples/old-hits/log4j-1.1.3.jar",
             "debian-1.2.17": CORPUS + "debian/liblog4j1.2-java_1.2.17-11/log4j-1.2-1.2.17.jar"}
    return {k: read_jar(p) for k, p in parts.items()}


def gen_fat(rng, n, rel, jars):
    """Family fat: jar-with-dependencies merges."""
    l1 = l1_parts()
    others = {"api-2.14.1": read_jar(CORPUS + "log4j-samples/false-hits/log4j-api-2.14.1.jar"),
              "api-2.19.0": read_jar(CORPUS + "debian/liblog4j2-java_2.19.0-2/log4j-api-2.19.0.jar"),
              "bridge-2.12.1": read_jar(CORPUS + "log4j-samples/false-hits/log4j-1.2-api-2.12.1.jar"),
              "over-slf4j": read_jar(CORPUS + "log4j-samples/false-hits/log4j-over-slf4j-1.7.32.jar"),
              "slf4j-log4j12": read_jar(CORPUS + "log4j-samples/false-hits/slf4j-log4j12-1.7.32.jar")}
    if os.path.exists(DEBIAN_BRIDGE):
        others["bridge-2.19.0"] = read_jar(DEBIAN_BRIDGE)
    bridges = [k for k in others if k.startswith(("bridge", "over"))]
    versions = sorted(rel, key=vkey)
    dangerous = ["org/apache/log4j/net/JMSAppender", "org/apache/log4j/net/SocketServer",
                 "org/apache/log4j/net/JMSSink", "org/apache/log4j/jdbc/JDBCAppender",
                 "org/apache/log4j/chainsaw/"]
    cases = []
    for i in range(n):
        parts, recipe = [], ["fat"]
        has_l1 = rng.random() < 0.8
        if has_l1:
            which = rng.choice(sorted(l1))
            gone = [d for d in dangerous if rng.random() < 0.3]
            ents = [(nm, d) for nm, d in l1[which] if not any(nm.startswith(g) for g in gone)]
            if rng.random() < 0.3 and any(nm == L1_POM for nm, _ in ents):
                claim = random_claim(rng, ["1.2.17", "1.2.15", "1.1.3", "1.2.25"] + versions[:3])
                ents = set_pom_version(ents, L1_POM, claim)
                recipe.append("l1pom=%r" % claim)
            parts.append(("l1:" + which, ents))
            recipe.append("l1=%s-without[%s]" % (which, ",".join(g.split("/")[-1] or "chainsaw" for g in gone)))
        core_v = None
        if rng.random() < 0.6:
            core_v = rng.choice(versions)
            ents = trimmed_core(rng, jars[core_v])
            if rng.random() < 0.3:
                ents = [(nm, d) for nm, d in ents if nm != CORE + "lookup/JndiLookup.class"]
                recipe.append("core=%s-drop-jndi" % core_v)
            else:
                recipe.append("core=" + core_v)
            parts.append(("core", ents))
        for k in ("api-2.14.1", "api-2.19.0", "slf4j-log4j12"):
            if rng.random() < 0.4:
                parts.append((k, others[k]))
        nb = rng.choice([0, 1, 1, 2])
        for k in rng.sample(bridges, min(nb, len(bridges))):
            parts.append((k, others[k]))
        rng.shuffle(parts)
        recipe.append("order=" + ",".join(k for k, _ in parts))
        merged, seen = [], set()
        for _, ents in parts:
            for nm, d in ents:
                if nm not in seen:
                    seen.add(nm)
                    merged.append((nm, d))
        # which 1.x Category won, for the inventory check
        cat_from = next((k for k, ents in parts for nm, _ in ents if nm == "org/apache/log4j/Category.class"), None)
        as_dir = rng.random() < 0.2
        path = os.path.join(GEN, "fat", "f%04d" % i + ("" if as_dir else ".jar"))
        if as_dir:
            write_dir(path, merged)
        else:
            write_jar(path, merged)
        slurper = dict(merged).get("org/apache/log4j/chainsaw/LoggingReceiver$Slurper.class")
        cases.append({"family": "fat", "path": path, "recipe": " ".join(recipe + ["dir" if as_dir else "jar"]),
                      "release": core_v, "probe_loc": path, "core": core_v is not None, "l1": True,
                      "has_l1_part": has_l1, "category_from": cat_from,
                      "slurper_hardened": slurper is not None and
                      "org/apache/log4j/net/HardenedLoggingEventInputStream" in class_refs(slurper)})
    return cases


def gen_suffix(rng, n, rel, jars):
    """Family suffix: a copy's own suffix, and strays of other suffixes."""
    versions = sorted((v for v in rel if any(nm == CORE + "lookup/JndiLookup.class" for nm, _ in jars[v])),
                      key=vkey)
    cases = []
    for i in range(n):
        v = rng.choice(versions)
        ents = trimmed_core(rng, jars[v])
        classes = [(nm, d) for nm, d in ents if nm.endswith(".class") and nm.startswith(CORE)]
        rest = [(nm, d) for nm, d in ents if not (nm.endswith(".class") and nm.startswith(CORE))]
        jl = CORE + "lookup/JndiLookup.class"
        jl_bytes = dict(classes)[jl]
        agent = rng.random() < 0.4
        suf = rng.choice([".classdata", ".esclazz"])
        drop = rng.random() < 0.5
        recipe = ["suffix", "release=" + v, "drop-jndi" if drop else "jndi"]
        if not agent:
            own = [(nm, d) for nm, d in classes if not (drop and nm == jl)]
            k = rng.randrange(1, 6)
            strays = [(nm[:-6] + rng.choice([".classdata", ".esclazz"]), d) for nm, d in rng.sample(classes, k)]
            if rng.random() < 0.7:
                strays.append((jl[:-6] + suf, jl_bytes))
            recipe.append("plain+%d-strays%s" % (len(strays), "+jndi-stray" if any(
                s[0].startswith(jl[:-6]) for s in strays) else ""))
            entries = rest + own + list(dict(strays).items())
            view = None
        else:
            prefix = rng.choice(["", "agent/", "inst/"])
            own = [(prefix + nm[:-6] + suf, d) for nm, d in classes if not (drop and nm == jl)]
            k = rng.randrange(0, 4)
            strays = [(prefix + nm, d) for nm, d in rng.sample(classes, k)]
            if drop and rng.random() < 0.5:
                strays.append((prefix + jl, jl_bytes))  # a stray JndiLookup.class in the agent's copy
            recipe.append("agent%s prefix=%r +%d-strays" % (suf, prefix, len(strays)))
            entries = rest + own + list(dict(strays).items())
            # the agent's class loader sees its own entries as classes
            view = rest + [(nm[len(prefix):-len(suf)] + ".class", d) for nm, d in own]
        path = os.path.join(GEN, "suffix", "s%04d.jar" % i)
        write_jar(path, entries)
        loc = path
        if view is not None:
            loc = os.path.join(GEN, "views", "s%04d.jar" % i)
            write_jar(loc, view, zipfile.ZIP_STORED)
        cases.append({"family": "suffix", "path": path, "recipe": " ".join(recipe), "release": v,
                      "probe_loc": loc, "core": True})
    return cases


# ------------------------------------------------------------ judging

def contains(reported, v):
    if ".." in reported:
        lo, hi = reported.split("..")
        try:
            return vkey(lo) <= vkey(v) <= vkey(hi)
        except (AttributeError, TypeError):
            return False
    m = re.match(r"(\d+\.\d+(?:\.\d+)?(?:-(?:alpha|beta|rc)\d+)?)", reported or "")
    if not m:
        return False
    try:
        return vkey(m.group(1)) == vkey(v)
    except (AttributeError, TypeError):
        return False


KEYS = ["lookup/Interpolator.class", "lookup/JndiLookup.class", "net/JndiManager.class",
        "pattern/MessagePatternConverter.class"]


def twins(jars, keys):
    """{release: releases whose key class files (the ones the detector
    fingerprints, of those the case holds) are byte-identical to its own}:
    no class evidence can tell them apart (2.1, 2.2 and 2.3 ship the same
    four), so metadata naming one of them is consistent with the classes."""
    sig = {v: tuple(dict(ents).get(CORE + k) for k in keys) for v, ents in jars.items()}
    return {v: {w for w in sig if sig[w] == sig[v]} for v in sig}


def judge_core(case, f, loads, rel, twin):
    """Problems with the log4j-core finding f (None: no finding)."""
    v = case["release"]
    cves_full = rel[v][1]
    affected = any(c in cves_full for c in LOG4SHELL)
    if loads:
        want_cves = cves_full
        want_status = "vulnerable" if cves_full else "safe"
    else:
        want_cves = [c for c in cves_full if c not in LOG4SHELL]
        want_status = "mitigated" if affected else ("vulnerable" if want_cves else "safe")
    if f is None:
        return ["no log4j-core finding (JndiLookup %s, release %s)" % ("loads" if loads else "absent", v)]
    probs = []
    got_l4s = sorted(c for c in f["cves"] if c in LOG4SHELL)
    want_l4s = sorted(c for c in want_cves if c in LOG4SHELL)
    if got_l4s != want_l4s:
        probs.append("Log4Shell CVEs %s, JVM says %s (JndiLookup %s)" % (got_l4s, want_l4s,
                                                                         "loads" if loads else "absent"))
    missing = sorted(set(want_cves) - set(f["cves"]))
    if missing:
        probs.append("missing %s" % missing)
    if ".." not in f["version"] and sorted(f["cves"]) != sorted(want_cves):
        probs.append("cves %s != %s" % (sorted(f["cves"]), sorted(want_cves)))
    if f["status"] != want_status:
        probs.append("status %s != %s" % (f["status"], want_status))
    claims = case.get("claims", {})
    src = f["version_source"]
    if src in claims and f["version"] != claims[src]:
        probs.append("version %r from %s, which says %r" % (f["version"], src, claims[src]))
    if src == "bytecode-over-metadata" and not any(" says " in e for e in f["evidence"]):
        probs.append("the claim the class files overruled is not in the evidence")
    if src == "bytecode-over-metadata" and not claims and case["family"] == "meta":
        probs.append("bytecode-over-metadata without a claim")
    same = twin[loads][v]
    if not any(contains(f["version"], w) for w in same):
        probs.append("version %r (%s) does not hold the classes' %s" % (f["version"], f["version_source"],
                                                                         "/".join(sorted(same, key=vkey))))
    return probs


def ships(answer):
    """The JVM found and defined the class from the case, up to a supertype
    from an API the application supplies where the class is used (JMSSink
    implements javax.jms.MessageListener, which Java 17 does not have)."""
    return answer == "loaded" or answer.startswith("error:NoClassDefFoundError: javax/")


def judge_l1(case, f, ans):
    """Problems with the 1.x finding f (None: none) given the JVM's answers
    {simple name: answer}."""
    loads = {k: ships(a) for k, a in ans.items()}
    want = []
    for cve, (need, fix) in sorted(L1_CVES.items()):
        if not any(loads[c] for c in need):
            continue
        if fix == "slurper":
            if case["slurper_hardened"]:
                continue
        elif fix and loads[fix]:
            continue
        want.append(cve)
    probs = []
    if f is None:
        if want:
            probs.append("no log4j-1.x finding, but the JVM loads the classes of %s" % want)
        elif case["has_l1_part"] and case["category_from"] and case["category_from"].startswith("l1:"):
            probs.append("no log4j-1.x finding for a 1.x copy (Category from %s)" % case["category_from"])
        return probs
    if not case["has_l1_part"]:
        probs.append("log4j-1.x reported where only bridges are (%s)" % f["version"])
    if sorted(f["cves"]) != want:
        probs.append("1.x cves %s, JVM says %s" % (sorted(f["cves"]), want))
    if f["status"] != ("vulnerable" if want else "safe"):
        probs.append("1.x status %s" % f["status"])
    return probs


# ------------------------------------------------------------ reload4j

# reload4j (ch.qos.reload4j, the maintained fork of 1.2.17) is not on this
# machine; these classes have the shape of its fixes, written here: JMS
# names looked up through net/JNDIUtil (which allows java: names only),
# chainsaw's reader and SocketNode through hardened streams.
RELOAD4J_SRC = {
    "org/apache/log4j/net/JNDIUtil.java": """package org.apache.log4j.net;
public class JNDIUtil {
    public static Object lookupObject(javax.naming.Context c, String n) throws javax.naming.NamingException {
        if (n == null || !n.startsWith("java:")) throw new javax.naming.NamingException("only java: names: " + n);
        return c.lookup(n);
    }
}""",
    "org/apache/log4j/net/JMSAppender.java": """package org.apache.log4j.net;
public class JMSAppender extends org.apache.log4j.AppenderSkeleton {
    Object topic;
    public void activateOptions() {
        try { topic = JNDIUtil.lookupObject(new javax.naming.InitialContext(), "java:comp/env/jms/t"); }
        catch (javax.naming.NamingException e) { errorHandler.error("lookup failed: " + e); }
    }
    protected void append(org.apache.log4j.spi.LoggingEvent e) { }
    public void close() { }
    public boolean requiresLayout() { return false; }
}""",
    "org/apache/log4j/net/JMSSink.java": """package org.apache.log4j.net;
public class JMSSink {
    public static void main(String[] a) throws Exception {
        JNDIUtil.lookupObject(new javax.naming.InitialContext(), a[0]);
    }
}""",
    "org/apache/log4j/net/HardenedLoggingEventInputStream.java": """package org.apache.log4j.net;
public class HardenedLoggingEventInputStream extends java.io.ObjectInputStream {
    public HardenedLoggingEventInputStream(java.io.InputStream in) throws java.io.IOException { super(in); }
}""",
    "org/apache/log4j/chainsaw/LoggingReceiver.java": """package org.apache.log4j.chainsaw;
class LoggingReceiver extends Thread {
    LoggingReceiver(MyTableModel m, int port) { }
    private class Slurper implements Runnable {
        public void run() {
            try { new org.apache.log4j.net.HardenedLoggingEventInputStream(System.in).readObject(); }
            catch (Exception e) { }
        }
    }
}""",
}


def reload4j_case(probe):
    """A 1.2.17 jar with reload4j-shaped fixes and reload4j's pom: reported
    as log4j-1.x with reload4j's version, its JMSAppender loading (the JVM
    sees it) yet not CVE-2021-4104, because what it calls is the fix; and
    the same jar with JMSAppender's fix only (the shape of 1.2.18.0)."""
    src = os.path.join(OUT, "reload4j-src")
    cls = os.path.join(OUT, "reload4j-classes")
    for rel, text in RELOAD4J_SRC.items():
        os.makedirs(os.path.dirname(os.path.join(src, rel)), exist_ok=True)
        open(os.path.join(src, rel), "w").write(text)
    l117 = CORPUS + "log4j-samples/old-hits/log4j-1.2.17.jar"
    r = subprocess.run(["javac", "-nowarn", "-cp", l117, "-d", cls] +
                       [os.path.join(src, rel) for rel in RELOAD4J_SRC], capture_output=True, text=True)
    if not ok("jvm-detect: reload4j-shaped classes compile", r.returncode == 0, r.stderr[-400:]):
        return
    built = {}
    for root, _, files in os.walk(cls):
        for fn in files:
            p = os.path.join(root, fn)
            built[os.path.relpath(p, cls)] = open(p, "rb").read()
    base = read_jar(l117)
    hardened = read_jar(CORPUS + "debian/liblog4j1.2-java_1.2.17-11/log4j-1.2-1.2.17.jar")
    extra = [(n, d) for n, d in hardened if n.endswith(("net/HardenedObjectInputStream.class",
                                                       "jdbc/JdbcPatternParser.class"))]
    pom = ("META-INF/maven/ch.qos.reload4j/reload4j/pom.properties", b"groupId=ch.qos.reload4j\nversion=1.2.25\n")
    full = dict(base)
    full.update(built)
    full.update(extra)
    full = [(n, d) for n, d in full.items() if n != L1_POM] + [pom]
    early = dict(base)
    early.update({k: v for k, v in built.items() if "JMSAppender" in k or "JNDIUtil" in k})
    early.update({n: d for n, d in extra if "Hardened" in n})
    early = [(n, d) for n, d in early.items() if n != L1_POM]
    paths = {k: os.path.join(OUT, "reload4j", k + ".jar") for k in ("full", "early")}
    write_jar(paths["full"], full)
    write_jar(paths["early"], early)
    ans = probe.ask([(paths["full"], [L1 + "net.JMSAppender", L1 + "net.JMSSink"])])[0]
    ok("jvm-detect: the reload4j-shaped JMSAppender loads", ships(ans[0]) and ships(ans[1]), repr(ans))
    p = subprocess.run([L4S, "scan", "--format", "json", os.path.join(OUT, "reload4j")], capture_output=True,
                       text=True)
    fs = {r["path"]: r for r in map(json.loads, p.stdout.splitlines()) if r.get("kind") == "finding"}
    f = fs.get(paths["full"])
    ok("jvm-detect: reload4j-shaped copy is log4j-1.x 1.2.25, safe",
       f is not None and f["component"] == "log4j-1.x" and f["version"] == "1.2.25" and f["status"] == "safe",
       repr(f and (f["component"], f["version"], f["status"], f["cves"])))
    ok("jvm-detect: reload4j-shaped evidence names the fixes",
       f is not None and any("CVE-2021-4104 does not apply: net/JMSAppender refers to net/JNDIUtil" in e
                             for e in f["evidence"]), repr(f and f["evidence"]))
    f = fs.get(paths["early"])
    ok("jvm-detect: only JMSAppender fixed (1.2.18.0's shape): the other CVEs stay",
       f is not None and f["cves"] == ["CVE-2022-23302", "CVE-2022-23305", "CVE-2022-23307"],
       repr(f and f["cves"]))


def main():
    rng = random.Random(SEED)
    shutil.rmtree(GEN, ignore_errors=True)
    rel = core_releases()
    jars = {v: read_jar(p) for v, (p, _) in rel.items()}
    twin = {True: twins(jars, KEYS), False: twins(jars, [k for k in KEYS if "JndiLookup" not in k])}
    n = lambda k: max(4, int(k * SCALE))
    cases = gen_meta(rng, n(260), rel, jars) + gen_fat(rng, n(220), rel, jars) + gen_suffix(rng, n(220), rel, jars)

    t0 = time.monotonic()
    probe = Probe()
    questions = []
    for c in cases:
        cls = ([JNDI] if c["core"] else []) + ([L1 + k for k in L1_PROBES] if c.get("l1") else [])
        questions.append((c["probe_loc"], cls))
    answers = probe.ask(questions)
    t1 = time.monotonic()

    p = subprocess.run(["timeout", "600", L4S, "scan", "--format", "json", "--threads", "2", GEN],
                       capture_output=True)
    print("# generated %d cases, JVM %.0f s, scan %.0f s" % (len(cases), t1 - t0, time.monotonic() - t1))
    ok("jvm-detect: scan ran", p.returncode in (0, 1), "exit %d: %s" % (p.returncode, p.stderr[-300:]))
    by_path, errors = {}, {}
    for line in p.stdout.splitlines():
        r = json.loads(line)
        if r.get("kind") == "finding":
            by_path.setdefault(r["path"], []).append(r)
        elif r.get("kind") == "error":
            errors.setdefault(r["path"], []).append(r["error"])

    stats = {}
    for c, ans in zip(cases, answers):
        fam = c["family"]
        st = stats.setdefault(fam, [0, 0])
        st[0] += 1
        fs = by_path.get(c["path"], [])
        probs = []
        a = list(ans)
        if c["core"]:
            jl = a.pop(0)
            if jl.startswith("error:"):
                probs.append("the case is broken, JVM: " + jl)
            core = [f for f in fs if f["component"] == "log4j-core"]
            if len(core) > 1:
                probs.append("%d log4j-core findings" % len(core))
            probs += judge_core(c, core[0] if core else None, jl == "loaded", rel, twin)
        elif any(f["component"] == "log4j-core" for f in fs):
            probs.append("log4j-core reported where there is none")
        if c.get("l1"):
            l1 = [f for f in fs if f["component"] == "log4j-1.x"]
            if len(l1) > 1:
                probs.append("%d log4j-1.x findings" % len(l1))
            probs += judge_l1(c, l1[0] if l1 else None, dict(zip(L1_PROBES, a)))
        else:
            probs += ["log4j-1.x reported" for f in fs if f["component"] == "log4j-1.x"]
        probs += ["error record: %s" % e for path, es in errors.items()
                  if path == c["path"] or path.startswith(c["path"] + "!/") or path.startswith(c["path"] + "/")
                  for e in es]
        if probs:
            st[1] += 1
            disagreements.append("%s\t%s\t%s" % (os.path.relpath(c["path"], GEN), c["recipe"], "; ".join(probs)))
    with open(os.path.join(OUT, "disagreements.txt"), "w") as f:
        f.write("".join(d + "\n" for d in disagreements))
    labels = {"meta": "metadata claims over class files (point 5)",
              "fat": "Log4j 1.x per copy in merged jars and directories (point 6)",
              "suffix": "renamed class suffixes with their copy (point 8)"}
    for fam in ("meta", "fat", "suffix"):
        total, bad = stats.get(fam, [0, 0])
        first = next((d for d in disagreements if d.startswith(fam[0])), "")
        ok("jvm-detect: %s: %d cases agree with the JVM (seed %d)" % (labels[fam], total - bad, SEED),
           total > 0 and bad == 0, "%d of %d disagree; first: %s" % (bad, total, first))
    reload4j_case(probe)
    print("# %d cases, %d disagreements (seed %d; see %s)" % (
        len(cases), len(disagreements), SEED, os.path.join(OUT, "disagreements.txt")))
    # the cases must exercise both sides of every decision
    loads = [a[0] == "loaded" for c, a in zip(cases, answers) if c["core"]]
    ok("jvm-detect: JndiLookup both loads and does not", any(loads) and not all(loads))
    l1_any = [any(ships(x) for x in a[(1 if c["core"] else 0):][:len(L1_NEEDS)])
              for c, a in zip(cases, answers) if c.get("l1")]
    ok("jvm-detect: 1.x dangerous classes both load and do not", any(l1_any) and not all(l1_any))
    shutil.rmtree(GEN, ignore_errors=True)


main()
