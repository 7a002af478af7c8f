/* regdomain.c - the registrable domain of a callback host (issue 20): the
 * name to block at a resolver or proxy ("x.y.evil.example.co.uk" ->
 * "evil.example.co.uk"), by the Public Suffix List's algorithm
 * (https://publicsuffix.org/list/): the prevailing rule is an exception
 * rule if one matches, else the matching rule with the most labels, else
 * "*"; the public suffix is what it matches (an exception's, less its
 * leftmost label), and the registrable domain is that suffix with one more
 * label.  The list is Debian's `publicsuffix` package file, read once at
 * start (regdomain_load) into a sorted table; without it no domain is
 * given.  Host text comes from reports (hostile): it is only compared. */
#include "regdomain.h"

#include "util/buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char **rules;    /* sorted; "!x" exceptions and "*.x" wildcards as written */
static size_t n_rules;

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int regdomain_load(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t cap = 0;
	char line[512];
	while (fgets(line, sizeof line, f)) {
		size_t n = strcspn(line, " \t\r\n");
		line[n] = 0;
		if (!n || (line[0] == '/' && line[1] == '/'))
			continue;
		for (size_t i = 0; i < n; i++)
			line[i] = (char)tolower((unsigned char)line[i]);
		if (n_rules == cap) {
			cap = cap ? 2 * cap : 1024;
			rules = xrealloc(rules, cap * sizeof *rules);
		}
		rules[n_rules++] = xstrdup(line);
	}
	fclose(f);
	qsort(rules, n_rules, sizeof *rules, cmp);
	return 0;
}

bool regdomain_loaded(void) { return n_rules > 0; }

static bool has(const char *prefix, const char *s)
{
	char key[300];
	if ((size_t)snprintf(key, sizeof key, "%s%s", prefix, s) >= sizeof key)
		return false;
	const char *k = key;
	return bsearch(&k, rules, n_rules, sizeof *rules, cmp) != NULL;
}

bool regdomain_of(const char *host, char *out, size_t outsz)
{
	char h[256];
	size_t n = strlen(host);
	if (!n || n >= sizeof h)
		return false;
	for (size_t i = 0; i <= n; i++)
		h[i] = (char)tolower((unsigned char)host[i]);
	if (h[n - 1] == '.')
		h[--n] = 0;
	/* an address is blocked as itself */
	if (!n || h[0] == '.' || strstr(h, ".."))
		return false;
	if (strchr(h, ':') || strspn(h, "0123456789.") == n) {
		if (n >= outsz)
			return false;
		memcpy(out, h, n + 1);
		return true;
	}
	if (!n_rules)
		return false;
	/* label starts, left to right */
	const char *lab[128];
	int nl = 0;
	for (const char *p = h; p && nl < 128; p = strchr(p, '.') ? strchr(p, '.') + 1 : NULL)
		lab[nl++] = p;
	if (nl >= 128)
		return false;
	int suffix = nl - 1;  /* the label where the public suffix starts: "*" by default */
	for (int i = 0; i < nl; i++) {
		if (has("!", lab[i])) {  /* an exception prevails: the suffix is what follows */
			suffix = i + 1 < nl ? i + 1 : nl - 1;
			break;
		}
		if (i < suffix && (has("", lab[i]) || (i + 1 < nl && has("*.", lab[i + 1])))) {
			suffix = i;  /* the first match from the left is the longest */
			for (int k = i + 1; k < nl; k++)
				if (has("!", lab[k])) {  /* a shorter exception still prevails */
					suffix = k + 1 < nl ? k + 1 : nl - 1;
					break;
				}
			break;
		}
	}
	if (suffix == 0)
		return false;  /* the host is a public suffix itself */
	const char *d = lab[suffix - 1];
	if (strlen(d) >= outsz)
		return false;
	strcpy(out, d);
	return true;
}
