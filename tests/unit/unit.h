/* unit.h - a tiny check macro for the unit tests: prints one "ok NAME" or
 * "not ok NAME - why" line per check, which tests/run.sh counts. */
#ifndef L4S_UNIT_H
#define L4S_UNIT_H
#include <stdio.h>
#include <string.h>

static int unit_failures;

#define CHECK(name, cond) do { \
	if (cond) printf("ok %s\n", name); \
	else { printf("not ok %s - %s:%d: %s\n", name, __FILE__, __LINE__, #cond); unit_failures++; } \
} while (0)

#define CHECK_STR(name, got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	if (g_ && w_ && strcmp(g_, w_) == 0) printf("ok %s\n", name); \
	else { printf("not ok %s - got '%s', want '%s'\n", name, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); unit_failures++; } \
} while (0)

#define UNIT_EXIT() return unit_failures ? 1 : 0
#endif
