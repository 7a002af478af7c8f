"""zipshapes.py - ZIP archives in the shapes the JDK's central directory
reader decides about, built field by field from real jars: the generator of
the differential test t_jvm_zip.py and of the fuzzers' ZIP seeds
(fuzz-seeds.py).

A case is a base jar's entries (Ent) and end-record options (Opts) changed
by one to three mutations (m_*), each drawn from a seeded random.Random and
describing itself; build() writes the bytes.  See t_jvm_zip.py for the list
of shapes and what the JVM makes of them."""
import random
import struct
import zipfile
import zlib

JNDI = b"org/apache/logging/log4j/core/lookup/JndiLookup.class"
KEEP = (b"lookup/JndiLookup.class", b"lookup/AbstractLookup.class", b"lookup/StrLookup.class",
        b"lookup/Interpolator.class", b"net/JndiManager", b"pattern/MessagePatternConverter.class",
        b"log4j-core/pom.properties", b"META-INF/MANIFEST.MF")


def rbytes(rng, n):
    return bytes(rng.randrange(256) for _ in range(n))


def deflate(data):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


class Ent:
    def __init__(self, name, data, method=8):
        self.name = name          # central directory name
        self.lname = name         # local header name
        self.data = data
        self.method = method
        self.desc = None          # None, "sig" or "nosig": data descriptor
        self.zip64 = False        # ZIP64 extra in the local header (8-byte descriptor sizes)
        self.cen64 = False        # ZIP64 extra and 0xFFFFFFFF sizes in the central directory
        self.in_cen = True
        self.in_loc = True
        self.cen_flags = 0        # ORed into the central directory's flags
        self.cen_method = None
        self.cen_extra = b""
        self.junk_before = b""    # bytes no header points at, before the local header
        self.loc_size_delta = 0   # added to the local header's compressed size (the JDK ignores it)

    def copy(self):
        e = Ent(self.name, self.data, self.method)
        e.__dict__.update(self.__dict__)
        return e


def base_entries(path, rng):
    z = zipfile.ZipFile(path)
    names = [i.filename for i in z.infolist()]
    keep = [n for n in names if any(k in n.encode() for k in KEEP) or b"log4j-core/pom" in n.encode()]
    rest = [n for n in names if n not in keep and not n.endswith("/")]
    fill = rng.sample(rest, 40)
    order = [n for n in names if n in keep or n in fill]
    return [Ent(n.encode(), z.read(n)) for n in order]


class Opts:
    def __init__(self):
        self.prepend = b""
        self.absolute = True      # offsets counted from the file's start (else from the archive's)
        self.count = None         # END entry count written (None: the true one)
        self.count_this = None
        self.disk = (0, 0)
        self.cen_disk = 0
        self.zip64 = None         # None, "valid", "valid-magic", "bad-loc", "bad-loc-magic", "disagree", "eof-loc"
        self.comment = b""
        self.comment_fn = None    # builds the comment from the archive so far
        self.trailing = b""
        self.trailing_fn = None
        self.cen_slack = b""
        self.cen_order = None     # permutation of the central directory
        self.truncate = 0
        self.pad = False          # a first entry of 1.1 MiB of zeros, STORED (to be streamed when nested)


PAD = Ent(b"pad/zeros.bin", bytes(1100 << 10), 0)


