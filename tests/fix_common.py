"""fix_common.py - what the tests of `log4scan fix` and `restore` share
(t_fix_dirs, t_fix_faults, t_restore): running the agent, reading its JSON
Lines, building exploded class directories from the corpus, and taking
byte-exact snapshots of trees to compare after a restore."""
import hashlib
import json
import os
import stat
import subprocess
import sys
import time
import traceback
import zipfile

L4S = os.environ["L4S"]
PLAIN = os.environ.get("L4S_PLAIN") if os.access(os.environ.get("L4S_PLAIN", ""), os.X_OK) else L4S
CORPUS = os.environ["CORPUS"].rstrip("/") + "/"
OUT = os.environ["OUT"]
CORE = CORPUS + "log4j-samples/true-hits/log4j-core-2.14.1.jar"
API = CORPUS + "log4j-samples/false-hits/log4j-api-2.14.1.jar"
CORE16 = CORPUS + "log4j-samples/false-hits/log4j-core-2.16.0.jar"
LOG4J1 = CORPUS + "log4j-samples/old-hits/log4j-1.2.17.jar"
JNDI = "org/apache/logging/log4j/core/lookup/JndiLookup.class"
SHELL = {"CVE-2021-44228", "CVE-2021-45046"}


def ok(name, cond, why=""):
    print(("ok " if cond else "not ok ") + name + ("" if cond else " - " + str(why)[:700]))
    return cond


def run(*args, binary=None, **kw):
    return subprocess.run([binary or L4S, *args], capture_output=True, text=True, **kw)


def recs(p, kind=None):
    out = []
    for line in p.stdout.splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if kind is None or r.get("kind") == kind:
            out.append(r)
    return out


def summary(p, kind):
    r = recs(p, kind)
    return r[-1] if r else {}


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def extract(jar, dest, prefix=""):
    """Unpack jar into dest/prefix (an exploded class directory)."""
    with zipfile.ZipFile(jar) as z:
        for zi in z.infolist():
            if zi.is_dir():
                continue
            p = os.path.join(dest, prefix, zi.filename)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(z.read(zi))
            os.utime(p, (1_600_000_000, 1_600_000_000 + len(zi.filename)))


_hashed = {}


def snapshot(root, skip=()):
    """Every regular file below root: relative path -> (sha256, mode, mtime_ns).
    A file is hashed again only when its inode, size, mtime or ctime changed
    (any write or rename changes the ctime), so repeated snapshots are cheap."""
    out = {}
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if os.path.join(d, x) not in skip]
        for n in files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            if not stat.S_ISREG(st.st_mode):
                continue
            key = (p, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            if key not in _hashed:
                _hashed[key] = sha(p)
            out[os.path.relpath(p, root)] = (_hashed[key], st.st_mode, st.st_mtime_ns)
    return out


def diff(a, b):
    """What differs between two snapshots (for a failure message)."""
    gone = sorted(set(a) - set(b))
    new = sorted(set(b) - set(a))
    changed = sorted(k for k in set(a) & set(b) if a[k] != b[k])
    return {"missing": gone[:5], "added": new[:5], "changed": changed[:5],
            "counts": (len(gone), len(new), len(changed))}


def shell_vulnerable(p):
    """Findings still affected by Log4Shell (CVE-2021-44228/45046)."""
    return [r["path"] for r in recs(p, "finding") if SHELL & set(r.get("cves", []))]


def mount_tmpfs(path, size, extra=""):
    os.makedirs(path, exist_ok=True)
    opts = "size=" + size + ("," + extra if extra else "")
    return subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path], capture_output=True).returncode == 0


def umount(path):
    subprocess.run(["umount", "-l", path], capture_output=True)


def run_parts(parts):
    """Run each part; one that raises is one failed check and the others
    still run.  PART=name (in the environment) runs only that part."""
    for part in parts:
        if os.environ.get("PART", part.__name__) != part.__name__:
            continue
        t0 = time.time()
        try:
            part()
            sys.stderr.write("%s: %.1f s\n" % (part.__name__, time.time() - t0))
        except Exception:
            ok(part.__name__ + " ran", False, traceback.format_exc()[-800:])


def backup_dir_ready(bk):
    """A backup directory as fix leaves it before its first backup: the tag
    and an empty manifest (so that filling its filesystem afterwards leaves
    room for nothing but the manifest lines)."""
    os.makedirs(bk, exist_ok=True)
    with open(os.path.join(bk, "LOG4SCAN-BACKUP.TAG"), "w") as f:
        f.write("Signature: f871a864224b0b7e31b161feb5b99318\n")
    with open(os.path.join(bk, "manifest.tsv"), "w") as f:
        f.write("# log4scan backup manifest 1\n")


# A program that logs through Log4j, says whether JndiLookup can be loaded,
# and, given a flag file, waits for it and logs once more (a running JVM
# while fix works).
HELLO = r"""
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
public class Hello {
    public static void main(String[] a) throws Exception {
        Logger log = LogManager.getLogger(Hello.class);
        log.error("hello from log4j ${jndi:ldap://127.0.0.1:1/x}");
        try {
            Class.forName("org.apache.logging.log4j.core.lookup.JndiLookup");
            System.out.println("JndiLookup present");
        } catch (ClassNotFoundException e) {
            System.out.println("JndiLookup absent");
        }
        if (a.length > 0) {
            System.out.println("READY");
            System.out.flush();
            java.nio.file.Path p = java.nio.file.Paths.get(a[0]);
            while (!java.nio.file.Files.exists(p)) Thread.sleep(50);
            log.error("still logging after the fix");
        }
    }
}
"""


def hello_compile(d, cp):
    """Compile HELLO into d (on the class path cp); the javac result."""
    with open(os.path.join(d, "Hello.java"), "w") as f:
        f.write(HELLO)
    return subprocess.run(["javac", "-cp", cp, "-d", d, os.path.join(d, "Hello.java")], capture_output=True, text=True)


def hello_start(cp, flag):
    """Start Hello waiting for flag; the process and what it printed until
    READY (or until it stopped, or two minutes passed)."""
    java = subprocess.Popen(["java", "-cp", cp, "Hello", flag], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    seen = ""
    deadline = time.time() + 120
    while time.time() < deadline and "READY" not in seen:
        line = java.stdout.readline()
        if not line:
            break
        seen += line
    return java, seen
