/* test_classfile.c - unit tests for the class-file reader (lib/detect/classfile.c):
 * a hand-assembled class with every constant-pool tag (Long and Double take
 * two slots), this/super names resolved through Class entries, strings
 * copied, the Class entries listed (and nothing else); and refusal (never a crash or an over-read) of bad magic, unknown
 * tags, an empty pool, a this_class that is not a Class, and every
 * truncation of a valid class. */
#include <stdlib.h>

#include "detect/classfile.h"
#include "unit.h"
#include "util/buf.h"

static void u1(struct buf *b, unsigned v) { buf_addc(b, (char)v); }
static void u2(struct buf *b, unsigned v) { u1(b, v >> 8 & 255); u1(b, v & 255); }
static void utf8(struct buf *b, const char *s)
{
	u1(b, 1);
	u2(b, (unsigned)strlen(s));
	buf_adds(b, s);
}

/* Slots: 1 Utf8 "org/x/Foo"  2 Class#1  3 Utf8 "java/lang/Object"  4 Class#3
 *        5 Long (+6)  7 Utf8 "log4j2.enableJndi"  8 Integer  9 Double (+10)
 *        11 String#7  12 NameAndType  13 Methodref  14 MethodHandle
 *        15 MethodType  16 InvokeDynamic  17 Utf8 ""  18 Module  19 Package
 *        20 Dynamic  21 Float  22 Fieldref  23 InterfaceMethodref */
static struct buf make_class(unsigned this_idx)
{
	struct buf b = BUF_INIT;
	u2(&b, 0xCAFE); u2(&b, 0xBABE); u2(&b, 0); u2(&b, 52);
	u2(&b, 24);
	utf8(&b, "org/x/Foo");
	u1(&b, 7); u2(&b, 1);
	utf8(&b, "java/lang/Object");
	u1(&b, 7); u2(&b, 3);
	u1(&b, 5); u2(&b, 0); u2(&b, 0); u2(&b, 0); u2(&b, 1);
	utf8(&b, "log4j2.enableJndi");
	u1(&b, 3); u2(&b, 0); u2(&b, 42);
	u1(&b, 6); u2(&b, 0); u2(&b, 0); u2(&b, 0); u2(&b, 0);
	u1(&b, 8); u2(&b, 7);
	u1(&b, 12); u2(&b, 1); u2(&b, 3);
	u1(&b, 10); u2(&b, 2); u2(&b, 12);
	u1(&b, 15); u1(&b, 6); u2(&b, 13);
	u1(&b, 16); u2(&b, 3);
	u1(&b, 18); u2(&b, 0); u2(&b, 12);
	utf8(&b, "");
	u1(&b, 19); u2(&b, 1);
	u1(&b, 20); u2(&b, 1);
	u1(&b, 17); u2(&b, 0); u2(&b, 12);
	u1(&b, 4); u2(&b, 0); u2(&b, 0);
	u1(&b, 9); u2(&b, 2); u2(&b, 12);
	u1(&b, 11); u2(&b, 2); u2(&b, 12);
	u2(&b, 0x21); u2(&b, this_idx); u2(&b, 4);
	u2(&b, 0); u2(&b, 0); u2(&b, 0); u2(&b, 0); /* interfaces, fields, methods, attributes */
	return b;
}

static bool parse_copy(const struct buf *b, size_t n, struct classinfo *ci, const char **why)
{
	/* exact-size copy so that ASan catches any read past n */
	unsigned char *p = malloc(n ? n : 1);
	memcpy(p, b->data, n);
	bool ok = classfile_parse(p, n, ci, why);
	free(p); /* the classinfo owns copies, not pointers into p */
	return ok;
}

