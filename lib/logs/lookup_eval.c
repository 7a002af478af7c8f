/* lookup_eval.c - a bounded emulation of what Log4j 2.0-2.14 does to a
 * message it logs: MessagePatternConverter's passes, StrSubstitutor and
 * the Interpolator (see lookup_eval.h).
 *
 * substitute() is one StrSubstitutor.substitute: it copies text to an
 * output buffer, and for each "${" whose '}' it finds calls resolve() on
 * the name between them.  resolve() substitutes the name (inside-out),
 * splits off the default, asks lookup() and substitutes the value again,
 * or writes the variable's original text when nothing resolves it.  The
 * escape "$${" is honoured by looking at the last byte already written,
 * as Log4j looks at the previous char of its (already rewritten) buffer.
 *
 * A host value (java:version, hostName, ...) is not known here: it is
 * written as a three-byte marker (0xFF and two bytes 0x80-0xBF naming it)
 * that no lookup syntax, letter or delimiter can match, as no real value
 * would; input bytes 0xFF are read as 0xFE so that markers stay apart.
 * Markers become "${name}" in what is reported.
 *
 * To tell an exfiltration lookup inside a jndi URL from one used only to
 * spell "jndi", resolve() records for each direct child of a name where the
 * child's value landed in the name ("kids"), and every host lookup is
 * appended to one list in evaluation order, so a child's host lookups are
 * a contiguous range of it. */
#include "logs/lookup_eval.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#define MARK 0xFF               /* first byte of a host-value marker */
#define MAX_MARKS 4096          /* names a marker can carry; more share the last */

struct hostref {
	char *name;             /* "env:AWS_SECRET_ACCESS_KEY", "hostName" */
	bool has_default;
	size_t default_len;
	bool resolved;          /* the host gives a value: it leaks, default or not */
};

struct kid {
	size_t out_start, out_end;   /* where the child's value is in the name */
	size_t ref_start, ref_end;   /* its host lookups, indexes into refs */
};

struct kids {
	struct kid *v;
	size_t n, cap;
};

/* The variables being replaced around a rescanned value (Log4j's
 * priorVariables): meeting one of them again is a cycle, which throws. */
struct prior {
	const char *name;
	size_t n;
	const struct prior *up;
};

struct eval {
	struct lk_result *res;
	unsigned flags;
	struct hostref *refs;
	size_t n_refs, cap_refs;
	char **marks;           /* names carried by markers */
	size_t n_marks;
	size_t steps;
	bool stop;              /* a bound was hit: copy the rest verbatim */
	bool thrown;            /* Log4j threw: formatting stops */
	unsigned pass;
	bool forced;
	bool reshaped;          /* this pass made a "${" of another pass: an escape
				   undone, a value holding '$' or '{' */
	bool in_top;            /* inside a top-level expression of the pass ... */
	size_t top_start, top_end; /* ... here (input offsets in pass 1) */
};

/* What a lookup gives. */
enum value_kind { VALUE_NULL, VALUE_TEXT, VALUE_THROW };

static bool halted(const struct eval *x)
{
	return x->stop || x->thrown;
}

static void hit_bound(struct eval *x, enum lk_bound b)
{
	if (!x->stop)
		x->res->bound = b;
	x->stop = true;
	x->res->limited = true;
}

static bool spend(struct eval *x, size_t n)
{
	x->steps += n;
	if (x->steps > LK_MAX_STEPS)
		hit_bound(x, LK_BOUND_STEPS);
	return !x->stop;
}

static bool too_big(struct eval *x, const struct buf *b)
{
	if (b->len > LK_MAX_TEXT)
		hit_bound(x, LK_BOUND_TEXT);
	return x->stop;
}

const char *lookup_bound_name(enum lk_bound b)
{
	switch (b) {
	case LK_BOUND_DEPTH: return "nesting depth";
	case LK_BOUND_TEXT: return "intermediate text size";
	case LK_BOUND_STEPS: return "evaluation steps";
	default: return "none";
	}
}

