/* rules.c - parser for the rules file (see rules.h and rules/log4j.rules).
 *
 * The format is line based: a directive word, then whitespace-separated
 * tokens; "double quoted" tokens may contain spaces and \" \\ escapes;
 * '#' starts a comment outside quotes.  The parser is strict: an unknown
 * directive, an unknown CVE id, a version that does not parse or a release
 * list out of order is an error naming the line, so a bad --rules file is
 * refused before any scan starts rather than silently weakening it. */
#include "rules/rules.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char l4s_default_rules[];

const char *rules_component_name(enum component c)
{
	return c == COMP_CORE ? "log4j-core" : "log4j-1.x";
}

const char *rules_severity_of(double cvss)
{
	if (cvss >= 9.0)
		return "critical";
	if (cvss >= 7.0)
		return "high";
	if (cvss >= 4.0)
		return "medium";
	if (cvss > 0.0)
		return "low";
	return "none";
}

int rules_severity_rank(const char *sev)
{
	static const char *names[] = {"none", "low", "medium", "high", "critical"};
	for (int i = 0; i < 5; i++)
		if (!strcmp(sev, names[i]))
			return i;
	return -1;
}

#define MAX_TOKENS 300

struct line {
	char *tok[MAX_TOKENS];
	int n;
};

/* Split one line (modified in place) into tokens. */
static const char *tokenize(char *s, struct line *ln)
{
	ln->n = 0;
	while (*s) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (!*s || *s == '#')
			break;
		if (ln->n == MAX_TOKENS)
			return "too many tokens";
		if (*s == '"') {
			char *out = ++s;
			ln->tok[ln->n++] = out;
			while (*s && *s != '"') {
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				*out++ = *s++;
			}
			if (*s != '"')
				return "unterminated string";
			s++;
			*out = 0;
			if (*s && *s != ' ' && *s != '\t' && *s != '\r')
				return "text after closing quote";
			continue;
		}
		ln->tok[ln->n++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r')
			s++;
		if (*s)
			*s++ = 0;
	}
	return NULL;
}

static int parse_component(const char *s)
{
	if (!strcmp(s, "log4j-core"))
		return COMP_CORE;
	if (!strcmp(s, "log4j-1.x"))
		return COMP_LOG4J1;
	return -1;
}

static struct rule_cve *find_cve(struct rules *r, const char *id)
{
	for (size_t i = 0; i < r->ncves; i++)
		if (!strcmp(r->cves[i].id, id))
			return &r->cves[i];
	return NULL;
}

int rules_release_index(const struct rules *r, enum component c, const char *v)
{
	for (size_t i = 0; i < r->nreleases[c]; i++)
		if (!strcmp(r->releases[c][i], v))
			return (int)i;
	return -1;
}

int rules_release_of(const struct rules *r, enum component c, const struct version *v)
{
	for (size_t i = 0; i < r->nreleases[c]; i++)
		if (!version_cmp(&r->release_v[c][i], v))
			return (int)i;
	return -1;
}

void rules_set_text(const struct rules *r, enum component c, const struct vset *s, char *out, size_t outlen)
{
	int lo = version_set_first(s), hi = version_set_last(s);
	if (lo < 0)
		out[0] = 0;
	else if (lo == hi)
		snprintf(out, outlen, "%s", r->releases[c][lo]);
	else
		snprintf(out, outlen, "%s..%s", r->releases[c][lo], r->releases[c][hi]);
}

/* "2.15.0..2.16.0,2.3.1,2.17.1.." -> set of release indexes. */
static const char *parse_set(struct rules *r, enum component c, char *spec, struct vset *out)
{
	memset(out, 0, sizeof *out);
	for (char *item = strtok(spec, ","); item; item = strtok(NULL, ",")) {
		char *dots = strstr(item, "..");
		int lo, hi;
		if (dots) {
			*dots = 0;
			lo = rules_release_index(r, c, item);
			hi = dots[2] ? rules_release_index(r, c, dots + 2) : (int)r->nreleases[c] - 1;
		} else {
			lo = hi = rules_release_index(r, c, item);
		}
		if (lo < 0 || hi < 0 || lo > hi)
			return "version set names a release not in the releases list";
		for (int i = lo; i <= hi; i++)
			version_set_add(out, i);
	}
	return NULL;
}

