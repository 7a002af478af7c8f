/* uuid.h - the text form of a UUID (8-4-4-4-12 hex digits), as report ids
 * are written.  A leaf: the agent's submission and the collector's report
 * parser both use it, and neither brings the other along. */
#ifndef L4S_UUID_H
#define L4S_UUID_H

#include <stdbool.h>

/* s starts with a UUID in its 8-4-4-4-12 hex form (36 characters; either
 * case); s must hold 36 readable bytes or end before with a NUL */
bool uuid_at(const char *s);

#endif