size_t lookup_expr_len(const char *s, size_t n)
{
	if (n < 2 || s[0] != '$' || s[1] != '{')
		return 0;
	size_t nested = 0;
	size_t i = 2;
	while (i < n) {
		if (s[i] == '$' && i + 1 < n && s[i + 1] == '{') {
			nested++;
			i += 2;
		} else if (s[i] == '}') {
			if (nested == 0)
				return i + 1;
			nested--;
			i++;
		} else {
			i++;
		}
	}
	return 0;
}

/* ---- small helpers ---- */

static void add_kid(struct kids *k, struct kid kid)
{
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 8;
		k->v = xrealloc(k->v, k->cap * sizeof *k->v);
	}
	k->v[k->n++] = kid;
}

static void add_ref(struct eval *x, const char *name, size_t n, bool has_default,
		    size_t default_len, bool resolved)
{
	if (x->n_refs == x->cap_refs) {
		x->cap_refs = x->cap_refs ? 2 * x->cap_refs : 8;
		x->refs = xrealloc(x->refs, x->cap_refs * sizeof *x->refs);
	}
	x->refs[x->n_refs].name = xstrndup(name, n);
	x->refs[x->n_refs].has_default = has_default;
	x->refs[x->n_refs].default_len = default_len;
	x->refs[x->n_refs].resolved = resolved;
	x->n_refs++;
}

/* s[0..n) is word, ASCII letters in any case. */
static bool ieq(const char *s, size_t n, const char *word)
{
	size_t i = 0;
	for (; i < n && word[i]; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != word[i])
			return false;
	}
	return i == n && !word[i];
}

static bool eq(const char *s, size_t n, const char *word)
{
	if (n && s[0] != word[0])
		return false;   /* most words of a list differ at once */
	size_t l = strlen(word);
	return l == n && !memcmp(s, word, n);
}

static bool in_list(const char *s, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (eq(s, n, *list))
			return true;
	return false;
}

/* A marker for the host value named name[0..n). */
static void put_marker(struct eval *x, const char *name, size_t n, struct buf *out)
{
	size_t idx = 0;
	while (idx < x->n_marks && !eq(name, n, x->marks[idx]))
		idx++;
	if (idx == x->n_marks) {
		if (x->n_marks == MAX_MARKS) {
			idx = MAX_MARKS - 1;
		} else {
			if ((x->n_marks & (x->n_marks - 1)) == 0)
				x->marks = xrealloc(x->marks, (x->n_marks ? 2 * x->n_marks : 1) * sizeof *x->marks);
			x->marks[x->n_marks++] = xstrndup(name, n);
		}
	}
	buf_addc(out, (char)MARK);
	buf_addc(out, (char)(0x80 | (idx >> 6)));
	buf_addc(out, (char)(0x80 | (idx & 63)));
}

/* s[0..n) with markers written out as "${name}". */
static void expand_markers(const struct eval *x, const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] == MARK && i + 2 < n) {
			size_t idx = (size_t)(((unsigned char)s[i + 1] & 63) << 6 | ((unsigned char)s[i + 2] & 63));
			buf_adds(out, "${");
			buf_adds(out, idx < x->n_marks ? x->marks[idx] : "?");
			buf_addc(out, '}');
			i += 2;
		} else {
			buf_addc(out, s[i]);
		}
	}
}

/* ---- what lookups give ---- */

/* String.toLowerCase()/toUpperCase() for what matters here: ASCII, and
 * the characters Java maps onto ASCII letters (a known way to spell
 * "jndi" in disguise).  Other bytes are kept: their case does not decide
 * any lookup. */
static const struct {
	const char *from, *to;
	bool upper;
} case_maps[] = {
	{"\xC4\xB1", "I", true},          /* dotless i */
	{"\xC5\xBF", "S", true},          /* long s */
	{"\xC3\x9F", "SS", true},         /* sharp s */
	{"\xEF\xAC\x80", "FF", true},     /* ligatures ff fi fl ffi ffl st st */
	{"\xEF\xAC\x81", "FI", true},
	{"\xEF\xAC\x82", "FL", true},
	{"\xEF\xAC\x83", "FFI", true},
	{"\xEF\xAC\x84", "FFL", true},
	{"\xEF\xAC\x85", "ST", true},
	{"\xEF\xAC\x86", "ST", true},
	{"\xE2\x84\xAA", "k", false},     /* KELVIN SIGN */
	{"\xC4\xB0", "i\xCC\x87", false}, /* I with dot above: i + combining dot */
};

