/* cache_internal.h - the two parsers of the cache file (lib/walk/cache.c), exposed
 * so that fuzz/fuzz_cache.c can feed them arbitrary bytes: the cache file is
 * read back on every run and may be damaged or planted (it lives in a
 * directory the operator chose).
 *
 * The file: a 32-byte header ("L4SCACH2", config digest, entry count n,
 * offset of the records = 32 + 24 n, all native-endian u64), n entries of
 * 24 bytes (u64 key, u64 stamp, u32 offset and u32 length of the entry's
 * text within the records), then the records as escaped text lines. */
#ifndef L4S_CACHE_INTERNAL_H
#define L4S_CACHE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/rules.h"
#include "scan/scan.h"

/* Is p[0..len) a cache made with `digest` whose table and records fit?
 * Fills *n (entries) and *roff (where the records start). */
bool cache_header_ok(const unsigned char *p, size_t len, uint64_t digest, uint64_t *n, uint64_t *roff);
/* Append the records stored as text p[0..len) to out; false when a line is
 * not a record (the caller forgets the entry and rescans the file). */
bool cache_restore_records(const struct rules *r, const char *p, size_t len, struct scan_batch *out);

#endif
