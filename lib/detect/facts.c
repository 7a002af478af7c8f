/* facts.c - the facts a finding is judged on, and their text form (see
 * facts.h). */
#include "detect/facts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void facts_free(struct facts *fx)
{
	for (size_t i = 0; i < fx->nruns; i++) {
		free(fx->runs[i].lo);
		free(fx->runs[i].hi);
	}
	free(fx->runs);
	for (size_t i = 0; i < fx->nclasses; i++)
		free(fx->classes[i].cls);
	free(fx->classes);
	for (size_t i = 0; i < fx->nrefs; i++) {
		free(fx->refs[i].cls);
		free(fx->refs[i].ref);
	}
	free(fx->refs);
	memset(fx, 0, sizeof *fx);
}

void facts_add_run(struct facts *fx, const char *lo, const char *hi)
{
	fx->runs = xrealloc(fx->runs, (fx->nruns + 1) * sizeof *fx->runs);
	fx->runs[fx->nruns].lo = xstrdup(lo);
	fx->runs[fx->nruns].hi = xstrdup(hi);
	fx->nruns++;
}

void facts_add_claim(struct facts *fx, const char *source, const char *text)
{
	if (fx->nclaims >= sizeof fx->claims / sizeof fx->claims[0])
		return;
	struct facts_claim *c = &fx->claims[fx->nclaims++];
	c->source = !strcmp(source, "manifest") ? "manifest" : "pom.properties";
	c->ok = text != NULL;
	snprintf(c->text, sizeof c->text, "%s", text ? text : "");
}

int facts_has(const struct facts *fx, const char *cls)
{
	for (size_t i = 0; i < fx->nclasses; i++)
		if (!strcmp(fx->classes[i].cls, cls))
			return fx->classes[i].present;
	return -1;
}

int facts_refers(const struct facts *fx, const char *cls, const char *ref)
{
	for (size_t i = 0; i < fx->nrefs; i++)
		if (!strcmp(fx->refs[i].cls, cls) && !strcmp(fx->refs[i].ref, ref))
			return fx->refs[i].yes;
	return -1;
}

void facts_add_class(struct facts *fx, const char *cls, bool present)
{
	if (facts_has(fx, cls) >= 0)
		return;
	fx->classes = xrealloc(fx->classes, (fx->nclasses + 1) * sizeof *fx->classes);
	fx->classes[fx->nclasses].cls = xstrdup(cls);
	fx->classes[fx->nclasses].present = present;
	fx->nclasses++;
}

void facts_add_ref(struct facts *fx, const char *cls, const char *ref, bool yes)
{
	if (facts_refers(fx, cls, ref) >= 0)
		return;
	fx->refs = xrealloc(fx->refs, (fx->nrefs + 1) * sizeof *fx->refs);
	fx->refs[fx->nrefs].cls = xstrdup(cls);
	fx->refs[fx->nrefs].ref = xstrdup(ref);
	fx->refs[fx->nrefs].yes = yes;
	fx->nrefs++;
}

/* A name that survives the text form: printable ASCII, no blank, no '>'
 * (the refers separator), no ',' (the run separator), not empty. */
static bool writable(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '>' || *s == ',')
			return false;
	return true;
}

void facts_format(const struct facts *fx, struct buf *out)
{
	buf_adds(out, "v1");
	if (fx->constrained) {
		buf_adds(out, " set=");
		bool first = true;
		for (size_t i = 0; i < fx->nruns; i++) {
			const struct facts_run *r = &fx->runs[i];
			if (!writable(r->lo) || !writable(r->hi) || strstr(r->lo, "..") || strstr(r->hi, ".."))
				continue;
			buf_adds(out, first ? "" : ",");
			first = false;
			if (!strcmp(r->lo, r->hi))
				buf_adds(out, r->lo);
			else
				buf_printf(out, "%s..%s", r->lo, r->hi);
		}
	}
	for (size_t i = 0; i < fx->nclaims; i++) {
		const struct facts_claim *c = &fx->claims[i];
		const char *tag = !strcmp(c->source, "manifest") ? "mf" : "pom";
		if (c->ok && writable(c->text))
			buf_printf(out, " %s=%s", tag, c->text);
		else
			buf_printf(out, " %s?", tag);
	}
	for (size_t i = 0; i < fx->nclasses; i++)
		if (writable(fx->classes[i].cls))
			buf_printf(out, " %c%s", fx->classes[i].present ? '+' : '-', fx->classes[i].cls);
	for (size_t i = 0; i < fx->nrefs; i++)
		if (writable(fx->refs[i].cls) && writable(fx->refs[i].ref))
			buf_printf(out, " %c%s>%s", fx->refs[i].yes ? '@' : '!', fx->refs[i].cls, fx->refs[i].ref);
}

