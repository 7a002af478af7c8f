/* classroot.c - package roots of exploded copies from class names (see
 * classroot.h).  The class list is small (a dozen names): a linear match
 * per class file, after a cheap check that the name is a class at all. */
#include "detect/classroot.h"

#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

struct cls {
	char *name;   /* relative to a package root; a trailing '/' is a package */
	size_t len;
	bool anchor;
};

struct classroots {
	struct cls *c;
	size_t n;
};

static void add(struct classroots *c, const char *name, bool anchor)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->c[i].name, name)) {
			c->c[i].anchor |= anchor;
			return;
		}
	c->c = xrealloc(c->c, (c->n + 1) * sizeof *c->c);
	c->c[c->n++] = (struct cls){xstrdup(name), strlen(name), anchor};
}

struct classroots *classroots_new(const struct rules *r)
{
	struct classroots *c = xcalloc(1, sizeof *c);
	for (size_t i = 0; i < r->nhashes; i++)
		add(c, r->hashes[i].cls, r->hashes[i].comp == COMP_CORE);
	for (size_t i = 0; i < r->nmarkers; i++)
		add(c, r->markers[i].cls, r->markers[i].comp == COMP_CORE);
	for (size_t i = 0; i < r->ncves; i++) {
		const struct rule_cve *v = &r->cves[i];
		for (size_t k = 0; k < v->nmitigated; k++)
			add(c, v->mitigated_if_absent[k], false);
		for (size_t k = 0; k < v->nrequires; k++)
			add(c, v->requires_class[k], false);
		for (size_t k = 0; k < v->nunless; k++)
			add(c, v->unless_class[k], false);
	}
	/* Log4j 1.x is recognised by these two (detect.c), not by rules */
	add(c, "Category", true);
	add(c, "helpers/OptionConverter", false);
	return c;
}

void classroots_free(struct classroots *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->c[i].name);
	free(c->c);
	free(c);
}

long classroot_of(const struct classroots *c, const char *name, size_t len, bool *anchor)
{
	*anchor = false;
	size_t sl = detect_class_stem(name, len);
	if (!sl)
		return -1;
	for (size_t i = 0; i < c->n; i++) {
		const struct cls *k = &c->c[i];
		if (k->name[k->len - 1] == '/') {
			/* a package: "<root>chainsaw/..." */
			for (size_t at = 0; at + k->len <= sl; at++)
				if ((at == 0 || name[at - 1] == '/') && !memcmp(name + at, k->name, k->len))
					return (long)at;
			continue;
		}
		if (sl < k->len || memcmp(name + sl - k->len, k->name, k->len))
			continue;
		if (sl == k->len || name[sl - k->len - 1] == '/') {
			*anchor = k->anchor;
			return (long)(sl - k->len);
		}
	}
	return -1;
}
