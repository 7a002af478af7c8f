"""jarlab.py - build Java archives for tests, relocate Log4j to another
package for real, and ask a real JVM what it loads.

Shared by the differential tests (t_jvm_diff.py) and any test that needs
archives the way Java tools lay them out:

  zip_bytes(entries, ...)     a zip from (name, data[, method]) entries, with
                              a prefix (launch script), an archive comment,
                              STORED or DEFLATED entries
  jar_entries(path)           (name, data, method) of a jar on disk
  relocate_class(data, maps)  a class file with its package names rewritten:
                              the constant pool is parsed entry by entry
                              (JVMS 4.4) and every CONSTANT_Utf8 that names a
                              package in `maps` is rewritten -- internal names
                              (org/apache/logging/log4j/...), descriptors and
                              generic signatures (Lorg/apache/...;), and the
                              dotted form in string constants -- as a shading
                              plugin does; everything after the pool is kept
  relocate_jar(path, maps)    every entry of a jar, classes relocated and
                              renamed, resources under the package renamed
  tar_bytes(entries, ...)     a tarball (gzip/xz/bz2 or none), with hard links
  docker_save(layers, tag)    a `docker save` tarball of tar layers
  LoadProbe                   one JVM (tests/java/LoadProbe.java, compiled on
                              first use) answering "does CLASS load from
                              LOCATION" for many locations at once

Everything is built in memory from real release jars; nothing here
decides a verdict (that is the JVM's job)."""
import gzip
import hashlib
import io
import json
import lzma
import os
import bz2
import struct
import subprocess
import tarfile
import time
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
DATE = (2021, 12, 10, 12, 0, 0)


# ---------------------------------------------------------------- files

def write(root, rel, data):
    """Write data at root/rel (directories made); returns the path."""
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    return p


# ---------------------------------------------------------------- zips

def zip_bytes(entries, method=zipfile.ZIP_DEFLATED, prefix=b"", comment=b"", fix_offsets=True):
    """entries: (name, data) or (name, data, method).  prefix: bytes before
    the archive (a launch script); with fix_offsets the offsets are made
    absolute (as `zip -A` does), else left relative to the archive start
    (the JDK copes with both)."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        for e in entries:
            name, data = e[0], e[1]
            m = e[2] if len(e) > 2 else method
            info = zipfile.ZipInfo(name, DATE)
            info.compress_type = m
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
        z.comment = comment
    raw = b.getvalue()
    if not prefix:
        return raw
    if not fix_offsets:
        return prefix + raw
    return prefix + shift_offsets(raw, len(prefix))


def shift_offsets(raw, by):
    """Add `by` to every local-header offset and to the central directory
    offset of a plain (non-ZIP64) zip."""
    out = bytearray(raw)
    eocd = out.rfind(b"PK\x05\x06")
    n, cd_size, cd_off = struct.unpack("<HII", out[eocd + 10:eocd + 20])
    pos = cd_off
    for _ in range(n):
        nl, xl, cl = struct.unpack("<HHH", out[pos + 28:pos + 34])
        (lo,) = struct.unpack("<I", out[pos + 42:pos + 46])
        out[pos + 42:pos + 46] = struct.pack("<I", lo + by)
        pos += 46 + nl + xl + cl
    out[eocd + 16:eocd + 20] = struct.pack("<I", cd_off + by)
    return bytes(out)


def jar_entries(path, keep=None):
    """(name, data, method) of a jar; keep(name) filters."""
    res = []
    with zipfile.ZipFile(path) as z:
        for i in z.infolist():
            if keep and not keep(i.filename):
                continue
            res.append((i.filename, z.read(i), i.compress_type))
    return res


# ---------------------------------------------------------------- relocation

def _rewrite_utf8(b, maps):
    for old, new in maps:
        b = b.replace(old.encode(), new.encode())
        dotted_old, dotted_new = old.replace("/", "."), new.replace("/", ".")
        b = b.replace(dotted_old.encode(), dotted_new.encode())
    return b


def relocate_class(data, maps):
    """Rewrite the package names of a class file.  maps: [(old, new)] of
    internal-name prefixes ending in '/', e.g. ("org/apache/logging/log4j/",
    "com/acme/shaded/log4j/").  Returns the new class bytes."""
    if data[:4] != b"\xca\xfe\xba\xbe":
        raise ValueError("not a class file")
    (count,) = struct.unpack(">H", data[8:10])
    out = bytearray(data[:10])
    pos, i = 10, 1
    while i < count:
        tag = data[pos]
        if tag == 1:  # Utf8: u2 length, bytes (modified UTF-8; only ASCII is replaced)
            (n,) = struct.unpack(">H", data[pos + 1:pos + 3])
            s = _rewrite_utf8(data[pos + 3:pos + 3 + n], maps)
            if len(s) > 0xFFFF:
                raise ValueError("constant too long after relocation")
            out += bytes([1]) + struct.pack(">H", len(s)) + s
            pos += 3 + n
        elif tag in (3, 4):  # Integer, Float
            out += data[pos:pos + 5]
            pos += 5
        elif tag in (5, 6):  # Long, Double: two slots
            out += data[pos:pos + 9]
            pos += 9
            i += 1
        elif tag in (7, 8, 16, 19, 20):  # Class, String, MethodType, Module, Package
            out += data[pos:pos + 3]
            pos += 3
        elif tag in (9, 10, 11, 12, 17, 18):  # refs, NameAndType, Dynamic, InvokeDynamic
            out += data[pos:pos + 5]
            pos += 5
        elif tag == 15:  # MethodHandle
            out += data[pos:pos + 4]
            pos += 4
        else:
            raise ValueError("unknown constant pool tag %d at %d" % (tag, pos))
        i += 1
    out += data[pos:]
    return bytes(out)


def relocate_name(name, maps):
    for old, new in maps:
        if name.startswith(old):
            return new + name[len(old):]
    return name


def relocate_jar(path, maps, keep=None):
    """Entries of the jar at path with every class under a mapped package
    relocated (bytes and name) and resources under it renamed."""
    res = []
    for name, data, method in jar_entries(path, keep):
        if name.endswith(".class"):
            data = relocate_class(data, maps)
        res.append((relocate_name(name, maps), data, method))
    return res


def class_name(internal):
    return internal.replace("/", ".")


# ---------------------------------------------------------------- tarballs

def tar_bytes(entries, compress=None, fmt=tarfile.PAX_FORMAT):
    """entries: (name, bytes) files, (name, None) directories,
    (name, ("link", target)) hard links, (name, ("sym", target)) symlinks.
    compress: None, "gz", "xz", "bz2"."""
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt) as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1639137600
            if data is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            elif isinstance(data, tuple):
                ti.type = tarfile.LNKTYPE if data[0] == "link" else tarfile.SYMTYPE
                ti.linkname = data[1]
                t.addfile(ti)
            else:
                ti.size, ti.mode = len(data), 0o644
                t.addfile(ti, io.BytesIO(data))
    raw = b.getvalue()
    if compress == "gz":
        return gzip.compress(raw, mtime=0)
    if compress == "xz":
        return lzma.compress(raw)
    if compress == "bz2":
        return bz2.compress(raw)
    return raw


def tar_member(tar_data, name):
    """The bytes of member `name` (following hard links), read with
    Python's tarfile as an extracting tool would."""
    with tarfile.open(fileobj=io.BytesIO(tar_data), mode="r:*") as t:
        m = t.getmember(name)
        while m.islnk():
            m = t.getmember(m.linkname)
        return t.extractfile(m).read()


