/* test_scan_opts.c - unit tests for the scan options' cache key
 * (lib/scan/scan_opts.c scan_opts_key, walk/cache.c cache_digest): every
 * field of struct scan_opts lands in the key, at its place in the table and
 * with its value (so a table entry with a wrong offset, size or sign is
 * caught), the engine's revision ends it, and changing any one option,
 * the rules or the agent's version changes the cache's digest.
 * tests/t_layers.sh (scan-opts-key) checks the table names every field. */
#include <stdio.h>
#include <stdlib.h>

#include "rules/rules.h"
#include "scan/scan.h"
#include "unit.h"
#include "walk/cache.h"

int main(void)
{
	struct scan_opts o;
	memset(&o, 0, sizeof o);
	/* a distinct value in each field, in declaration order */
	o.max_depth = -7;
	o.max_nested_bytes = 101;
	o.max_file_inflate = 102;
	o.max_scan_inflate = 103;
	o.max_class_bytes = 104;
	o.max_cd_bytes = 105;
	o.max_entries = 106;
	o.max_dir_classes = 107;
	o.max_hash_bytes = 108ULL << 40;
	o.bytecode_only = true;
	o.sha256 = SHA_ALL;
	const uint64_t want[] = {(uint64_t)(int64_t)-7, 101, 102, 103, 104, 105, 106, 107, 108ULL << 40, 1, SHA_ALL,
				 SCAN_ENGINE_REV};
	uint64_t key[SCAN_OPTS_KEY_MAX];
	size_t n = scan_opts_key(&o, key);
	CHECK("key has one number per option and the engine revision", n == sizeof want / sizeof want[0]);
	for (size_t i = 0; i < n && i < sizeof want / sizeof want[0]; i++) {
		char name[64];
		snprintf(name, sizeof name, "key[%zu] is the option's value", i);
		CHECK(name, key[i] == want[i]);
	}

	struct buf err = {0};
	struct rules *r = rules_default(&err);
	CHECK("built-in rules load", r != NULL);
	if (!r)
		UNIT_EXIT();
	struct scan_opts d;
	scan_opts_default(&d);
	uint64_t base = cache_digest(r, "1.0", &d);
	CHECK("digest is stable", base == cache_digest(r, "1.0", &d));
	CHECK("digest depends on the agent version", base != cache_digest(r, "1.1", &d));
	/* each option, moved alone, moves the digest */
	struct scan_opts m;
#define MOVES(field, value) do { \
	m = d; m.field = value; \
	CHECK("digest depends on " #field, cache_digest(r, "1.0", &m) != base); \
} while (0)
	MOVES(max_depth, 3);
	MOVES(max_nested_bytes, 1);
	MOVES(max_file_inflate, 1);
	MOVES(max_scan_inflate, 1);
	MOVES(max_class_bytes, 1);
	MOVES(max_cd_bytes, 1);
	MOVES(max_entries, 1);
	MOVES(max_dir_classes, 1);
	MOVES(max_hash_bytes, 1);
	MOVES(bytecode_only, true);
	MOVES(sha256, SHA_NONE);
	rules_free(r);
	buf_free(&err);
	UNIT_EXIT();
}
