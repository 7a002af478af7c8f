#!/usr/bin/env python3
"""t_tar.py - tarballs and container images (issue #9), end to end with the
ASan+UBSan agent ($L4S).

Everything is built here at test time from corpus jars, with Python's
tarfile/gzip/lzma/bz2 and the zstd CLI; no container engine:
  - a distribution tarball in every compression (tar, tgz, tar.gz, tar.xz,
    tar.bz2, tar.zst) holding jars, a war that holds a jar (tar.gz -> war ->
    jar), a tarball inside the tarball, and exploded Log4j classes;
  - a `docker save` image (legacy layout: NAME/layer.tar, config with
    diff_ids, manifest.json after the layers, layers out of order in the
    stream, a layer shared through a symlink by a second image) where a jar
    is deleted by a whiteout, a directory is made opaque and a jar is
    replaced in later layers, plus a fat jar; the same image gzipped;
  - an OCI image layout (index.json -> nested index -> manifest, gzip and
    zstd layers, a platform whose blobs are absent) as a tarball and as a
    directory;
then hostile inputs: corrupt gzip, truncated tar, absurd header sizes
(octal and base-256), a tar bomb (ratio guard, bounded memory), a jar above
--max-nested-size (streamed), a plain .gz log (no error), a .tar.gz that is no tar."""
import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import resource
import shutil
import subprocess
import tarfile
import zipfile

L4S = os.environ.get("L4S", "build/san/log4scan")
L4S_PLAIN = os.environ.get("L4S_PLAIN", "build/log4scan")
CORPUS = os.environ.get("CORPUS", "../shared/corpus").rstrip("/") + "/"
# $OUT holds the driver's own files: work below it
OUT = os.path.join(os.path.abspath(os.environ.get("OUT", "tests/out/t_tar")), "work")

J = {
    "core2141": "log4j-samples/true-hits/log4j-core-2.14.1.jar",
    "core2171": "log4j-samples/false-hits/log4j-core-2.17.1.jar",
    "core2121": "log4j-samples/true-hits/log4j-core-2.12.1.jar",
    "core23": "log4j-samples/true-hits/log4j-core-2.3.jar",
    "beta9": "log4j-samples/true-hits/log4j-core-2.0-beta9.jar",
    "l1": "log4j-samples/old-hits/log4j-1.2.17.jar",
    "fat": "log4j-samples/true-hits/shaded/clt-1.0-SNAPSHOT.jar",
}
VERSION = {"core2141": "2.14.1", "core2171": "2.17.1", "core2121": "2.12.1", "core23": "2.3",
           "beta9": "2.0-beta9", "l1": "1.2.17", "fat": "2.14.1"}
EXPLODED = "log4j-samples/true-hits/exploded/2.12.1"


def ok(name, cond, why=""):
    print(("ok " if cond else "not ok ") + name + ("" if cond else " - " + str(why)[:400]))
    return cond


def jar(key):
    with open(CORPUS + J[key], "rb") as f:
        return f.read()


def mktar(entries):
    """entries: (name, bytes) files, (name, None) directories, (name, ('sym', target))."""
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if data is None:
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            elif isinstance(data, tuple):
                ti.type = tarfile.SYMTYPE
                ti.linkname = data[1]
                t.addfile(ti)
            else:
                ti.size = len(data)
                ti.mode = 0o644
                t.addfile(ti, io.BytesIO(data))
    return b.getvalue()