def docker_save(layers, tag="acme/app:1"):
    """A `docker save` tarball (Docker 25 layout: blobs/sha256/HEX) of tar
    layers (bytes), lowest first.  Returns (bytes, [layer digests])."""
    blobs, digests = [], []
    for layer in layers:
        h = hashlib.sha256(layer).hexdigest()
        blobs.append(("blobs/sha256/" + h, layer))
        digests.append("sha256:" + h)
    cfg = json.dumps({"rootfs": {"type": "layers", "diff_ids": digests}}).encode()
    ch = hashlib.sha256(cfg).hexdigest()
    man = json.dumps([{"Config": "blobs/sha256/" + ch, "RepoTags": [tag],
                       "Layers": ["blobs/sha256/" + d[7:] for d in digests]}]).encode()
    entries = [("blobs", None), ("blobs/sha256", None)] + blobs + [("blobs/sha256/" + ch, cfg),
                                                                   ("manifest.json", man)]
    return tar_bytes(entries, fmt=tarfile.USTAR_FORMAT), digests


# ---------------------------------------------------------------- the JVM

class LoadProbe:
    """One JVM that answers many "does CLASS load from LOCATION" questions
    (see tests/java/LoadProbe.java for LOCATION forms and answers)."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "loadprobe")
        os.makedirs(self.dir, exist_ok=True)
        src = os.path.join(HERE, "java", "LoadProbe.java")
        cls = os.path.join(self.dir, "LoadProbe.class")
        if not os.path.exists(cls) or os.path.getmtime(cls) < os.path.getmtime(src):
            subprocess.run(["javac", "-d", self.dir, src], check=True, capture_output=True)

    def ask(self, questions):
        """questions: [(location, [class names])] -> {location: [answers]}."""
        lines = "".join("%s\t%s\n" % (loc, "\t".join(cls)) for loc, cls in questions)
        t0 = time.time()
        p = subprocess.run(["java", "-Xshare:auto", "-cp", self.dir, "LoadProbe"], input=lines.encode(),
                           capture_output=True, timeout=600)
        self.seconds = time.time() - t0
        if p.returncode != 0:
            raise RuntimeError("LoadProbe failed: " + p.stderr.decode(errors="replace")[-2000:])
        res = {}
        for line in p.stdout.decode().splitlines():
            f = line.split("\t")
            res[f[0]] = f[1:]
        return res
