/* classfile.h - just enough of the JVM class-file format to fingerprint a
 * class: its version, its own name, its superclass, the strings of its
 * constant pool (where the version markers of rules/log4j.rules live) and
 * the classes it refers to (its CONSTANT_Class entries: what it extends,
 * implements, instantiates, calls or casts to).
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
	const char **classes;    /* names of the CONSTANT_Class entries (into strings;
				    array classes as written, "[Ljava/lang/String;") */
	size_t nclasses;
	char *pool_;             /* owns the string copies */
};

/* Parse; on failure returns false and sets *why. */
bool classfile_parse(const unsigned char *p, size_t n, struct classinfo *ci, const char **why);
bool classfile_has_string(const struct classinfo *ci, const char *s);
/* Does the class refer to class `name` (internal form) through a
 * CONSTANT_Class entry? */
bool classfile_refers(const struct classinfo *ci, const char *name);
void classfile_free(struct classinfo *ci);

#endif