def zstd(data):
    return subprocess.run(["zstd", "-q", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout


def write(name, data):
    p = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    return p


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def scan(*paths, args=(), binary=L4S):
    p = subprocess.run([binary, "scan", "--format", "json", *args, *paths], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=900)
    recs = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        try:
            recs.append(json.loads(line))
        except ValueError:
            recs.append({"kind": "garbage", "line": line})
    return p, recs


def findings(recs):
    return [r for r in recs if r.get("kind") == "finding"]


def errors(recs):
    return [r for r in recs if r.get("kind") == "error"]


def sanitizer_clean(p, name):
    err = p.stderr.decode("utf-8", "replace")
    bad = [w for w in ("AddressSanitizer", "LeakSanitizer", "runtime error", "UndefinedBehavior") if w in err]
    return ok(name + ": no sanitizer report", not bad, err[-600:])


def expect(recs, path, version, status=None, name=None, extra=None):
    img = (extra or {}).get("image")
    got = [f for f in findings(recs) if f["path"] == path and (img is None or f.get("image") == img)]
    label = name or path[len(OUT) + 1:]
    if not ok("finding %s" % label, len(got) == 1,
              "want one finding at %s (image %s), got %d; findings: %s" % (path, img, len(got),
                                                                [f["path"] for f in findings(recs)])):
        return None
    f = got[0]
    ok("version %s = %s" % (label, version), f["version"] == version, f["version"])
    if status:
        ok("status %s = %s" % (label, status), f["status"] == status, f["status"])
    for k, v in (extra or {}).items():
        ok("%s %s = %r" % (k, label, v), f.get(k) == v, "got %r" % f.get(k))
    return f


# ---------------------------------------------------------------- tarballs

def distribution():
    war = io.BytesIO()
    with zipfile.ZipFile(war, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("WEB-INF/web.xml", "<web-app/>")
        z.writestr("WEB-INF/lib/log4j-core-2.12.1.jar", jar("core2121"))
    inner = gzip.compress(mktar([("lib/log4j-core-2.3.jar", jar("core23"))]))
    entries = [("app-1.2", None), ("app-1.2/README", b"hello\n" * 100),
               ("app-1.2/lib/log4j-core-2.14.1.jar", jar("core2141")),
               ("app-1.2/lib/log4j-core-2.17.1.jar", jar("core2171")),
               ("app-1.2/lib/renamed.bin", jar("l1")),           # zip by content, not name
               ("app-1.2/webapps/x.war", war.getvalue()),
               ("app-1.2/bundle/inner.tar.gz", inner),
               ("app-1.2/logs/old.log.gz", gzip.compress(b"GET / 200\n" * 1000))]
    root = CORPUS + EXPLODED
    for d, _, files in sorted(os.walk(root)):
        for fn in sorted(files):
            full = os.path.join(d, fn)
            with open(full, "rb") as f:
                entries.append(("app-1.2/classes/" + os.path.relpath(full, root), f.read()))
    # last member a jar: the zip reader's trailing-junk tolerance must not win
    entries.append(("app-1.2/zz/log4j-core-2.0-beta9.jar", jar("beta9")))
    return mktar(entries)


def test_distribution():
    plain = distribution()
    kinds = {"app.tar": plain, "app.tgz": gzip.compress(plain), "app.tar.gz": gzip.compress(plain),
             "app.tar.xz": lzma.compress(plain), "app.tar.bz2": bz2.compress(plain),
             "app.tar.zst": zstd(plain), "app-noext-gz": gzip.compress(plain)}
    for n, data in kinds.items():
        write("dist/" + n, data)
    p, recs = scan(os.path.join(OUT, "dist"))
    sanitizer_clean(p, "distribution")
    ok("distribution: exit 1 (vulnerable)", p.returncode == 1, p.returncode)
    ok("distribution: no error record", not errors(recs), errors(recs))
    for n in kinds:
        t = os.path.join(OUT, "dist", n)
        expect(recs, t + "!/app-1.2/lib/log4j-core-2.14.1.jar", "2.14.1", "vulnerable")
        expect(recs, t + "!/app-1.2/lib/log4j-core-2.17.1.jar", "2.17.1", "safe")
        expect(recs, t + "!/app-1.2/lib/renamed.bin", "1.2.17")
        expect(recs, t + "!/app-1.2/webapps/x.war!/WEB-INF/lib/log4j-core-2.12.1.jar", "2.12.1", "vulnerable")
        expect(recs, t + "!/app-1.2/bundle/inner.tar.gz!/lib/log4j-core-2.3.jar", "2.3", "vulnerable")
        expect(recs, t + "!/app-1.2/classes", "2.12.1", "vulnerable")
        expect(recs, t + "!/app-1.2/zz/log4j-core-2.0-beta9.jar", "2.0-beta9", "vulnerable")
        n_here = [f for f in findings(recs) if f["path"].startswith(t + "!/")]
        ok("distribution %s: exactly 7 findings" % n, len(n_here) == 7, [f["path"] for f in n_here])
    summ = recs[-1] if recs else {}
    ok("distribution: summary last", summ.get("kind") == "summary", summ)


# ---------------------------------------------------------------- images

def layers():
    """Three layers: L1 base, L2 deletes and adds, L3 hides and replaces."""
    l1 = mktar([("etc", None), ("etc/os-release", b"ID=test\n"), ("opt", None), ("opt/app", None),
                ("opt/app/lib", None),
                ("opt/app/lib/log4j-core-2.14.1.jar", jar("core2141")),
                ("opt/app/lib/log4j-1.2.17.jar", jar("l1")),
                ("opt/old/log4j-core-2.3.jar", jar("core23")),
                ("./srv/lib/log4j-core.jar", jar("beta9"))])
    l2 = mktar([("opt/app/lib/.wh.log4j-core-2.14.1.jar", b""),
                ("opt/app/lib/log4j-core-2.17.1.jar", jar("core2171")),
                ("opt/fat/app.jar", jar("fat"))])
    l3 = mktar([("opt/old", None), ("opt/old/.wh..wh..opq", b""),
                ("srv/lib/log4j-core.jar", jar("core2121"))])
    return l1, l2, l3


def check_image(recs, prefix, digests, image, tag, label):
    """prefix: the image file/dir path; digests: layer digests L1..L3."""
    d1, d2, d3 = digests
    base = {"image": image, "tag": tag}

    def e(d, p, v, final, note_has=None, st=None):
        f = expect(recs, "%s!/%s!/%s" % (prefix, d, p), v, st, name="%s %s %s" % (label, d[:15], p),
                   extra=dict(base, layer=d, in_final_image=final))
        if f is not None and note_has:
            ok("%s note for %s mentions %s" % (label, p, note_has), note_has in (f.get("note") or ""), f.get("note"))
        if f is not None and final:
            ok("%s no note for %s" % (label, p), "note" not in f, f.get("note"))

    e(d1, "opt/app/lib/log4j-core-2.14.1.jar", "2.14.1", False, d2, "vulnerable")
    e(d1, "opt/app/lib/log4j-1.2.17.jar", "1.2.17", True)
    e(d1, "opt/old/log4j-core-2.3.jar", "2.3", False, d3)
    e(d1, "srv/lib/log4j-core.jar", "2.0-beta9", False, d3)
    e(d2, "opt/app/lib/log4j-core-2.17.1.jar", "2.17.1", True, None, "safe")
    e(d2, "opt/fat/app.jar", "2.14.1", True, None, "vulnerable")
    e(d3, "srv/lib/log4j-core.jar", "2.12.1", True)
    mine = [f for f in findings(recs) if f["path"].startswith(prefix + "!/") and f.get("image") == image]
    ok("%s: exactly 7 findings for %s" % (label, image), len(mine) == 7, [f["path"] for f in mine])
    removed = [f for f in findings(recs) if f.get("note")]
    ok("%s: whiteout note says not in the final image" % label,
       all("not in the final image" in f["note"] for f in removed) and removed, removed[:1])
    ok("%s: deleted jar is a whiteout" % label,
       any("whiteout" in f["note"] and f["path"].endswith("log4j-core-2.14.1.jar") for f in removed))
    ok("%s: opaque directory hides" % label,
       any("opaque" in f["note"] and f["path"].endswith("log4j-core-2.3.jar") for f in removed))
    ok("%s: replaced file" % label,
       any("replaced" in f["note"] and f["path"].endswith("srv/lib/log4j-core.jar") for f in removed))


def docker_save():
    l1, l2, l3 = layers()
    ids = [hashlib.sha256(b"v1id" + bytes([i])).hexdigest() for i in range(3)]
    diff = [sha(x) for x in (l1, l2, l3)]
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": diff}}).encode()
    cfgname = hashlib.sha256(config).hexdigest() + ".json"
    base_cfg = json.dumps({"rootfs": {"type": "layers", "diff_ids": diff[:1]}}).encode()
    base_cfgname = hashlib.sha256(base_cfg).hexdigest() + ".json"
    manifest = json.dumps([
        {"Config": cfgname, "RepoTags": ["example/app:1.2"],
         "Layers": ["%s/layer.tar" % i for i in ids]},
        {"Config": base_cfgname, "RepoTags": ["registry.local:5000/example/base:latest"],
         "Layers": ["dup/layer.tar"]},
        {"Config": base_cfgname, "RepoTags": None, "Layers": ["dup/layer.tar"]},
    ]).encode()
    # stream order: layers reversed, the symlinked duplicate first, documents last
    entries = [("dup", None), ("dup/layer.tar", ("sym", "../%s/layer.tar" % ids[0]))]
    for i in (2, 1, 0):
        entries += [(ids[i], None), ("%s/VERSION" % ids[i], b"1.0"), ("%s/json" % ids[i], b"{}"),
                    ("%s/layer.tar" % ids[i], (l1, l2, l3)[i])]
    entries += [(cfgname, config), (base_cfgname, base_cfg), ("manifest.json", manifest),
                ("repositories", b"{}")]
    return mktar(entries), diff, base_cfgname


def test_docker():
    img, diff, base_cfg = docker_save()
    p1 = write("img/image.tar", img)
    p2 = write("img/image-gz.tar.gz", gzip.compress(img))
    p, recs = scan(os.path.join(OUT, "img"))
    sanitizer_clean(p, "docker save")
    ok("docker save: no error record", not errors(recs), errors(recs))
    for path, label in ((p1, "docker"), (p2, "docker gz")):
        check_image(recs, path, diff, "example/app", "1.2", label)
        # second image shares layer 1 through a symlink: its jar is in its final filesystem
        expect(recs, "%s!/%s!/opt/app/lib/log4j-core-2.14.1.jar" % (path, diff[0]), "2.14.1", "vulnerable",
               name="%s shared layer in base image" % label,
               extra={"image": "registry.local:5000/example/base", "tag": "latest", "in_final_image": True})
        # untagged image: named by its config digest, no tag
        untagged = [f for f in findings(recs) if f["path"].startswith(path + "!/")
                    and f.get("image") == "sha256:" + base_cfg[:-5]]
        ok("%s untagged image named by config digest" % label, len(untagged) == 4 and
           all("tag" not in f for f in untagged), [(f["path"], f.get("tag")) for f in untagged])
    s = recs[-1] if recs else {}
    nf = len(findings(recs))
    tot = sum(s.get("findings", {}).values()) if s.get("kind") == "summary" else -1
    ok("docker save: summary counts every finding record", tot == nf, "summary %d, records %d" % (tot, nf))
    # text format keeps copies of findings: image fields must copy cleanly
    pt = subprocess.run([L4S, "scan", "--format", "text", p1], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sanitizer_clean(pt, "docker save text")
    out = pt.stdout.decode("utf-8", "replace")
    ok("docker save text: names the image", "image example/app:1.2" in out, out[:300])
    ok("docker save text: says not in the final image", "not in the final image filesystem" in out)


def oci_layout():
    l1, l2, l3 = layers()
    blobs = {}

    def blob(data):
        d = sha(data)
        blobs["blobs/sha256/" + d[7:]] = data
        return d

    lay = [gzip.compress(l1), zstd(l2), l3]  # gzip, zstd and plain layers
    mt = ["application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.oci.image.layer.v1.tar+zstd",
          "application/vnd.oci.image.layer.v1.tar"]
    cfg = json.dumps({"rootfs": {"type": "layers", "diff_ids": [sha(x) for x in (l1, l2, l3)]}}).encode()
    cd = blob(cfg)
    digests = [blob(x) for x in lay]
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd,
                                 "size": len(cfg)},
                      "layers": [{"mediaType": m, "digest": d, "size": len(x)}
                                 for m, d, x in zip(mt, digests, lay)]}).encode()
    md = blob(man)
    absent = "sha256:" + "ab" * 32   # arm64 manifest not in this layout
    idx = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                      "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
                                     "size": len(man), "platform": {"architecture": "amd64", "os": "linux"}},
                                    {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                     "digest": absent, "size": 10,
                                     "platform": {"architecture": "arm64", "os": "linux"}}]}).encode()
    xd = blob(idx)
    top = json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": xd, "size": len(idx),
         "annotations": {"io.containerd.image.name": "docker.io/example/oci:2.0",
                         "org.opencontainers.image.ref.name": "2.0"}}]}).encode()
    files = dict(blobs)
    files["index.json"] = top
    files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
    return files, digests