static void change_case(const char *s, size_t n, bool upper, struct buf *out)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0xC3 && c != MARK) {
			size_t k;
			for (k = 0; k < sizeof case_maps / sizeof case_maps[0]; k++) {
				size_t l = strlen(case_maps[k].from);
				if (case_maps[k].upper == upper && i + l <= n &&
				    !memcmp(s + i, case_maps[k].from, l))
					break;
			}
			if (k < sizeof case_maps / sizeof case_maps[0]) {
				buf_adds(out, case_maps[k].to);
				i += strlen(case_maps[k].from);
				continue;
			}
		}
		if (c == MARK && i + 2 < n) {
			buf_add(out, s + i, 3);
			i += 3;
			continue;
		}
		if (upper && c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		else if (!upper && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		buf_addc(out, (char)c);
		i++;
	}
}

/* SimpleDateFormat.format for the pattern s: quoted text is literal ('' is
 * a quote), other ASCII letters are date fields, which never produce text an
 * attacker chooses, so each becomes '0'.  A letter SimpleDateFormat rejects
 * or an unclosed quote makes Log4j fall back to a default date format:
 * false, the value is then an opaque date. */
static bool format_date(const char *s, size_t n, struct buf *out)
{
	static const char fields[] = "GyMdkHmsSEDFwWahKzZYuXL";
	bool quoted = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\'') {
			if (i + 1 < n && s[i + 1] == '\'') {
				buf_addc(out, '\'');
				i++;
			} else {
				quoted = !quoted;
			}
			continue;
		}
		if (!quoted && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
			if (!strchr(fields, c))
				return false;
			c = '0';
		}
		buf_addc(out, c);
	}
	return !quoted;
}

enum lk_kind {
	K_JNDI, K_LOWER, K_UPPER, K_DATE, K_JAVA, K_SYS, K_ENV, K_EVENT,
	K_HOST,                 /* host data that a default JVM does not have */
};

/* The lookups of log4j-core 2.14.1's Interpolator (its plugins), and the
 * prefixes of other modules (docker, k8s, spring, web): unknown to it, so
 * they give nothing, but host data where they are installed. */
static const struct {
	const char *prefix;
	enum lk_kind kind;
} lookups[] = {
	{"jndi", K_JNDI}, {"lower", K_LOWER}, {"upper", K_UPPER}, {"date", K_DATE},
	{"java", K_JAVA}, {"sys", K_SYS}, {"env", K_ENV}, {"event", K_EVENT},
	{"ctx", K_HOST}, {"main", K_HOST}, {"map", K_HOST}, {"marker", K_HOST},
	{"sd", K_HOST}, {"bundle", K_HOST}, {"jvmrunargs", K_HOST}, {"log4j", K_HOST},
	{"docker", K_HOST}, {"k8s", K_HOST}, {"kubernetes", K_HOST}, {"spring", K_HOST},
	{"web", K_HOST},
};

/* Values every JVM has (the properties Java SE guarantees, and two every
 * OpenJDK sets); the separators are given as on Linux. */
