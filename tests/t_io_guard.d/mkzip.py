#!/usr/bin/env python3
"""mkzip.py - large test archives for tests/t_io_guard.sh, written
as a stream (never held in memory).

  mkzip.py big OUT MB [JAR]
      an outer jar of MB megabytes of STORED, incompressible data entries
      (1 MiB each, from a seeded generator) among small class files and a
      manifest, no nested archive; with JAR, every entry of JAR is copied in
      as it is (a shaded jar: Log4j's classes at the root)
  mkzip.py fat OUT MB JAR
      a Spring Boot-like fat jar of MB megabytes: STORED entries of zeros
      written as holes (a sparse file: the test uses no disk for them), then
      JAR STORED as BOOT-INF/lib/NAME, then the central directory

No ZIP64: both stay below 4 GiB."""
import random
import struct
import sys
import zlib
import zipfile

MB = 1 << 20
DOSTIME, DOSDATE = 0, (2021 - 1980) << 9 | 12 << 5 | 10


class Writer:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.cd = []
        self.pos = 0

    def _local(self, name, method, crc, csize, usize):
        n = name.encode()
        self.cd.append((n, method, crc, csize, usize, self.pos))
        h = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, method, DOSTIME, DOSDATE, crc, csize, usize, len(n), 0)
        self.f.write(h + n)
        self.pos += len(h) + len(n)

    def add(self, name, data, method=0, raw=None, crc=None, usize=None):
        """data: stored bytes; or raw (already compressed) with its crc and usize."""
        if raw is None:
            self._local(name, 0, zlib.crc32(data), len(data), len(data))
            self.f.write(data)
            self.pos += len(data)
        else:
            self._local(name, method, crc, len(raw), usize)
            self.f.write(raw)
            self.pos += len(raw)

    def add_zeros(self, name, size):
        crc, z = 0, bytes(MB)
        for _ in range(size // MB):
            crc = zlib.crc32(z, crc)
        crc = zlib.crc32(bytes(size % MB), crc)
        self._local(name, 0, crc, size, size)
        self.f.seek(size, 1)  # a hole: reads back as zeros
        self.pos += size

    def close(self):
        cd_off = self.pos
        for n, method, crc, csize, usize, off in self.cd:
            h = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, method, DOSTIME, DOSDATE,
                            crc, csize, usize, len(n), 0, 0, 0, 0, 0o644 << 16, off)
            self.f.write(h + n)
            self.pos += len(h) + len(n)
        self.f.write(struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, len(self.cd), len(self.cd),
                                 self.pos - cd_off, cd_off, 0))
        self.f.close()


def copy_entries(w, jar, prefix=""):
    """Copy every entry of jar, compressed bytes as they are."""
    with open(jar, "rb") as f, zipfile.ZipFile(jar) as z:
        for zi in z.infolist():
            f.seek(zi.header_offset)
            h = f.read(30)
            nlen, xlen = struct.unpack("<HH", h[26:30])
            f.seek(zi.header_offset + 30 + nlen + xlen)
            w.add(prefix + zi.filename, None, zi.compress_type, f.read(zi.compress_size), zi.CRC, zi.file_size)


def main():
    mode, out, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
    jar = sys.argv[4] if len(sys.argv) > 4 else None
    w = Writer(out)
    w.add("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nCreated-By: t_io_guard\r\n\r\n")
    if mode == "big":
        rng = random.Random(3)
        pool = rng.randbytes(4 * MB)
        for i in range(mb):
            at = rng.randrange(3 * MB)
            w.add("data/blob%04d.bin" % i, pool[at:at + MB])
            if i % 4 == 0:
                w.add("com/example/app/C%04d.class" % i, b"\xca\xfe\xba\xbe\0\0\0\x34" + pool[at:at + 3000])
        if jar:
            copy_entries(w, jar)
    elif mode == "fat":
        chunk = 256 * MB
        left = mb * MB
        i = 0
        while left > 0:
            n = min(chunk, left)
            w.add_zeros("BOOT-INF/lib/zeros%d.dat" % i, n)
            left -= n
            i += 1
        with open(jar, "rb") as f:
            w.add("BOOT-INF/lib/" + jar.rsplit("/", 1)[-1], f.read())
    else:
        sys.exit("usage: see the docstring")
    w.close()


main()