static bool fail(struct facts *fx, struct buf *err, const char *why, const char *tok, size_t tl)
{
	facts_free(fx);
	if (tl > 40)
		tl = 40;
	buf_printf(err, "facts: %s", why);
	if (tok) {
		buf_adds(err, " at \"");
		for (size_t i = 0; i < tl; i++)
			buf_addc(err, (unsigned char)tok[i] >= 0x20 && (unsigned char)tok[i] < 0x7f ? tok[i] : '?');
		buf_adds(err, "\"");
	}
	return false;
}

static bool parse_runs(struct facts *fx, const char *s, size_t n)
{
	while (n) {
		const char *comma = memchr(s, ',', n);
		size_t il = comma ? (size_t)(comma - s) : n;
		if (!il || fx->nruns >= FACTS_MAX_ITEMS)
			return false;
		char *item = xstrndup(s, il);
		char *dots = strstr(item, "..");
		if (dots) {
			*dots = 0;
			if (!item[0] || !dots[2] || strstr(dots + 2, "..")) {
				free(item);
				return false;
			}
			facts_add_run(fx, item, dots + 2);
		} else {
			facts_add_run(fx, item, item);
		}
		free(item);
		s += il;
		n -= il;
		if (comma) {
			s++;
			n--;
			if (!n)
				return false;
		}
	}
	return true;
}

bool facts_parse(const char *text, size_t len, struct facts *fx, struct buf *err)
{
	memset(fx, 0, sizeof *fx);
	if (len > FACTS_MAX_TEXT)
		return fail(fx, err, "longer than 8192 bytes", NULL, 0);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7f)
			return fail(fx, err, "not printable ASCII", NULL, 0);
	size_t pos = 0, ntok = 0;
	while (pos < len) {
		if (text[pos] == ' ') {
			pos++;
			continue;
		}
		const char *t = text + pos;
		size_t tl = 0;
		while (pos + tl < len && text[pos + tl] != ' ')
			tl++;
		pos += tl;
		if (ntok++ == 0) {
			if (tl != 2 || memcmp(t, "v1", 2))
				return fail(fx, err, "does not start with v1", t, tl);
			continue;
		}
		if (fx->nclasses + fx->nrefs >= FACTS_MAX_ITEMS)
			return fail(fx, err, "too many classes", NULL, 0);
		if (tl >= 4 && !memcmp(t, "set=", 4)) {
			if (fx->constrained)
				return fail(fx, err, "two sets", t, tl);
			fx->constrained = true;
			if (!parse_runs(fx, t + 4, tl - 4))
				return fail(fx, err, "bad release set", t, tl);
		} else if ((tl >= 3 && !memcmp(t, "mf", 2) && (t[2] == '=' || t[2] == '?')) ||
			   (tl >= 4 && !memcmp(t, "pom", 3) && (t[3] == '=' || t[3] == '?'))) {
			size_t kl = t[0] == 'm' ? 2 : 3;
			bool ok = t[kl] == '=';
			if (ok ? tl == kl + 1 || tl - kl - 1 >= sizeof fx->claims[0].text : tl != kl + 1)
				return fail(fx, err, "bad claim", t, tl);
			if (fx->nclaims >= 2)
				return fail(fx, err, "more than two claims", t, tl);
			char *v = ok ? xstrndup(t + kl + 1, tl - kl - 1) : NULL;
			facts_add_claim(fx, kl == 2 ? "manifest" : "pom.properties", v);
			free(v);
		} else if (tl >= 2 && (t[0] == '+' || t[0] == '-')) {
			char *c = xstrndup(t + 1, tl - 1);
			bool bad = strchr(c, '>') || strchr(c, ',') || facts_has(fx, c) >= 0;
			if (!bad)
				facts_add_class(fx, c, t[0] == '+');
			free(c);
			if (bad)
				return fail(fx, err, "bad or repeated class", t, tl);
		} else if (tl >= 4 && (t[0] == '@' || t[0] == '!')) {
			char *c = xstrndup(t + 1, tl - 1);
			char *gt = strchr(c, '>');
			bool bad = !gt || gt == c || !gt[1] || strchr(gt + 1, '>');
			if (!bad) {
				*gt = 0;
				bad = strchr(c, ',') || strchr(gt + 1, ',') || facts_refers(fx, c, gt + 1) >= 0;
				if (!bad)
					facts_add_ref(fx, c, gt + 1, t[0] == '@');
			}
			free(c);
			if (bad)
				return fail(fx, err, "bad or repeated reference", t, tl);
		} else {
			return fail(fx, err, "unknown token", t, tl);
		}
	}
	if (!ntok)
		return fail(fx, err, "empty", NULL, 0);
	return true;
}