static const char *const sys_always[] = {
	"java.version", "java.vendor", "java.vendor.url", "java.home",
	"java.vm.specification.version", "java.vm.specification.vendor",
	"java.vm.specification.name", "java.vm.version", "java.vm.vendor", "java.vm.name",
	"java.specification.version", "java.specification.vendor", "java.specification.name",
	"java.class.version", "java.class.path", "java.library.path", "java.io.tmpdir",
	"os.name", "os.arch", "os.version", "user.name", "user.home", "user.dir",
	"java.runtime.name", "java.runtime.version", "file.encoding", NULL,
};
static const struct {
	const char *key, *value;
} sys_literal[] = {
	{"file.separator", "/"}, {"path.separator", ":"}, {"line.separator", "\n"},
};
static const char *const java_keys[] = {"version", "runtime", "vm", "os", "hw", "locale", NULL};
/* PATH is set for every service manager, container and shell */
static const char *const env_always[] = {"PATH", NULL};
/* event:KEY with an event (a logged message) and no marker or exception */
static const char *const event_always[] = {"ThreadName", "Level", "ThreadId", "Timestamp", "Logger", NULL};

static void add_exfil(struct lk_jndi *j, const char *name)
{
	for (size_t i = 0; i < j->n_exfil; i++)
		if (!strcmp(j->exfil[i], name))
			return;
	if (j->n_exfil < LK_MAX_EXFIL)
		j->exfil[j->n_exfil++] = xstrdup(name);
}

/* Is a host lookup there to leak its value, or only to spell something
 * with its default (${env:BARFOO:-l}dap)?  Spelling defaults are a few
 * characters; a lookup without a default, with a longer fallback
 * (${env:USER:-nobody}), or whose value the host always has, reads it. */
#define SPELLING_DEFAULT_MAX 4
static bool leaks(const struct hostref *r)
{
	return r->resolved || !r->has_default || r->default_len > SPELLING_DEFAULT_MAX;
}

/* A jndi lookup of var[0..n) is performed.  Host lookups whose value
 * landed after "jndi:" are exfiltration unless they only spell; those in a
 * child that straddles the prefix count only when they had no default
 * (there a default is the obfuscation idiom ${env:X:-j}). */
static void record_jndi(struct eval *x, const char *var, size_t n, size_t prefix_end,
			const struct kids *kids)
{
	struct lk_result *r = x->res;
	struct buf d = BUF_INIT;
	/* Interpolator lowercases the prefix: the lookup is "jndi" whatever
	 * case it was spelt in, and its key is what follows the colon. */
	buf_adds(&d, "jndi:");
	expand_markers(x, var + prefix_end, n - prefix_end, &d);
	const char *dec = buf_cstr(&d);
	for (size_t i = 0; i < r->n_found; i++) {
		if (!strcmp(r->found[i].decoded, dec)) {
			if (r->found[i].forced && !x->forced) {
				r->found[i].forced = false;
				r->found[i].pass = x->pass;
			}
			buf_free(&d);
			return;
		}
	}
	if (r->n_found == LK_MAX_FOUND) {
		buf_free(&d);
		return;
	}
	struct lk_jndi *j = &r->found[r->n_found++];
	memset(j, 0, sizeof *j);
	j->decoded = buf_detach(&d);
	j->pass = x->pass;
	j->forced = x->forced;
	if (x->pass == 1 && x->in_top) {
		j->expr_start = x->top_start;
		j->expr_end = x->top_end;
	}
	for (size_t k = 0; kids && k < kids->n; k++) {
		const struct kid *kid = &kids->v[k];
		if (kid->out_start >= n || kid->out_end <= prefix_end)
			continue;
		bool whole = kid->out_start >= prefix_end;
		for (size_t i = kid->ref_start; i < kid->ref_end; i++)
			if (whole ? leaks(&x->refs[i]) : !x->refs[i].has_default)
				add_exfil(j, x->refs[i].name);
	}
}