def test_oci():
    files, digests = oci_layout()
    # tarball: blobs first, documents last (as docker 25 writes it)
    order = sorted(k for k in files if k.startswith("blobs/")) + ["index.json", "oci-layout"]
    t = write("oci/image-oci.tar", mktar([(k, files[k]) for k in order]))
    d = os.path.join(OUT, "ocidir", "layout")
    for k, v in files.items():
        write(os.path.join("ocidir", "layout", k), v)
    p, recs = scan(t, d)
    sanitizer_clean(p, "oci")
    ok("oci: no error record", not errors(recs), errors(recs))
    check_image(recs, t, digests, "docker.io/example/oci", "2.0", "oci tar")
    check_image(recs, d, digests, "docker.io/example/oci", "2.0", "oci dir")
    blobs_scanned = [f for f in findings(recs) if "/blobs/" in f["path"]]
    ok("oci dir: blobs not also scanned as loose files", not blobs_scanned, [f["path"] for f in blobs_scanned][:3])


# ---------------------------------------------------------------- hostile

def patch_size(tar, name, field):
    """Overwrite the size field of member `name` in a ustar/pax tar and fix
    its header checksum."""
    b = bytearray(tar)
    off = 0
    while off < len(b):
        hdr = b[off:off + 512]
        n = hdr[:100].rstrip(b"\0").decode()
        size = int(hdr[124:136].rstrip(b"\0 ") or b"0", 8)
        if n == name:
            b[off + 124:off + 136] = field
            b[off + 148:off + 156] = b" " * 8
            chk = sum(b[off:off + 512])
            b[off + 148:off + 156] = b"%06o\0 " % chk
            return bytes(b)
        off += 512 + (size + 511) // 512 * 512
    raise ValueError(name)