int main(void)
{
	struct buf b = make_class(2);
	struct classinfo ci;
	const char *why = NULL;
	bool ok = parse_copy(&b, b.len, &ci, &why);
	CHECK("classfile: valid class parses", ok);
	if (ok) {
		CHECK("classfile: major", ci.major == 52);
		CHECK_STR("classfile: this_name", ci.this_name, "org/x/Foo");
		CHECK_STR("classfile: super_name", ci.super_name, "java/lang/Object");
		CHECK("classfile: four Utf8 strings", ci.nstrings == 4);
		CHECK("classfile: has marker string", classfile_has_string(&ci, "log4j2.enableJndi"));
		CHECK("classfile: has empty string", classfile_has_string(&ci, ""));
		CHECK("classfile: no partial match", !classfile_has_string(&ci, "log4j2.enable"));
		/* the Class entries, not the Module/Package ones naming the same Utf8 */
		CHECK("classfile: two Class entries", ci.nclasses == 2);
		CHECK("classfile: refers to its super", classfile_refers(&ci, "java/lang/Object"));
		CHECK("classfile: refers to itself", classfile_refers(&ci, "org/x/Foo"));
		CHECK("classfile: a string is not a class reference", !classfile_refers(&ci, "log4j2.enableJndi"));
		CHECK("classfile: no prefix match", !classfile_refers(&ci, "java/lang/Obj"));
		classfile_free(&ci);
		CHECK("classfile: free clears", ci.strings == NULL && ci.nstrings == 0 && ci.classes == NULL &&
							ci.nclasses == 0);
	} else {
		printf("# %s\n", why);
	}

	/* every truncation is refused */
	int crashes_or_accepts = 0;
	for (size_t n = 0; n < b.len - 8; n++) { /* the last 8 bytes are not read */
		why = NULL;
		if (parse_copy(&b, n, &ci, &why)) {
			classfile_free(&ci);
			crashes_or_accepts++;
		} else if (!why) {
			crashes_or_accepts++;
		}
	}
	CHECK("classfile: every truncation refused with a reason", crashes_or_accepts == 0);
	why = NULL;
	parse_copy(&b, 30, &ci, &why);
	CHECK_STR("classfile: truncation reason", why, "truncated class file");

	struct buf m = make_class(2);
	m.data[0] = 0;
	CHECK("classfile: bad magic refused", !parse_copy(&m, m.len, &ci, &why) && strstr(why, "magic"));
	buf_free(&m);

	m = make_class(2);
	m.data[8] = m.data[9] = 0;
	CHECK("classfile: empty pool refused", !parse_copy(&m, m.len, &ci, &why) && strstr(why, "empty"));
	buf_free(&m);

	m = make_class(2);
	m.data[10] = 2; /* no such tag */
	CHECK("classfile: unknown tag refused", !parse_copy(&m, m.len, &ci, &why) && strstr(why, "tag"));
	buf_free(&m);

	m = make_class(1); /* this_class points at a Utf8, not a Class */
	CHECK("classfile: this_class not a Class refused",
	      !parse_copy(&m, m.len, &ci, &why) && strstr(why, "this_class"));
	buf_free(&m);
	/* a Class entry whose name index is not a Utf8: not listed */
	m = make_class(2);
	m.data[46] = 5; /* slot 4 (at 44: tag, then the index) -> slot 5, a Long */
	ok = parse_copy(&m, m.len, &ci, &why);
	CHECK("classfile: Class naming a non-Utf8 is not listed", ok && ci.nclasses == 1 && ci.super_name == NULL);
	if (ok)
		classfile_free(&ci);
	buf_free(&m);
	m = make_class(6); /* second slot of a Long: no entry */
	CHECK("classfile: this_class into Long's second slot refused", !parse_copy(&m, m.len, &ci, &why));
	buf_free(&m);
	m = make_class(0);
	CHECK("classfile: this_class 0 refused", !parse_copy(&m, m.len, &ci, &why));
	buf_free(&m);
	m = make_class(999);
	CHECK("classfile: this_class out of range refused", !parse_copy(&m, m.len, &ci, &why));
	buf_free(&m);

	/* pool count larger than the entries present */
	m = make_class(2);
	m.data[8] = (char)0xFF;
	m.data[9] = (char)0xFF;
	CHECK("classfile: pool count beyond data refused", !parse_copy(&m, m.len, &ci, &why));
	buf_free(&m);

	/* Utf8 length running past the end */
	m = make_class(2);
	m.data[11] = (char)0xFF;
	CHECK("classfile: Utf8 length past end refused", !parse_copy(&m, m.len, &ci, &why));
	buf_free(&m);

	/* Utf8 with an embedded NUL (modified UTF-8 never has one, but the
	 * reader must not over-read): the string is cut, nothing breaks */
	m = make_class(2);
	m.data[16] = 0; /* inside "org/x/Foo" */
	ok = parse_copy(&m, m.len, &ci, &why);
	CHECK("classfile: embedded NUL tolerated", ok && strlen(ci.this_name) < 9);
	if (ok)
		classfile_free(&ci);
	buf_free(&m);

	buf_free(&b);
	UNIT_EXIT();
}