/* Interpolator.lookup for var[0..n); a TEXT value is appended to val. */
static enum value_kind lookup(struct eval *x, const char *var, size_t n, bool has_default,
			      size_t default_len, const struct kids *kids, struct buf *val)
{
	bool naive = x->flags & LK_NAIVE;
	const char *colon = memchr(var, ':', n);
	const char *key = var;
	size_t kn = n;
	if (colon) {
		size_t pn = (size_t)(colon - var);
		key = colon + 1;
		kn = n - pn - 1;
		size_t k = 0;
		while (k < sizeof lookups / sizeof lookups[0] && !ieq(var, pn, lookups[k].prefix))
			k++;
		if (k < sizeof lookups / sizeof lookups[0]) {
			enum lk_kind kind = lookups[k].kind;
			bool resolved = false;
			switch (kind) {
			case K_JNDI:
				record_jndi(x, var, n, pn + 1, kids);
				break;  /* it fails (null), as a blocked one does */
			case K_LOWER:
			case K_UPPER:
				if (!spend(x, kn))
					return VALUE_NULL;
				change_case(key, kn, kind == K_UPPER, val);
				return VALUE_TEXT;
			case K_DATE:
				if (!spend(x, kn))
					return VALUE_NULL;
				if (!format_date(key, kn, val)) {
					buf_reset(val);
					put_marker(x, "date", 4, val);
				}
				return VALUE_TEXT;
			case K_JAVA:
				if (!naive && !in_list(key, kn, java_keys))
					return VALUE_THROW;     /* IllegalArgumentException */
				resolved = !naive;
				break;
			case K_SYS:
				for (size_t i = 0; !naive && i < sizeof sys_literal / sizeof sys_literal[0]; i++) {
					if (eq(key, kn, sys_literal[i].key)) {
						/* a constant: it spells, leaks nothing */
						x->res->naive_differs |= has_default;
						buf_adds(val, sys_literal[i].value);
						return VALUE_TEXT;
					}
				}
				resolved = !naive && in_list(key, kn, sys_always);
				break;
			case K_ENV:
				resolved = !naive && in_list(key, kn, env_always);
				break;
			case K_EVENT:
				if (!naive && eq(key, kn, "Message"))
					return VALUE_THROW;     /* the message again: a cycle */
				resolved = !naive && in_list(key, kn, event_always);
				break;
			case K_HOST:
				break;
			}
			if (kind != K_JNDI)
				add_ref(x, var, n, has_default, default_len, resolved);
			/* naively, its default would be used */
			x->res->naive_differs |= resolved && has_default;
			if (resolved) {
				put_marker(x, var, n, val);
				return VALUE_TEXT;
			}
		}
		/* Nothing: Interpolator retries the key in the context
		 * properties. */
	}
	if (!naive && (eq(key, kn, "hostName") || eq(key, kn, "contextName"))) {
		add_ref(x, key, kn, has_default, default_len, true);
		x->res->naive_differs |= has_default;
		put_marker(x, key, kn, val);
		return VALUE_TEXT;
	}
	return VALUE_NULL;
}

static void substitute(struct eval *x, const char *s, size_t n, const struct prior *prior,
		       int depth, struct buf *out, struct kids *kids, bool top);

/* StrSubstitutor's split of a substituted name s[0..n) into variable
 * (*var, *var_len) and default: the first ":-", or the first ":\-" (an
 * escaped delimiter), after which 2.14.1 makes the variable "<before>:<after
 * ':\'>" up to a later ":-" (built in quirk), and the rest the default. */
static void split_name(const char *s, size_t n, struct buf *quirk, const char **var,
		       size_t *var_len, const char **def, size_t *def_len)
{
	*var = s;
	*var_len = n;
	*def = NULL;
	*def_len = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] != ':')
			continue;
		if (i + 2 < n && s[i + 1] == '\\' && s[i + 2] == '-') {
			buf_add(quirk, s, i);
			buf_addc(quirk, ':');
			size_t j = i + 3;
			while (j + 1 < n && !(s[j] == ':' && s[j + 1] == '-'))
				j++;
			if (j + 1 < n) {
				buf_add(quirk, s + i + 3, j - i - 3);
				*def = s + j + 2;
				*def_len = n - j - 2;
			} else {
				buf_add(quirk, s + i + 2, n - i - 2);
			}
			*var = buf_cstr(quirk);
			*var_len = quirk->len;
			return;
		}
		if (s[i + 1] == '-') {
			*var_len = i;
			*def = s + i + 2;
			*def_len = n - i - 2;
			return;
		}
	}
}

static bool in_prior(const struct prior *p, const char *name, size_t n)
{
	for (; p; p = p->up)
		if (p->n == n && !memcmp(p->name, name, n))
			return true;
	return false;
}