static char **push_str(char **arr, size_t *n, const char *s)
{
	arr = xrealloc(arr, (*n + 1) * sizeof *arr);
	arr[(*n)++] = xstrdup(s);
	return arr;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static const char *parse_directive(struct rules *r, struct line *ln)
{
	const char *d = ln->tok[0];
	struct version v;

	if (!strcmp(d, "releases")) {
		if (ln->n < 3)
			return "releases COMPONENT VERSION...";
		int c = parse_component(ln->tok[1]);
		if (c < 0)
			return "unknown component";
		for (int i = 2; i < ln->n; i++) {
			if (!version_parse(ln->tok[i], &v))
				return "bad version";
			size_t k = r->nreleases[c];
			if (k && version_cmp(&r->release_v[c][k - 1], &v) >= 0)
				return "releases must be in ascending order";
			if (k + 1 > VSET_MAX)
				return "too many releases";
			r->releases[c] = xrealloc(r->releases[c], (k + 1) * sizeof(char *));
			r->release_v[c] = xrealloc(r->release_v[c], (k + 1) * sizeof(struct version));
			r->releases[c][k] = xstrdup(ln->tok[i]);
			r->release_v[c][k] = v;
			r->nreleases[c] = k + 1;
		}
		return NULL;
	}
	if (!strcmp(d, "cve")) {
		if (ln->n != 5)
			return "cve ID COMPONENT CVSS \"TITLE\"";
		int c = parse_component(ln->tok[2]);
		if (c < 0)
			return "unknown component";
		if (find_cve(r, ln->tok[1]))
			return "duplicate cve";
		char *end;
		double cvss = strtod(ln->tok[3], &end);
		if (*end || cvss < 0 || cvss > 10)
			return "bad CVSS score";
		r->cves = xrealloc(r->cves, (r->ncves + 1) * sizeof *r->cves);
		struct rule_cve *cve = &r->cves[r->ncves++];
		memset(cve, 0, sizeof *cve);
		cve->id = xstrdup(ln->tok[1]);
		cve->comp = (enum component)c;
		cve->cvss = cvss;
		cve->title = xstrdup(ln->tok[4]);
		return NULL;
	}
	if (!strcmp(d, "affected") || !strcmp(d, "fixed") || !strcmp(d, "mitigated-if-absent") ||
	    !strcmp(d, "requires-class") || !strcmp(d, "unless-class") || !strcmp(d, "unless-refers") ||
	    !strcmp(d, "source")) {
		if (ln->n < 3)
			return "directive needs a CVE id and values";
		struct rule_cve *cve = find_cve(r, ln->tok[1]);
		if (!cve)
			return "CVE not declared (a `cve` line must come first)";
		if (!strcmp(d, "affected")) {
			if (ln->n != 4)
				return "affected ID FROM TO (TO may be *)";
			struct rule_range rg = {0};
			if (!version_parse(ln->tok[2], &rg.from))
				return "bad version";
			if (!strcmp(ln->tok[3], "*"))
				rg.to_open = true;
			else if (!version_parse(ln->tok[3], &rg.to) || version_cmp(&rg.from, &rg.to) >= 0)
				return "bad range";
			cve->affected = xrealloc(cve->affected, (cve->naffected + 1) * sizeof rg);
			cve->affected[cve->naffected++] = rg;
			return NULL;
		}
		if (!strcmp(d, "unless-refers")) {
			if (ln->n < 4)
				return "unless-refers ID CLASS REF...";
			for (int i = 3; i < ln->n; i++) {
				cve->unless_refs = xrealloc(cve->unless_refs,
							    (cve->nunless_refs + 1) * sizeof *cve->unless_refs);
				cve->unless_refs[cve->nunless_refs].cls = xstrdup(ln->tok[2]);
				cve->unless_refs[cve->nunless_refs++].ref = xstrdup(ln->tok[i]);
			}
			return NULL;
		}
		if (!strcmp(d, "source")) {
			free(cve->source);
			cve->source = xstrdup(ln->tok[2]);
			return NULL;
		}
		for (int i = 2; i < ln->n; i++) {
			if (!strcmp(d, "fixed")) {
				if (!version_parse(ln->tok[i], &v))
					return "bad version";
				cve->fixed = push_str(cve->fixed, &cve->nfixed, ln->tok[i]);
			} else if (!strcmp(d, "mitigated-if-absent")) {
				cve->mitigated_if_absent = push_str(cve->mitigated_if_absent, &cve->nmitigated, ln->tok[i]);
			} else if (!strcmp(d, "requires-class")) {
				cve->requires_class = push_str(cve->requires_class, &cve->nrequires, ln->tok[i]);
			} else {
				cve->unless_class = push_str(cve->unless_class, &cve->nunless, ln->tok[i]);
			}
		}
		return NULL;
	}
	if (!strcmp(d, "hash")) {
		if (ln->n < 5)
			return "hash COMPONENT CLASS SHA256 VERSION...";
		int c = parse_component(ln->tok[1]);
		if (c < 0)
			return "unknown component";
		struct rule_hash h = {.comp = (enum component)c};
		const char *hex = ln->tok[3];
		if (strlen(hex) != 64)
			return "SHA-256 must be 64 hex digits";
		for (int i = 0; i < 32; i++) {
			int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return "SHA-256 must be 64 hex digits";
			h.sha256[i] = (unsigned char)(hi << 4 | lo);
		}
		for (int i = 4; i < ln->n; i++) {
			int k = rules_release_index(r, (enum component)c, ln->tok[i]);
			if (k < 0)
				return "hash names a release not in the releases list";
			version_set_add(&h.versions, k);
		}
		h.cls = xstrdup(ln->tok[2]);
		r->hashes = xrealloc(r->hashes, (r->nhashes + 1) * sizeof h);
		r->hashes[r->nhashes++] = h;
		return NULL;
	}
	if (!strcmp(d, "marker")) {
		if (ln->n != 6)
			return "marker COMPONENT CLASS has|lacks \"STRING\" VERSIONSET";
		int c = parse_component(ln->tok[1]);
		if (c < 0)
			return "unknown component";
		struct rule_marker m = {.comp = (enum component)c};
		if (!strcmp(ln->tok[3], "has"))
			m.has = true;
		else if (strcmp(ln->tok[3], "lacks"))
			return "marker needs has or lacks";
		const char *e = parse_set(r, (enum component)c, ln->tok[5], &m.versions);
		if (e)
			return e;
		m.cls = xstrdup(ln->tok[2]);
		m.str = xstrdup(ln->tok[4]);
		r->markers = xrealloc(r->markers, (r->nmarkers + 1) * sizeof m);
		r->markers[r->nmarkers++] = m;
		return NULL;
	}
	if (!strcmp(d, "advice")) {
		if (ln->n != 3)
			return "advice COMPONENT \"TEXT\"";
		int c = parse_component(ln->tok[1]);
		if (c < 0)
			return "unknown component";
		free(r->advice[c]);
		r->advice[c] = xstrdup(ln->tok[2]);
		return NULL;
	}
	return "unknown directive";
}

static const char *check_complete(struct rules *r)
{
	if (!r->ncves)
		return "no cve in the rules";
	for (size_t i = 0; i < r->ncves; i++)
		if (!r->cves[i].naffected)
			return "a cve has no affected range";
	if (!r->nreleases[COMP_CORE])
		return "no releases for log4j-core";
	return NULL;
}

struct rules *rules_parse(const char *text, size_t len, struct buf *err)
{
	struct rules *r = xcalloc(1, sizeof *r);
	size_t pos = 0;
	int lineno = 0;
	struct line ln;
	while (pos < len) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		lineno++;
		const char *e = memchr(text + pos, 0, end - pos) ? "NUL byte in rules text" : NULL;
		char *s = xstrndup(text + pos, end - pos);
		pos = end + 1;
		if (!e)
			e = tokenize(s, &ln);
		if (!e && ln.n)
			e = parse_directive(r, &ln);
		if (e) {
			buf_printf(err, "line %d: %s", lineno, e);
			free(s);
			rules_free(r);
			return NULL;
		}
		free(s);
	}
	r->digest = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++)
		r->digest = (r->digest ^ (unsigned char)text[i]) * 0x100000001b3ULL;
	const char *e = check_complete(r);
	if (e) {
		buf_printf(err, "%s", e);
		rules_free(r);
		return NULL;
	}
	return r;
}

