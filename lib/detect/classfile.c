/* classfile.c - constant-pool reader for JVM class files (see classfile.h).
 *
 * Layout (JVMS 4.1): magic u4, minor u2, major u2, constant_pool_count u2,
 * then count-1 entries whose size depends on their tag (Long and Double take
 * two slots), then access_flags, this_class, super_class.  Only the pool and
 * the two class indexes are read; methods and attributes are not needed. */
#include "detect/classfile.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#define MAX_POOL 65535

static unsigned u2(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

bool classfile_parse(const unsigned char *p, size_t n, struct classinfo *ci, const char **why)
{
	memset(ci, 0, sizeof *ci);
	if (n < 10 || p[0] != 0xCA || p[1] != 0xFE || p[2] != 0xBA || p[3] != 0xBE) {
		*why = "not a class file (bad magic)";
		return false;
	}
	ci->major = u2(p + 6);
	unsigned count = u2(p + 8);
	if (count == 0) {
		*why = "empty constant pool";
		return false;
	}
	/* Slot -> offset of the entry (for Class -> Utf8 resolution). */
	uint32_t *slot = xcalloc(count, sizeof *slot);
	size_t *str_index = xcalloc(count, sizeof *str_index); /* slot -> strings[] + 1 */
	size_t off = 10, total = 0;
	for (unsigned i = 1; i < count; i++) {
		if (off >= n)
			goto truncated;
		unsigned tag = p[off];
		slot[i] = (uint32_t)off;
		size_t len;
		switch (tag) {
		case 1: /* Utf8 */
			if (off + 3 > n)
				goto truncated;
			len = 3 + u2(p + off + 1);
			total += len - 2;
			break;
		case 3: case 4: case 9: case 10: case 11: case 12: case 17: case 18:
			len = 5;
			break;
		case 5: case 6:
			len = 9;
			i++; /* takes two slots */
			break;
		case 7: case 8: case 16: case 19: case 20:
			len = 3;
			break;
		case 15:
			len = 4;
			break;
		default:
			free(slot);
			free(str_index);
			*why = "unknown constant-pool tag";
			return false;
		}
		if (off + len > n)
			goto truncated;
		off += len;
	}
	if (off + 6 > n)
		goto truncated;

	ci->pool_ = xmalloc(total + 1);
	ci->strings = xcalloc(count, sizeof *ci->strings);
	char *w = ci->pool_;
	for (unsigned i = 1; i < count; i++) {
		size_t o = slot[i];
		if (!o || p[o] != 1)
			continue;
		size_t l = u2(p + o + 1);
		memcpy(w, p + o + 3, l);
		w[l] = 0;
		ci->strings[ci->nstrings++] = w;
		str_index[i] = ci->nstrings;
		w += l + 1;
	}
	/* Every Class entry names a class through a Utf8 entry. */
	ci->classes = xcalloc(count, sizeof *ci->classes);
	for (unsigned i = 1; i < count; i++) {
		size_t o = slot[i];
		if (!o || p[o] != 7)
			continue;
		unsigned name = u2(p + o + 1);
		if (name < count && str_index[name])
			ci->classes[ci->nclasses++] = ci->strings[str_index[name] - 1];
	}
	/* this_class and super_class are Class entries pointing at Utf8 names. */
	unsigned idx[2] = {u2(p + off + 2), u2(p + off + 4)};
	const char **dst[2] = {&ci->this_name, &ci->super_name};
	for (int k = 0; k < 2; k++) {
		unsigned c = idx[k];
		if (c == 0 || c >= count || !slot[c] || p[slot[c]] != 7)
			continue;
		unsigned name = u2(p + slot[c] + 1);
		if (name < count && str_index[name])
			*dst[k] = ci->strings[str_index[name] - 1];
	}
	free(slot);
	free(str_index);
	if (!ci->this_name) {
		classfile_free(ci);
		*why = "class has no valid this_class name";
		return false;
	}
	return true;

truncated:
	free(slot);
	free(str_index);
	*why = "truncated class file";
	return false;
}

bool classfile_has_string(const struct classinfo *ci, const char *s)
{
	for (size_t i = 0; i < ci->nstrings; i++)
		if (!strcmp(ci->strings[i], s))
			return true;
	return false;
}

bool classfile_refers(const struct classinfo *ci, const char *name)
{
	for (size_t i = 0; i < ci->nclasses; i++)
		if (!strcmp(ci->classes[i], name))
			return true;
	return false;
}

void classfile_free(struct classinfo *ci)
{
	free(ci->pool_);
	free(ci->strings);
	free(ci->classes);
	memset(ci, 0, sizeof *ci);
}