static void throw_here(struct eval *x)
{
	x->thrown = true;
	x->res->naive_differs = true;
	struct lk_result *r = x->res;
	r->stop = LK_STOP_THROW;
	r->stop_pass = x->pass;
	r->stop_at = x->pass == 1 && x->in_top ? x->top_end : SIZE_MAX;
}

/* One variable: name_expr is the text between "${" and "}", raw the whole
 * "${...}" (written back unchanged when nothing resolves it). */
static void resolve(struct eval *x, const char *name_expr, size_t name_len, const char *raw,
		    size_t raw_len, const struct prior *prior, int depth, struct buf *out)
{
	if (depth > LK_MAX_DEPTH)
		hit_bound(x, LK_BOUND_DEPTH);
	if (halted(x)) {
		buf_add(out, raw, raw_len);
		return;
	}
	struct buf name = BUF_INIT, var = BUF_INIT, val = BUF_INIT;
	struct kids kids = {0};
	/* the name is a substitution of its own: fresh priorVariables */
	substitute(x, name_expr, name_len, NULL, depth, &name, &kids, false);
	const char *def = NULL, *v = "";
	size_t def_len = 0, vn = 0;
	enum value_kind kind = VALUE_NULL;
	if (!halted(x)) {
		split_name(name.data ? name.data : "", name.len, &var, &v, &vn, &def, &def_len);
		if (in_prior(prior, v, vn)) {
			/* Log4j throws (infinite loop); naively, it is
			 * only unresolved */
			if (!(x->flags & LK_NAIVE))
				throw_here(x);
			def = NULL;
		} else {
			kind = lookup(x, v, vn, def != NULL, def_len, &kids, &val);
			if (kind == VALUE_THROW)
				throw_here(x);
		}
	}
	if (halted(x)) {
		buf_add(out, raw, raw_len);
	} else if (kind == VALUE_TEXT || def) {
		struct prior me = {v, vn, prior};
		if (kind == VALUE_TEXT)
			substitute(x, val.data ? val.data : "", val.len, &me, depth + 1, out, NULL, false);
		else
			substitute(x, def, def_len, &me, depth + 1, out, NULL, false);
	} else {
		buf_add(out, raw, raw_len);
	}
	buf_free(&val);
	buf_free(&var);
	buf_free(&name);
	free(kids.v);
}

static void substitute(struct eval *x, const char *s, size_t n, const struct prior *prior,
		       int depth, struct buf *out, struct kids *kids, bool top)
{
	struct lk_result *r = x->res;
	size_t region = out->len;
	size_t i = 0;
	while (i < n) {
		if (halted(x) || too_big(x, out)) {
			buf_add(out, s + i, n - i);
			return;
		}
		const char *d = memchr(s + i, '$', n - i);
		size_t lit = d ? (size_t)(d - s) - i : n - i;
		spend(x, lit + 1);
		buf_add(out, s + i, lit);
		i += lit;
		if (!d)
			break;
		if (i + 1 >= n || s[i + 1] != '{') {
			buf_addc(out, '$');
			i++;
			continue;
		}
		if (out->len > region && out->data[out->len - 1] == '$') {
			/* "$${": the escape already written stands for the '$'
			 * of a literal "${", which is not evaluated (this pass). */
			buf_addc(out, '{');
			x->reshaped |= top;
			i += 2;
			continue;
		}
		size_t e = lookup_expr_len(s + i, n - i);
		spend(x, e ? e : n - i);
		if (!e) {
			/* an unclosed "${" ends this substitution */
			if (top && x->pass == 1 && r->stop == LK_STOP_NONE && !x->forced) {
				r->stop = LK_STOP_UNCLOSED;
				r->stop_pass = 1;
				r->stop_at = i;
			}
			buf_add(out, s + i, n - i);
			return;
		}
		size_t out_start = out->len, ref_start = x->n_refs;
		if (top) {
			x->in_top = true;
			x->top_start = i;
			x->top_end = i + e;
		}
		resolve(x, s + i + 2, e - 3, s + i, e, prior, depth + 1, out);
		if (top) {
			x->in_top = false;
			/* a value (not the variable's own text) with '$' or '{' */
			size_t vn = out->len - out_start;
			if (vn != e || memcmp(out->data + out_start, s + i, e))
				x->reshaped |= memchr(out->data + out_start, '$', vn) ||
					       memchr(out->data + out_start, '{', vn);
			if (x->pass == 1 && !halted(x))
				r->last_expr_end = i + e;
		}
		if (kids)
			add_kid(kids, (struct kid){out_start, out->len, ref_start, x->n_refs});
		i += e;
	}
}

