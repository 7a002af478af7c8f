/* fuzz_classfile.c - libFuzzer harness for the class-file reader.
 *
 * classfile_parse() on arbitrary bytes; when it accepts them, every string
 * it returns must be readable and NUL-terminated inside its pool, this_name
 * must be one of them, and classfile_has_string() must find each string;
 * every class it says the class refers to is one of those strings, and
 * classfile_refers() finds it.
 * The input is copied into an exact-size buffer so any read past the end is
 * caught by ASan. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/classfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	struct classinfo ci;
	const char *why = NULL;
	if (classfile_parse(copy, size, &ci, &why)) {
		if (!ci.this_name)
			abort();
		size_t total = 0;
		for (size_t i = 0; i < ci.nstrings; i++) {
			total += strlen(ci.strings[i]);
			if (i < 64 && !classfile_has_string(&ci, ci.strings[i]))
				abort();
		}
		/* The pool holds at most the input's bytes. */
		if (total > size)
			abort();
		if (ci.nclasses > ci.nstrings)
			abort();
		for (size_t i = 0; i < ci.nclasses && i < 64; i++)
			if (!classfile_has_string(&ci, ci.classes[i]) || !classfile_refers(&ci, ci.classes[i]))
				abort();
		if (!classfile_refers(&ci, ci.this_name))
			abort(); /* this_class is a Class entry */
		(void)strlen(ci.this_name);
		if (ci.super_name)
			(void)strlen(ci.super_name);
		classfile_free(&ci);
	} else if (!why) {
		abort(); /* a refusal must say why */
	}
	free(copy);
	return 0;
}
