/* sqlite_pcache.h - SQLite's page cache, wrapped so that a COMMIT does not
 * walk the whole cache for nothing (see sqlite_pcache.c). */
#ifndef L4S_SQLITE_PCACHE_H
#define L4S_SQLITE_PCACHE_H

/* Wrap the page cache SQLite has now.  Only before SQLite initialises (the
 * first open); later it changes nothing and SQLite keeps its own cache. */
void sqlite_pcache_install(void);

#endif
