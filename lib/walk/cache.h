/* cache.h - remember what each file held, so that a daily re-scan reads
 * only what changed and still reports everything.
 *
 * A file is identified by (device, inode, path) and considered unchanged
 * while its (size, mtime, ctime) stay the same; ctime catches changes that
 * keep the mtime (touch -r, tar x).  The cache is invalidated as a whole when
 * the rules or the options that change verdicts differ (a "config digest").
 *
 * On disk: a header, a table of fixed 24-byte entries sorted by key, then the
 * stored records as escaped text lines.  It is mmapped read-only and searched
 * in place, so loading costs nothing and memory stays file-backed.  The new
 * cache is written beside the old one and renamed over it at the end. */
#ifndef L4S_CACHE_H
#define L4S_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "rules/rules.h"
#include "scan/scan.h"
#include "util/buf.h"

struct cache;

/* Open the cache at path (missing or stale is fine: starts empty). */
struct cache *cache_open(const char *path, uint64_t config_digest, struct buf *err);
/* If the file is unchanged since it was cached, append its stored records to
 * out and return true. */
bool cache_lookup(struct cache *c, const struct rules *r, const char *path, const struct stat *st,
		  struct scan_batch *out);
/* Remember the records of a file just scanned (thread-safe). */
void cache_store(struct cache *c, const char *path, const struct stat *st, const struct scan_batch *b);
/* Write the new cache (every file stored this run) and close.  False with a
 * reason in err when it could not be written (the scan itself is unaffected). */
bool cache_commit(struct cache *c, struct buf *err);
void cache_close(struct cache *c);

uint64_t cache_hits(const struct cache *c);

/* The config digest a cache is kept under: the rules (their digest), the
 * agent's version and every scan option that may change a file's records
 * (scan_opts_key, which also carries the engine's revision). */
uint64_t cache_digest(const struct rules *r, const char *agent_version, const struct scan_opts *o);

/* FNV-1a, used for keys and for the config digest. */
uint64_t cache_hash64(uint64_t h, const void *p, size_t n);
#define HASH64_INIT 0xcbf29ce484222325ULL

#endif
