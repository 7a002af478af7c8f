/* classfile.h - just enough of the JVM class-file format to fingerprint a
 * class: its version, its own name, its superclass, and the strings of its
 * constant pool (where the version markers of rules/log4j.rules live).
 * Input is untrusted: every offset is bounds-checked, nothing is trusted. */
#ifndef L4S_CLASSFILE_H
#define L4S_CLASSFILE_H

#include <stdbool.h>
#include <stddef.h>

struct classinfo {
	unsigned major;
	const char *this_name;   /* internal form, e.g. org/apache/.../JndiLookup */
	const char *super_name;
	const char **strings;    /* every CONSTANT_Utf8, NUL-terminated copies */
	size_t nstrings;
	char *pool_;             /* owns the string copies */
};

/* Parse; on failure returns false and sets *why. */
bool classfile_parse(const unsigned char *p, size_t n, struct classinfo *ci, const char **why);
bool classfile_has_string(const struct classinfo *ci, const char *s);
void classfile_free(struct classinfo *ci);

#endif
