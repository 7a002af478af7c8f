#!/usr/bin/env python3
"""corpus_gen.py TREE CORPUS - the generated part of the benchmark tree.

Called by bench/make-corpus.sh after the Debian packages are extracted into
TREE/debian.  Deterministic: one seeded generator, inputs listed in sorted
order, fixed zip dates.  Writes:

  TREE/srv/tomcat/webapps/*.war        wars: WEB-INF/lib jars DEFLATED (the
                                       maven-war-plugin default), classes, JSPs
  TREE/srv/tomcat/webapps/NAME/...     the same apps exploded (jars on disk)
  TREE/srv/jboss/deploy/*.ear          ears holding wars and lib/ jars
  TREE/srv/boot/*.jar                  Spring Boot fat jars: BOOT-INF/lib/*.jar
                                       STORED, as spring-boot-maven-plugin does
  TREE/opt/tools/*.jar                 shaded tools built from the shared
                                       corpus' jars (one level of nesting)
  TREE/var/log/...                     text logs, some gzipped
  TREE/var/lib/...                     binary data files, a few large
  TREE/home/*/...                      sources, class files, configs, web assets

The shared corpus' jars (with their Log4j findings) are nested into the
wars, ears and fat jars among the real Debian jars.
"""
import gzip
import io
import os
import random
import sys
import zipfile

SEED = 20211210
DATE = (2021, 12, 10, 0, 0, 0)
MB = 1 << 20

tree, corpus = sys.argv[1], sys.argv[2]
rng = random.Random(SEED)

# One pool of incompressible bytes and one of log-like text, sliced for
# every generated file (generating each byte anew would dominate the time).
POOL = random.Random(SEED + 1).randbytes(8 * MB)
WORDS = ("GET POST INFO WARN DEBUG ERROR request response session user admin order "
         "payment cache timeout connection pool thread worker started stopped "
         "completed failed retry http https api v1 v2 login logout /index.html "
         "/api/orders /static/app.js 200 404 500 302 ms bytes client server").split()


def text_pool(size):
    r = random.Random(SEED + 2)
    lines = []
    n = 0
    while n < size:
        ln = "2021-12-%02d %02d:%02d:%02d.%03d [%s-%d] %s %s\n" % (
            r.randint(1, 28), r.randint(0, 23), r.randint(0, 59), r.randint(0, 59),
            r.randint(0, 999), r.choice(("main", "http-nio", "pool", "worker")), r.randint(1, 64),
            r.choice(("INFO", "WARN", "DEBUG", "ERROR")),
            " ".join(r.choice(WORDS) for _ in range(r.randint(4, 18))))
        lines.append(ln)
        n += len(ln)
    return "".join(lines).encode()


TEXT = text_pool(8 * MB)


def pool_bytes(pool, n):
    out = bytearray()
    while len(out) < n:
        at = rng.randrange(len(pool))
        out += pool[at:at + min(n - len(out), len(pool) - at)]
    return bytes(out)


def class_bytes(name):
    n = int(rng.lognormvariate(7.8, 0.9))  # median ~2.4 KB, like real classes
    n = max(200, min(n, 200000))
    return b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + name.encode()[:60] + pool_bytes(POOL, n)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def zinfo(name, method):
    zi = zipfile.ZipInfo(name, DATE)
    zi.compress_type = method
    zi.external_attr = 0o644 << 16
    return zi


def make_zip(entries):
    """entries: list of (name, bytes, method) -> zip bytes; a name already
    added (a Debian jar and a corpus jar of the same name) is left out."""
    b = io.BytesIO()
    seen = set()
    with zipfile.ZipFile(b, "w") as z:
        for name, data, method in entries:
            if name in seen:
                continue
            seen.add(name)
            z.writestr(zinfo(name, method), data, compresslevel=6)
    return b.getvalue()


def listing(root, suffix):
    out = []
    for d, subdirs, files in os.walk(root):
        subdirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            if f.endswith(suffix) and os.path.isfile(p) and not os.path.islink(p):
                out.append(p)
    return out