class Zeros(io.RawIOBase):
    def __init__(self, n):
        self.left = n

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


def test_hostile():
    plain = mktar([("lib/log4j-core-2.14.1.jar", jar("core2141")), ("lib/readme.txt", b"x" * 5000),
                   ("lib/log4j-core-2.17.1.jar", jar("core2171"))])
    gz = bytearray(gzip.compress(plain))
    for i in range(len(gz) // 2, len(gz) // 2 + 64):
        gz[i] ^= 0x5A
    write("bad/corrupt.tar.gz", bytes(gz))
    write("bad/truncated.tar", plain[:len(plain) * 6 // 10])
    small = mktar([("big.jar", b"PK\3\4" + b"\0" * 60), ("after.txt", b"after")])
    write("bad/absurd-octal.tar", patch_size(small, "big.jar", b"77777777777\0"))
    write("bad/absurd-b256.tar", patch_size(small, "big.jar", b"\x80" + b"\0" * 3 + b"\x40" + b"\0" * 7))
    write("bad/absurd-neg.tar", patch_size(small, "big.jar", b"\xff" * 12))
    write("bad/notatar.tar.gz", gzip.compress(b"just some text, not a tar\n" * 50))
    write("bad/app.log.gz", gzip.compress(b"2024-01-01 INFO started\n" * 500))
    write("bad/app.log.xz", lzma.compress(b"2024-01-01 INFO started\n" * 500))
    write("bad/good.tar", mktar([("x/log4j-core-2.14.1.jar", jar("core2141"))]))
    # tar bomb: 256 MiB of zeros in one entry, gzip -9 (about 250 KiB; ratio ~1000:1)
    bomb = os.path.join(OUT, "bomb", "bomb.tar.gz")
    os.makedirs(os.path.dirname(bomb), exist_ok=True)
    with gzip.open(bomb, "wb", compresslevel=9) as g, tarfile.open(fileobj=g, mode="w|") as t:
        ti = tarfile.TarInfo("zeros.bin")
        ti.size = 256 << 20
        t.addfile(ti, Zeros(ti.size))
        ti = tarfile.TarInfo("after/log4j-core-2.14.1.jar")
        data = jar("core2141")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    # a jar above --max-nested-size 1 (MiB): streamed front to back (same
    # verdict and hash as in memory), the rest still scanned
    write("cap/cap.tar", mktar([("a/log4j-core-2.14.1.jar", jar("core2141")), ("b/x.jar", jar("l1"))]))

    p, recs = scan(os.path.join(OUT, "bad"))
    sanitizer_clean(p, "hostile")
    errs = errors(recs)
    ep = {e["path"]: e["error"] for e in errs}

    def err_under(name):
        pre = os.path.join(OUT, "bad", name)
        return [e for e in errs if e["path"] == pre or e["path"].startswith(pre + "!/")]

    ok("corrupt gzip: error record", err_under("corrupt.tar.gz"), ep)
    ok("truncated tar: error record", err_under("truncated.tar"), ep)
    ok("truncated tar: member before the cut still found",
       any(f["path"].endswith("truncated.tar!/lib/log4j-core-2.14.1.jar") for f in findings(recs)))
    for n in ("absurd-octal.tar", "absurd-b256.tar", "absurd-neg.tar"):
        ok("%s: error record" % n, err_under(n), ep)
    ok("tar.gz that is no tar: error record", err_under("notatar.tar.gz"), ep)
    ok("plain .gz log: no error", not err_under("app.log.gz"), err_under("app.log.gz"))
    ok("plain .xz log: no error", not err_under("app.log.xz"), err_under("app.log.xz"))
    ok("scan continues past bad files", any(f["path"].endswith("good.tar!/x/log4j-core-2.14.1.jar")
                                            for f in findings(recs)), [f["path"] for f in findings(recs)])
    ok("hostile: exit 1 (vulnerable found)", p.returncode == 1, p.returncode)

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    p, recs = scan(bomb, binary=L4S_PLAIN)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    ok("tar bomb: error record names the ratio", any("ratio" in e["error"] for e in errors(recs)), errors(recs))
    ok("tar bomb: bounded memory (max RSS %d KiB)" % max(rss, before), max(rss, before) < 300 * 1024)
    p, recs = scan(bomb)
    sanitizer_clean(p, "tar bomb")
    ok("tar bomb (sanitizer build): error record", any("ratio" in e["error"] for e in errors(recs)), errors(recs))

    p, recs = scan(os.path.join(OUT, "cap"), args=("--max-nested-size", "1"))
    sanitizer_clean(p, "nested cap")
    big = [f for f in findings(recs) if f["path"].endswith("cap.tar!/a/log4j-core-2.14.1.jar")]
    ok("jar above --max-nested-size: streamed, found vulnerable with its own sha256",
       len(big) == 1 and big[0]["status"] == "vulnerable" and big[0]["version"] == "2.14.1" and
       big[0]["sha256"] == hashlib.sha256(jar("core2141")).hexdigest(), big or errors(recs))
    ok("jar above --max-nested-size: no error", not errors(recs), errors(recs))
    ok("jar below --max-nested-size: still scanned",
       any(f["path"].endswith("cap.tar!/b/x.jar") for f in findings(recs)), findings(recs))


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)  # a fresh scratch tree each run
    test_distribution()
    test_docker()
    test_oci()
    test_hostile()


main()