def build(ents, o):
    out = bytearray(o.prepend)
    base = 0 if o.absolute else len(o.prepend)
    if o.pad:
        ents = [PAD] + ents
    for e in ents:
        if not e.in_loc:
            continue
        comp = deflate(e.data) if e.method == 8 else e.data
        crc = zlib.crc32(e.data)
        e.crc, e.csize, e.usize = crc, len(comp), len(e.data)
        out += e.junk_before
        e.off = len(out)
        flags = 0x8 if e.desc else 0
        extra = b""
        lc, ls, lu = crc, len(comp), len(e.data)
        if e.desc:
            lc, ls, lu = 0, 0, 0
        ls = (ls + e.loc_size_delta) & 0xFFFFFFFF
        if e.zip64:
            extra = struct.pack("<HHQQ", 1, 16, 0 if e.desc else len(e.data), 0 if e.desc else len(comp))
            ls = lu = 0xFFFFFFFF
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if e.zip64 else 20, flags, e.method, 0, 0x21,
                           lc, ls, lu, len(e.lname), len(extra)) + e.lname + extra + comp
        if e.desc:
            if e.desc == "sig":
                out += struct.pack("<I", 0x08074B50)
            out += struct.pack("<I", crc) + (struct.pack("<QQ", len(comp), len(e.data)) if e.zip64
                                            else struct.pack("<II", len(comp), len(e.data)))
    cen_at = len(out)
    cen = [e for e in ents if e.in_cen]
    if o.cen_order:
        cen = [cen[i] for i in o.cen_order(len(cen))]
    for e in cen:
        t = e
        flags = (0x8 if t.desc else 0) | e.cen_flags
        extra = e.cen_extra
        cs, us, off = t.csize, t.usize, t.off - base
        if e.cen64:
            extra = struct.pack("<HHQQQ", 1, 24, us, cs, off) + extra
            cs = us = off = 0xFFFFFFFF
        out += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 45 if e.cen64 else 20, flags,
                           e.cen_method if e.cen_method is not None else t.method, 0, 0x21, t.crc, cs, us,
                           len(e.name), len(extra), 0, o.cen_disk, 0, 0, off) + e.name + extra
    out += o.cen_slack
    cen_len = len(out) - cen_at
    n = len(cen)
    M16, M32 = 0xFFFF, 0xFFFFFFFF
    cnt = n if o.count is None else o.count
    cthis = cnt if o.count_this is None else o.count_this
    c_cnt, c_this, c_len, c_off = cnt & M16, cthis & M16, cen_len, cen_at - base
    if o.zip64:
        z64 = len(out)
        zlen, zoff = cen_len, cen_at - base
        if o.zip64 == "disagree":
            zlen += 17
        if o.zip64 in ("valid", "valid-magic", "disagree"):
            out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, zlen, zoff)
        else:
            out += b"\0" * 56                       # no record where the locator points
        loc = z64 - base
        if o.zip64 == "eof-loc":
            loc = len(out) + 1000
        out += struct.pack("<IIQI", 0x07064B50, 0, loc, 1)
        if o.zip64 in ("valid-magic", "bad-loc-magic"):
            c_cnt, c_this, c_len, c_off = M16, M16, M32, M32
    comment = o.comment_fn(out, cen_at, cen_len, base) if o.comment_fn else o.comment
    out += struct.pack("<IHHHHIIH", 0x06054B50, o.disk[0], o.disk[1], c_this, c_cnt, c_len, c_off,
                       len(comment)) + comment
    out += o.trailing_fn(out, cen_at, cen_len, base) if o.trailing_fn else o.trailing
    if o.truncate:
        del out[-o.truncate:]
    return bytes(out)


def fake_cen(ents, drop_jndi, base):
    """A central directory of the entries already written, without (or
    with only) JndiLookup: what a fake end record can point at."""
    b = bytearray()
    n = 0
    for e in ents:
        if not e.in_loc or (drop_jndi and e.lname == JNDI):
            continue
        b += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 20, 0x8 if e.desc else 0, e.method, 0, 0x21,
                         e.crc, e.csize, e.usize, len(e.lname), 0, 0, 0, 0, 0, e.off - base) + e.lname
        n += 1
    return bytes(b), n


# ---- the mutations: each takes (ents, opts, rng, case) and describes itself

def m_count_low(ents, o, rng, c):
    o.count = rng.randrange(0, sum(e.in_cen for e in ents))
    o.count_this = rng.choice([None, o.count, 0])
    return "count-low=%d" % o.count


def m_count_high(ents, o, rng, c):
    o.count = sum(e.in_cen for e in ents) + rng.randrange(1, 3000)
    return "count-high=%d" % o.count


def m_disk(ents, o, rng, c):
    o.disk = (rng.randrange(1, 5), rng.randrange(0, 5))
    o.cen_disk = rng.choice([0, 1, 7])
    o.count_this = rng.randrange(0, 50)
    return "disk=%r,%d" % (o.disk, o.cen_disk)


def m_prepend(ents, o, rng, c):
    o.prepend = b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n" + bytes(rng.randrange(0, 3000))
    o.absolute = rng.random() < 0.5
    return "prepend=%d,%s" % (len(o.prepend), "absolute" if o.absolute else "relative")


def m_zip64(ents, o, rng, c):
    o.zip64 = rng.choice(["valid", "valid-magic", "bad-loc", "bad-loc-magic", "disagree", "eof-loc"])
    return "zip64=" + o.zip64


def m_fake_end_comment(ents, o, rng, c):
    kind = rng.choice(["garbage", "exact-without-jndi", "exact-with-all", "valid-but-inexact"])

    def fn(out, cen_at, cen_len, base):
        if kind == "garbage":
            return b"built by ant " + b"PK\x05\x06" + rbytes(rng, 18) + b" end"
        fc, n = fake_cen(ents, kind != "exact-with-all", base)
        at = len(out) + 22            # where the comment starts
        fend = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(fc), at - base, 0)
        if kind == "valid-but-inexact":
            return fc + fend + b"--"
        return fc + fend
    o.comment_fn = fn
    return "fake-end-in-comment=" + kind


