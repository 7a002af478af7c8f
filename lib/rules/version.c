/* version.c - version parsing and ordering, release sets (see version.h). */
#include "rules/version.h"

#include <ctype.h>
#include <string.h>

static int stage_of(const char *s, int *num)
{
	static const struct {
		const char *word;
		int stage;
	} stages[] = {{"alpha", 1}, {"beta", 2}, {"rc", 3}, {"snapshot", 4}};
	for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
		size_t n = strlen(stages[i].word);
		if (strncasecmp(s, stages[i].word, n) == 0) {
			*num = 0;
			for (s += n; isdigit((unsigned char)*s) && *num < 100000; s++)
				*num = *num * 10 + (*s - '0');
			return stages[i].stage;
		}
	}
	return 5;
}

bool version_parse(const char *s, struct version *v)
{
	memset(v, 0, sizeof *v);
	v->stage = 5;
	if (!isdigit((unsigned char)*s))
		return false;
	for (int i = 0; i < 4; i++) {
		long n = 0;
		while (isdigit((unsigned char)*s)) {
			if (n < 1000000)
				n = n * 10 + (*s - '0');
			s++;
		}
		v->num[i] = (int)n;
		if (*s != '.' || !isdigit((unsigned char)s[1]))
			break;
		s++;
	}
	if (*s == '-' || *s == '.' || *s == '_')
		v->stage = stage_of(s + 1, &v->stage_num);
	else if (*s)
		v->stage = stage_of(s, &v->stage_num);
	return true;
}

int version_cmp(const struct version *a, const struct version *b)
{
	for (int i = 0; i < 4; i++)
		if (a->num[i] != b->num[i])
			return a->num[i] < b->num[i] ? -1 : 1;
	if (a->stage != b->stage)
		return a->stage < b->stage ? -1 : 1;
	if (a->stage_num != b->stage_num)
		return a->stage_num < b->stage_num ? -1 : 1;
	return 0;
}

int version_strcmp(const char *a, const char *b)
{
	struct version va, vb;
	bool pa = version_parse(a, &va), pb = version_parse(b, &vb);
	if (!pa || !pb)
		return pa - pb;
	return version_cmp(&va, &vb);
}

void version_set_fill(struct vset *s, int n)
{
	memset(s, 0, sizeof *s);
	for (int i = 0; i < n && i < VSET_MAX; i++)
		version_set_add(s, i);
}

void version_set_and(struct vset *s, const struct vset *t)
{
	for (int i = 0; i < VSET_WORDS; i++)
		s->w[i] &= t->w[i];
}

bool version_set_empty(const struct vset *s)
{
	for (int i = 0; i < VSET_WORDS; i++)
		if (s->w[i])
			return false;
	return true;
}

int version_set_count(const struct vset *s)
{
	int n = 0;
	for (int i = 0; i < VSET_WORDS; i++)
		n += __builtin_popcountll(s->w[i]);
	return n;
}

int version_set_first(const struct vset *s)
{
	for (int i = 0; i < VSET_WORDS; i++)
		if (s->w[i])
			return i * 64 + __builtin_ctzll(s->w[i]);
	return -1;
}

int version_set_last(const struct vset *s)
{
	for (int i = VSET_WORDS - 1; i >= 0; i--)
		if (s->w[i])
			return i * 64 + 63 - __builtin_clzll(s->w[i]);
	return -1;
}