deb_jars = listing(os.path.join(tree, "debian"), ".jar")
# The adversarial cases (zip bombs, the 400 MiB jar-in-jar) stay in the plain
# copy of the corpus only: nested in every app they would stand for no
# real server.
corpus_jars = [p for p in listing(corpus, ".jar")
               if "zipbomb" not in p and not os.path.basename(p).startswith("400mb")] if os.path.isdir(corpus) else []
jar_cache = {}


def jar(p):
    if p not in jar_cache:
        with open(p, "rb") as f:
            jar_cache[p] = f.read()
    return jar_cache[p]


def pick_jars(budget, small_only=True):
    """A seeded selection of distinct Debian jars whose sizes add up to about budget."""
    chosen, total = [], 0
    seen = set()
    while total < budget and len(seen) < len(deb_jars):
        p = rng.choice(deb_jars)
        if p in seen:
            continue
        seen.add(p)
        s = os.path.getsize(p)
        if small_only and s > 4 * MB:
            continue
        chosen.append(p)
        total += s
    return sorted(chosen)


def app_classes(pkg, n):
    out = []
    for i in range(n):
        name = "com/example/%s/%s/C%04d.class" % (pkg, rng.choice(("web", "service", "model", "dao", "util")), i)
        out.append((name, class_bytes(name)))
    return out


def web_assets(n):
    out = []
    for i in range(n):
        kind = rng.choice(("jsp", "html", "js", "css", "properties", "xml"))
        out.append(("static/f%04d.%s" % (i, kind), pool_bytes(TEXT, rng.randint(300, 30000))))
    return out


def war_entries(app, lib_budget, ncorpus):
    libs = pick_jars(lib_budget)
    cj = sorted(rng.sample(corpus_jars, min(ncorpus, len(corpus_jars))))
    e = [("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nCreated-By: bench\r\n\r\n", zipfile.ZIP_DEFLATED),
         ("WEB-INF/web.xml", b"<web-app/>\n" + pool_bytes(TEXT, 2000), zipfile.ZIP_DEFLATED)]
    for name, data in app_classes(app, rng.randint(50, 400)):
        e.append(("WEB-INF/classes/" + name, data, zipfile.ZIP_DEFLATED))
    for name, data in web_assets(rng.randint(20, 200)):
        e.append((name, data, zipfile.ZIP_DEFLATED))
    for p in libs + cj:
        e.append(("WEB-INF/lib/" + os.path.basename(p), jar(p), zipfile.ZIP_DEFLATED))
    return e


stats = {"files": 0, "bytes": 0}


def emit(path, data):
    write(path, data)
    stats["files"] += 1
    stats["bytes"] += len(data)


# ---- application servers ------------------------------------------------
webapps = os.path.join(tree, "srv/tomcat/webapps")
for i, app in enumerate(("shop", "admin", "api", "portal", "reports", "search")):
    e = war_entries(app, rng.randint(4, 12) * MB, 1 + i % 3)
    emit(os.path.join(webapps, app + ".war"), make_zip(e))
    if i < 3:  # the exploded copy Tomcat leaves next to a deployed war
        for name, data, _ in e:
            emit(os.path.join(webapps, app, name), data)

for i, app in enumerate(("billing", "crm")):
    e = [("META-INF/application.xml", b"<application/>\n", zipfile.ZIP_DEFLATED)]
    for w in range(2):
        e.append(("%s-web%d.war" % (app, w), make_zip(war_entries(app + str(w), 3 * MB, 1)), zipfile.ZIP_STORED))
    for p in pick_jars(6 * MB) + sorted(rng.sample(corpus_jars, min(2, len(corpus_jars)))):
        e.append(("lib/" + os.path.basename(p), jar(p), zipfile.ZIP_DEFLATED))
    emit(os.path.join(tree, "srv/jboss/deploy", app + ".ear"), make_zip(e))

boot_loader = [("org/springframework/boot/loader/%s.class" % n,) for n in
               ("JarLauncher", "Launcher", "ExecutableArchiveLauncher", "LaunchedURLClassLoader",
                "jar/JarFile", "jar/JarEntry", "jar/Handler", "archive/JarFileArchive")]
