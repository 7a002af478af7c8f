/* lookup_eval.c - a bounded emulation of Log4j 2's StrSubstitutor and
 * Interpolator (see lookup_eval.h).
 *
 * substitute() is StrSubstitutor.substitute: it copies text to an output
 * buffer, and for each "${" whose '}' it finds (counting nested "${") it
 * calls resolve() on the name between them.  resolve() substitutes the name
 * first (inside-out), splits off the ":-" default, asks lookup() and writes
 * the value: a computed value is substituted again (Log4j rescans replaced
 * text), an opaque host value is written as a "${...}" marker and not
 * rescanned, and an unresolved variable is left as its original text.  The
 * escape "$${" is honoured by looking at the last byte already written, as
 * Log4j looks at the previous byte of its (already rewritten) buffer.
 *
 * To tell an exfiltration lookup inside a jndi URL from one used only to
 * spell "jndi", resolve() records for each direct child of a name where the
 * child's value landed in the name ("kids"), and every host lookup is
 * appended to one list in evaluation order, so a child's host lookups are a
 * contiguous range of it. */
#include "lookup_eval.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

struct hostref {
	char *name;             /* "env:AWS_SECRET_ACCESS_KEY", "hostName" */
	bool has_default;
	size_t default_len;
};

struct kid {
	size_t out_start, out_end;   /* where the child's value is in the name */
	size_t ref_start, ref_end;   /* its host lookups, indexes into refs */
};

struct kids {
	struct kid *v;
	size_t n, cap;
};

struct eval {
	struct lk_result *res;
	struct hostref *refs;
	size_t n_refs, cap_refs;
	size_t steps;
	bool stop;              /* a bound was hit: copy the rest verbatim */
};

enum value_kind { VALUE_NULL, VALUE_OPAQUE, VALUE_TEXT };

static void hit_bound(struct eval *x)
{
	x->stop = true;
	x->res->limited = true;
}

static bool spend(struct eval *x, size_t n)
{
	x->steps += n;
	if (x->steps > LK_MAX_STEPS)
		hit_bound(x);
	return !x->stop;
}

static bool too_big(struct eval *x, const struct buf *b)
{
	if (b->len > LK_MAX_TEXT)
		hit_bound(x);
	return x->stop;
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

static void add_kid(struct kids *k, struct kid kid)
{
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 8;
		k->v = xrealloc(k->v, k->cap * sizeof *k->v);
	}
	k->v[k->n++] = kid;
}

static void add_ref(struct eval *x, const char *name, size_t n, bool has_default,
		    size_t default_len)
{
	if (x->n_refs == x->cap_refs) {
		x->cap_refs = x->cap_refs ? 2 * x->cap_refs : 8;
		x->refs = xrealloc(x->refs, x->cap_refs * sizeof *x->refs);
	}
	x->refs[x->n_refs].name = xstrndup(name, n);
	x->refs[x->n_refs].has_default = has_default;
	x->refs[x->n_refs].default_len = default_len;
	x->n_refs++;
}

static bool ieq(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);
	if (n != w)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != word[i])
			return false;
	}
	return true;
}