def m_trailing(ents, o, rng, c):
    kind = rng.choice(["junk", "junk-with-end-sig", "fake-end-valid", "fake-end-bad-cen", "fake-empty-end"])

    def fn(out, cen_at, cen_len, base):
        junk = rbytes(rng, rng.randrange(1, 400))
        if kind == "junk":
            return junk
        if kind == "junk-with-end-sig":
            return junk + b"PK\x05\x06" + rbytes(rng, rng.randrange(0, 30))
        if kind == "fake-empty-end":
            return junk + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0, 0, 0, 0, 0) + b"x"
        fc, n = fake_cen(ents, True, base)
        at = len(out) + len(junk)
        fend = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(fc), at - base, 0)
        if kind == "fake-end-bad-cen":
            fend = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(fc) + 7, at - base, 0)
        return junk + fc + fend + b"\0\0trailer"
    o.trailing_fn = fn
    return "trailing=" + kind


def m_remove_jndi_cen(ents, o, rng, c):
    for e in ents:
        if e.name == JNDI:
            e.in_cen = False
            return "jndi-local-header-only"
    return "jndi-local-header-only(none)"


def m_add_jndi(ents, o, rng, c):
    kind = rng.choice(["both", "local-only"])
    e = Ent(JNDI, JNDI_BYTES)
    pos = rng.randrange(0, len(ents) + 1)
    if any(x.name == JNDI and x.in_cen for x in ents):
        kind = "both"
    if kind == "local-only":
        e.in_cen = False
    ents.insert(pos, e)
    return "add-jndi=%s@%d" % (kind, pos)


def m_rename_local(ents, o, rng, c):
    e = rng.choice([x for x in ents if x.name == JNDI] or ents)
    e.lname = b"x/" + bytes(rng.choice(b"abcdefgh") for _ in range(len(e.name) - 2))
    return "local-name-differs(%s)" % e.name.decode()[-20:]


def filler(ents, rng):
    """An entry that is not log4j evidence (any but JndiLookup in a base of evidence only)."""
    return rng.choice([x for x in ents if not any(k in x.name for k in KEEP)] or
                      [x for x in ents if x.name != JNDI])


def m_duplicate(ents, o, rng, c):
    e = rng.choice([x for x in ents if x.name == JNDI] or [filler(ents, rng)])
    d = e.copy()
    if e.name != JNDI and rng.random() < 0.5:
        d.data = b"not what the other one says"
    ents.insert(rng.randrange(0, len(ents) + 1), d)
    return "duplicate(%s)" % e.name.decode()[-20:]


def m_descriptors(ents, o, rng, c):
    frac = rng.choice([0.3, 1.0])
    st = rng.random() < 0.5
    n = 0
    for e in ents:
        if rng.random() < frac:
            e.desc = rng.choice(["sig", "nosig"]) if rng.random() < 0.3 else "sig"
            e.zip64 = rng.random() < 0.3
            if st:
                e.method = 0
            n += 1
    return "descriptors=%d%s" % (n, ",stored" if st else "")


def m_stored(ents, o, rng, c):
    for e in ents:
        if rng.random() < 0.5:
            e.method = 0
    return "some-stored"


def m_reorder(ents, o, rng, c):
    rng.shuffle(ents)
    if rng.random() < 0.5:
        o.cen_order = lambda n: rng.sample(range(n), n)
    return "reordered"


def m_add_drop(ents, o, rng, c):
    desc = []
    for _ in range(rng.randrange(1, 6)):
        if rng.random() < 0.5 and len(ents) > 10:
            i = rng.randrange(len(ents))
            if ents[i].name in (JNDI, b"org/apache/logging/log4j/core/lookup/AbstractLookup.class",
                                b"org/apache/logging/log4j/core/lookup/StrLookup.class"):
                continue
            desc.append("drop@%d" % i)
            del ents[i]
        else:
            i = rng.randrange(len(ents) + 1)
            ents.insert(i, Ent(b"com/example/Extra%d.txt" % rng.randrange(1 << 20), rbytes(rng, rng.randrange(0, 900))))
            desc.append("add@%d" % i)
    return "entries:" + ",".join(desc)


def m_local_lies(ents, o, rng, c):
    e = rng.choice([x for x in ents if not x.desc] or ents)
    e.loc_size_delta = rng.choice([-7, -1, 1, 13, 4000])
    return "local-size-lies(%s,%+d)" % (e.name.decode()[-20:], e.loc_size_delta)


