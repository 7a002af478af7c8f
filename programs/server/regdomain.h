/* regdomain.h - the registrable domain of a host, by the Public Suffix
 * List (see regdomain.c). */
#ifndef L4S_REGDOMAIN_H
#define L4S_REGDOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#define REGDOMAIN_LIST "/usr/share/publicsuffix/public_suffix_list.dat"

/* Read the list (once, before threads start); -1 when it cannot be read. */
int regdomain_load(const char *path);
bool regdomain_loaded(void);
/* The domain to block for host into out: an IP address as itself; false
 * when there is none (a name without the list, a public suffix, a
 * malformed name). */
bool regdomain_of(const char *host, char *out, size_t outsz);

#endif