static bool eq(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* String.toLowerCase()/toUpperCase() for what matters here: ASCII plus the
 * non-ASCII letters that Java maps onto ASCII ones (KELVIN SIGN -> k,
 * dotless i -> I, long s -> S), a known way to spell "jndi" in disguise. */
static void change_case(const char *s, size_t n, bool upper, struct buf *out)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (!upper && c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x84 &&
		    (unsigned char)s[i + 2] == 0xAA) {
			buf_addc(out, 'k');
			i += 3;
			continue;
		}
		if (upper && c == 0xC4 && i + 1 < n && (unsigned char)s[i + 1] == 0xB1) {
			buf_addc(out, 'I');
			i += 2;
			continue;
		}
		if (upper && c == 0xC5 && i + 1 < n && (unsigned char)s[i + 1] == 0xBF) {
			buf_addc(out, 'S');
			i += 2;
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
 * or an unclosed quote makes Log4j fall back to a default date format: the
 * value is then an opaque date. */
static enum value_kind format_date(const char *s, size_t n, struct buf *out)
{
	static const char fields[] = "GyYMLwWDdFEuaHkKhmsSzZX";
	size_t i = 0;
	while (i < n) {
		char c = s[i];
		if (c == '\'') {
			if (i + 1 < n && s[i + 1] == '\'') {
				buf_addc(out, '\'');
				i += 2;
				continue;
			}
			const char *q = memchr(s + i + 1, '\'', n - i - 1);
			if (!q)
				return VALUE_OPAQUE;
			/* inside quotes, '' is also a quote */
			size_t j = i + 1;
			for (;;) {
				q = memchr(s + j, '\'', n - j);
				if (!q)
					return VALUE_OPAQUE;
				size_t k = (size_t)(q - s);
				buf_add(out, s + j, k - j);
				if (k + 1 < n && s[k + 1] == '\'') {
					buf_addc(out, '\'');
					j = k + 2;
					continue;
				}
				i = k + 1;
				break;
			}
			continue;
		}
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			if (!strchr(fields, c))
				return VALUE_OPAQUE;
			buf_addc(out, '0');
		} else {
			buf_addc(out, c);
		}
		i++;
	}
	return VALUE_TEXT;
}

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
 * characters; a lookup without a default, or with a longer fallback
 * (${env:USER:-nobody}), is reading the host. */
#define SPELLING_DEFAULT_MAX 4
static bool leaks(const struct hostref *r)
{
	return !r->has_default || r->default_len > SPELLING_DEFAULT_MAX;
}

/* A jndi lookup of name[0..n) would be performed.  Host lookups whose value
 * landed after "jndi:" are exfiltration unless they only spell; those in a
 * child that straddles the prefix count only when they had no default
 * (there a default is the obfuscation idiom ${env:X:-j}). */
static void record_jndi(struct eval *x, const char *name, size_t n, size_t prefix_end,
			const struct kids *kids)
{
	struct lk_result *r = x->res;
	if (r->n_found == LK_MAX_FOUND)
		return;
	struct lk_jndi *j = &r->found[r->n_found++];
	memset(j, 0, sizeof *j);
	/* Interpolator lowercases the prefix: the lookup is "jndi" whatever
	 * case it was spelt in, and its key is what follows the colon. */
	struct buf d = BUF_INIT;
	buf_adds(&d, "jndi:");
	buf_add(&d, name + prefix_end, n - prefix_end);
	j->decoded = buf_detach(&d);
	for (size_t k = 0; k < kids->n; k++) {
		const struct kid *kid = &kids->v[k];
		if (kid->out_start >= n || kid->out_end <= prefix_end)
			continue;
		bool whole = kid->out_start >= prefix_end;
		for (size_t i = kid->ref_start; i < kid->ref_end; i++)
			if (whole ? leaks(&x->refs[i]) : !x->refs[i].has_default)
				add_exfil(j, x->refs[i].name);
	}
}

/* Lookups that read the host or the logging context: their value is not
 * the attacker's, and inside a jndi URL they leak it. */
static bool host_prefix(const char *p, size_t n, const char *key, size_t kn)
{
	static const char *const prefixes[] = {
		"env", "sys", "ctx", "main", "bundle", "docker", "k8s", "spring", "web",
		"jvmrunargs", "log4j", "sd", "map", "marker", "event",
	};
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (ieq(p, n, prefixes[i]))
			return true;
	if (ieq(p, n, "java"))
		return eq(key, kn, "version") || eq(key, kn, "runtime") || eq(key, kn, "vm") ||
		       eq(key, kn, "os") || eq(key, kn, "locale") || eq(key, kn, "hw");
	return false;
}

/* Interpolator.lookup for var[0..n).  A TEXT value is left in val. */
static enum value_kind lookup(struct eval *x, const char *var, size_t n, bool has_default,
			      size_t default_len, const struct kids *kids, struct buf *val)
{
	const char *colon = memchr(var, ':', n);
	const char *key = var;
	size_t kn = n;
	if (colon) {
		const char *p = var;
		size_t pn = (size_t)(colon - var);
		key = colon + 1;
		kn = n - pn - 1;
		if (ieq(p, pn, "jndi")) {
			record_jndi(x, var, n, pn + 1, kids);
			return VALUE_OPAQUE;
		}
		if (ieq(p, pn, "lower") || ieq(p, pn, "upper")) {
			if (!spend(x, kn))
				return VALUE_NULL;
			change_case(key, kn, ieq(p, pn, "upper"), val);
			return VALUE_TEXT;
		}
		if (ieq(p, pn, "date")) {
			if (!spend(x, kn))
				return VALUE_NULL;
			return format_date(key, kn, val);
		}
		if (host_prefix(p, pn, key, kn)) {
			add_ref(x, var, n, has_default, default_len);
			/* The attacker's default is what the obfuscation relies on
			 * (${env:NOPE:-j}): assume the host value is absent. */
			return has_default ? VALUE_NULL : VALUE_OPAQUE;
		}
		/* Unknown prefix or no value: Interpolator retries the key in
		 * the configuration properties. */
	}
	if (eq(key, kn, "hostName") || eq(key, kn, "contextName")) {
		add_ref(x, key, kn, has_default, default_len);
		return VALUE_OPAQUE;
	}
	return VALUE_NULL;
}

static void substitute(struct eval *x, const char *s, size_t n, int depth, struct buf *out,
		       struct kids *kids);

/* One variable: name_expr is the text between "${" and "}", raw the whole
 * "${...}" (written back unchanged when nothing resolves it). */
static void resolve(struct eval *x, const char *name_expr, size_t name_len, const char *raw,
		    size_t raw_len, int depth, struct buf *out)
{
	if (depth > LK_MAX_DEPTH)
		hit_bound(x);
	if (x->stop) {
		buf_add(out, raw, raw_len);
		return;
	}
	struct buf name = BUF_INIT;
	struct kids kids = {0};
	substitute(x, name_expr, name_len, depth, &name, &kids);

	size_t var_len = name.len;
	const char *def = NULL;
	size_t def_len = 0;
	for (size_t k = 0; k + 1 < name.len; k++) {
		if (name.data[k] != ':')
			continue;
		if (name.data[k + 1] == '\\' && k + 2 < name.len && name.data[k + 2] == '-') {
			k += 2;     /* ":\-" is an escaped delimiter */
			continue;
		}
		if (name.data[k + 1] == '-') {
			var_len = k;
			def = name.data + k + 2;
			def_len = name.len - k - 2;
			break;
		}
	}

	struct buf val = BUF_INIT;
	enum value_kind kind = VALUE_NULL;
	if (!x->stop)
		kind = lookup(x, name.len ? name.data : "", var_len, def != NULL, def_len, &kids,
			      &val);
	if (x->stop) {
		buf_add(out, raw, raw_len);
	} else if (kind == VALUE_OPAQUE) {
		buf_adds(out, "${");
		buf_add(out, name.data, var_len);
		buf_addc(out, '}');
	} else if (kind == VALUE_TEXT) {
		substitute(x, val.data ? val.data : "", val.len, depth + 1, out, NULL);
	} else if (def) {
		substitute(x, def, def_len, depth + 1, out, NULL);
	} else {
		buf_add(out, raw, raw_len);
	}
	buf_free(&val);
	buf_free(&name);
	free(kids.v);
}

static void substitute(struct eval *x, const char *s, size_t n, int depth, struct buf *out,
		       struct kids *kids)
{
	size_t region = out->len;
	size_t i = 0;
	while (i < n) {
		if (x->stop || too_big(x, out)) {
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
			 * of a literal "${", which is not evaluated. */
			buf_addc(out, '{');
			i += 2;
			continue;
		}
		size_t e = lookup_expr_len(s + i, n - i);
		spend(x, e ? e : n - i);
		if (!e) {
			buf_add(out, s + i, n - i);
			return;
		}
		size_t out_start = out->len, ref_start = x->n_refs;
		resolve(x, s + i + 2, e - 3, s + i, e, depth + 1, out);
		if (kids)
			add_kid(kids, (struct kid){out_start, out->len, ref_start, x->n_refs});
		i += e;
	}
}

size_t lookup_eval(const char *s, size_t n, struct lk_result *res)
{
	memset(res, 0, sizeof *res);
	struct eval x = {.res = res};
	struct buf out = BUF_INIT;
	substitute(&x, s, n, 0, &out, NULL);
	buf_free(&out);
	for (size_t i = 0; i < x.n_refs; i++)
		free(x.refs[i].name);
	free(x.refs);
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
	memset(res, 0, sizeof *res);
}