def m_junk_between(ents, o, rng, c):
    e = rng.choice(ents)
    e.junk_before = rng.choice([b"\0" * rng.randrange(1, 300), rbytes(rng, rng.randrange(1, 300)),
                                b"PK\x01\x02" + rbytes(rng, 60), b"PK\x03\x04" + rbytes(rng, 40)])
    return "junk-before(%s,%d)" % (e.name.decode()[-20:], len(e.junk_before))


def m_cen64(ents, o, rng, c):
    for e in ents:
        if rng.random() < 0.3:
            e.cen64 = True
    return "cen-zip64-extras"


def m_many(ents, o, rng, c):
    k = 65536 + rng.randrange(0, 300) - len(ents)
    at = rng.choice(["before", "after"])
    filler = [Ent(b"f/%06d" % i, b"", 0) for i in range(k)]
    ents[:] = (filler + ents) if at == "before" else (ents + filler)
    return "many-entries=%d,no-zip64,filler-%s" % (len(ents), at)


# refused by the JDK for one entry's fields (the archive is otherwise readable)
def m_encrypted(ents, o, rng, c):
    e = filler(ents, rng)
    e.cen_flags |= 1
    return "encrypted-flag(%s)" % e.name.decode()[-20:]


def m_bad_method(ents, o, rng, c):
    e = filler(ents, rng)
    e.cen_method = rng.choice([1, 12, 14, 99])
    return "method=%d(%s)" % (e.cen_method, e.name.decode()[-20:])


def m_bad_name(ents, o, rng, c):
    e = filler(ents, rng)
    e.name = e.lname = b"META-INF/caf\xe9-" + bytes([rng.choice([0xff, 0xc0, 0x80, 0xed])]) + b".txt"
    return "name-not-utf8"


def m_bad_extra(ents, o, rng, c):
    e = filler(ents, rng)
    e.cen_extra = rng.choice([struct.pack("<HH", 1, 5) + b"12345", struct.pack("<HH", 0x5455, 40) + b"x" * 9])
    return "bad-extra(%s)" % e.name.decode()[-20:]


# structural damage: nothing can be read the way the JDK reads
def m_cen_slack(ents, o, rng, c):
    o.cen_slack = rbytes(rng, rng.randrange(1, 60))
    return "central-directory-slack=%d" % len(o.cen_slack)


def m_truncate(ents, o, rng, c):
    o.truncate = rng.choice([1, 10, 23, 200, 5000])
    return "truncated=%d" % o.truncate


SHAPE = [m_count_low, m_count_high, m_disk, m_prepend, m_zip64, m_fake_end_comment, m_trailing,
         m_remove_jndi_cen, m_add_jndi, m_rename_local, m_duplicate, m_descriptors, m_stored, m_reorder,
         m_add_drop, m_cen64, m_local_lies, m_junk_between]
ENTRY_REFUSED = [m_encrypted, m_bad_method, m_bad_name, m_bad_extra]
BROKEN = [m_cen_slack, m_truncate]


def make_case(seed, i, bases, pad=False, many=True):
    """Case i of a seeded run over bases {name: [Ent]}: (description, bytes,
    whether JndiLookup is in the central directory)."""
    global JNDI_BYTES
    JNDI_BYTES = [e.data for ents in bases.values() for e in ents if e.name == JNDI][0]
    rng = random.Random("%d/%d" % (seed, i))
    names = sorted(bases)
    bname = names[rng.randrange(len(names))]
    ents = [e.copy() for e in bases[bname]]
    o = Opts()
    o.pad = pad
    muts = rng.sample(SHAPE, rng.randrange(1, 4))
    r = rng.random()
    if r < 0.15:
        muts.append(rng.choice(ENTRY_REFUSED))
        muts = [m for m in muts if m not in (m_fake_end_comment, m_trailing, m_zip64, m_remove_jndi_cen,
                                             m_rename_local)]
    elif r < 0.22:
        muts.append(rng.choice(BROKEN))
    if many and i % 120 == 60:
        muts = [m_many, rng.choice([m_count_low, m_reorder, m_prepend])]
    # structure-level changes run last (they see the final entry list)
    order = [m_many, m_add_drop, m_add_jndi, m_duplicate, m_reorder, m_remove_jndi_cen, m_rename_local,
             m_descriptors, m_stored, m_cen64, m_local_lies, m_junk_between, m_encrypted, m_bad_method, m_bad_name, m_bad_extra]
    muts.sort(key=lambda m: order.index(m) if m in order else len(order))
    desc = [m(ents, o, rng, i) for m in muts]
    data = build(ents, o)
    in_cen = any(e.name == JNDI and e.in_cen for e in ents)
    return "seed=%d case=%d base=%s %s" % (seed, i, bname, " ".join(desc)), data, in_cen