for i, app in enumerate(("gateway", "orders", "inventory", "notify")):
    e = [("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nMain-Class: org.springframework.boot.loader.JarLauncher\r\n"
          b"Start-Class: com.example.%s.App\r\n\r\n" % app.encode(), zipfile.ZIP_DEFLATED)]
    for (n,) in boot_loader:
        e.append((n, class_bytes(n), zipfile.ZIP_DEFLATED))
    for name, data in app_classes(app, rng.randint(100, 600)):
        e.append(("BOOT-INF/classes/" + name, data, zipfile.ZIP_DEFLATED))
    libs = pick_jars(rng.randint(30, 60) * MB) + sorted(rng.sample(corpus_jars, min(3, len(corpus_jars))))
    for p in libs:
        e.append(("BOOT-INF/lib/" + os.path.basename(p), jar(p), zipfile.ZIP_STORED))
    emit(os.path.join(tree, "srv/boot", app + ".jar"), make_zip(e))

# One fat jar that nests every corpus jar (STORED, so read from its tail).
if corpus_jars:
    e = [("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n", zipfile.ZIP_DEFLATED)]
    for j, p in enumerate(corpus_jars):
        e.append(("BOOT-INF/lib/%03d-%s" % (j, os.path.basename(p)), jar(p), zipfile.ZIP_STORED))
    emit(os.path.join(tree, "srv/boot/corpus-all.jar"), make_zip(e))
    # shaded tools: a corpus jar's entries merged with a Debian jar's
    for j in range(4):
        e = []
        names = set()
        for p in (rng.choice(corpus_jars), rng.choice(deb_jars)):
            try:
                with zipfile.ZipFile(io.BytesIO(jar(p))) as z:
                    for zi in z.infolist():
                        if zi.filename not in names and not zi.is_dir():
                            names.add(zi.filename)
                            e.append((zi.filename, z.read(zi), zipfile.ZIP_DEFLATED))
            except (zipfile.BadZipFile, NotImplementedError, OSError):
                pass
        emit(os.path.join(tree, "opt/tools/tool%d-all.jar" % j), make_zip(e))

# ---- non-archive files ----------------------------------------------------
# Logs: many small, some large, a few gzipped (rotated).
for i in range(400):
    n = int(min(rng.lognormvariate(11.5, 1.4), 40 * MB))  # median ~100 KB
    data = pool_bytes(TEXT, n)
    p = os.path.join(tree, "var/log/app%02d/app.log.%d" % (i % 40, i // 40))
    if i % 5 == 4:
        emit(p + ".gz", gzip.compress(data, 1, mtime=0))
    else:
        emit(p, data)
# Data files: small binaries and a few large ones (a database, a core dump).
for i in range(800):
    emit(os.path.join(tree, "var/lib/data/d%02d/blob%04d.bin" % (i % 20, i)),
         pool_bytes(POOL, int(min(rng.lognormvariate(9.5, 1.5), 8 * MB))))
for i in range(4):
    emit(os.path.join(tree, "var/lib/db/table%d.db" % i), pool_bytes(POOL, (60 + 20 * i) * MB))
# Home directories: sources, class files of builds, configs, web assets.
for u in range(12):
    home = os.path.join(tree, "home/user%02d" % u)
    for name, data in app_classes("proj%d" % u, rng.randint(300, 1200)):
        emit(os.path.join(home, "project/target/classes", name), data)
    for i in range(rng.randint(200, 600)):
        kind = rng.choice(("java", "xml", "properties", "md", "txt", "yml", "sh"))
        emit(os.path.join(home, "project/src/f%04d.%s" % (i, kind)), pool_bytes(TEXT, rng.randint(200, 40000)))
    for name, data in web_assets(rng.randint(100, 400)):
        emit(os.path.join(home, "site", name), data)

print("corpus_gen: %d files, %.0f MB generated (%d Debian jars, %d corpus jars to nest)"
      % (stats["files"], stats["bytes"] / MB, len(deb_jars), len(corpus_jars)))