/* Offset of the first "${" in s[from..n), or n. */
static size_t find_open(const char *s, size_t n, size_t from)
{
	for (size_t i = from; i + 1 < n; i++) {
		const char *d = memchr(s + i, '$', n - i - 1);
		if (!d)
			return n;
		i = (size_t)(d - s);
		if (s[i + 1] == '{')
			return i;
	}
	return n;
}

/* The result's fields but the found array, of which n_found are used. */
static void result_init(struct lk_result *res)
{
	size_t n = offsetof(struct lk_result, found);
	memset(res, 0, n);
	memset((char *)res + n + sizeof res->found, 0, sizeof *res - n - sizeof res->found);
	res->stop_at = SIZE_MAX;
}

size_t lookup_eval(const char *s, size_t n, unsigned flags, struct lk_result *res)
{
	result_init(res);
	struct eval x = {.res = res, .flags = flags};
	struct buf t = BUF_INIT, o = BUF_INIT;
	/* 0xFF is the marker byte: an input 0xFF (never in UTF-8) is read
	 * as 0xFE, which means the same to Log4j (no syntax, no letter) */
	buf_add(&t, s, n);
	for (size_t i = 0; i < t.len; i++)
		if ((unsigned char)t.data[i] == MARK)
			t.data[i] = (char)0xFE;
	/* MessagePatternConverter: at every "${" of the (current) message,
	 * substitute all of it again.  A pass that changes nothing would be
	 * repeated identically: stop there. */
	size_t at = 0;
	bool changed = false;
	for (;;) {
		size_t j = find_open(t.data, t.len, at);
		if (j >= t.len)
			break;
		x.pass++;
		buf_reset(&o);
		spend(&x, t.len);
		x.reshaped = false;
		substitute(&x, t.data, t.len, NULL, 0, &o, NULL, true);
		if (halted(&x))
			break;
		changed = o.len != t.len || memcmp(o.data, t.data, t.len);
		struct buf tmp = t;
		t = o;
		o = tmp;
		/* Another pass sees the same unresolved variables in the same
		 * places, and the values of this one, which hold no syntax:
		 * it would make the same lookups. */
		if (!changed || !x.reshaped)
			break;
		at = j + 1;
	}
	/* The message goes on: a "${" further on would make one more pass. */
	if ((flags & LK_FORCE) && !halted(&x) && changed && find_open(t.data, t.len, 0) < t.len) {
		x.forced = true;
		x.pass++;
		buf_reset(&o);
		substitute(&x, t.data, t.len, NULL, 0, &o, NULL, true);
		if (res->stop == LK_STOP_THROW)   /* only the extra pass threw */
			res->stop = LK_STOP_NONE;
	}
	res->passes = x.pass;
	buf_free(&t);
	buf_free(&o);
	for (size_t i = 0; i < x.n_refs; i++)
		free(x.refs[i].name);
	free(x.refs);
	for (size_t i = 0; i < x.n_marks; i++)
		free(x.marks[i]);
	free(x.marks);
	res->steps = x.steps;
	return res->n_found;
}

void lookup_result_free(struct lk_result *res)
{
	for (size_t i = 0; i < res->n_found; i++) {
		free(res->found[i].decoded);
		for (size_t k = 0; k < res->found[i].n_exfil; k++)
			free(res->found[i].exfil[k]);
	}
	result_init(res);
}