struct rules *rules_default(struct buf *err)
{
	return rules_parse(l4s_default_rules, strlen(l4s_default_rules), err);
}

static void free_strs(char **a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i]);
	free(a);
}

void rules_free(struct rules *r)
{
	if (!r)
		return;
	for (int c = 0; c < COMP_COUNT; c++) {
		free_strs(r->releases[c], r->nreleases[c]);
		free(r->release_v[c]);
		free(r->advice[c]);
	}
	for (size_t i = 0; i < r->ncves; i++) {
		struct rule_cve *c = &r->cves[i];
		free(c->id);
		free(c->title);
		free(c->source);
		free(c->affected);
		free_strs(c->fixed, c->nfixed);
		free_strs(c->mitigated_if_absent, c->nmitigated);
		free_strs(c->requires_class, c->nrequires);
		free_strs(c->unless_class, c->nunless);
		for (size_t k = 0; k < c->nunless_refs; k++) {
			free(c->unless_refs[k].cls);
			free(c->unless_refs[k].ref);
		}
		free(c->unless_refs);
	}
	free(r->cves);
	for (size_t i = 0; i < r->nhashes; i++)
		free(r->hashes[i].cls);
	free(r->hashes);
	for (size_t i = 0; i < r->nmarkers; i++) {
		free(r->markers[i].cls);
		free(r->markers[i].str);
	}
	free(r->markers);
	free(r);
}

bool rules_cve_affects(const struct rule_cve *cve, const struct version *v)
{
	for (size_t i = 0; i < cve->naffected; i++) {
		const struct rule_range *rg = &cve->affected[i];
		if (version_cmp(v, &rg->from) >= 0 && (rg->to_open || version_cmp(v, &rg->to) < 0))
			return true;
	}
	return false;
}
