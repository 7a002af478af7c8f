/* scan_opts.c - the scan's options: their defaults, the SHA-256 policy's
 * names, and the key a cache of results is made under (scan_opts_key): one
 * table of struct scan_opts's fields, so that an option added to the struct
 * and forgotten here is caught (tests/t_layers.sh, scan-opts-key, compares
 * this table with the struct in scan.h; tests/unit/test_scan_opts.c checks
 * each entry moves the key). */
#include "scan/scan.h"

#include <stddef.h>
#include <string.h>

void scan_opts_default(struct scan_opts *o)
{
	o->max_depth = 16;
	o->max_nested_bytes = 32ULL << 20;
	o->max_file_inflate = 1024ULL << 20;
	o->max_scan_inflate = 64ULL << 30;
	o->max_class_bytes = 4ULL << 20;
	o->max_cd_bytes = 256ULL << 20;
	o->max_entries = 4000000;
	o->max_dir_classes = 500000;
	o->max_hash_bytes = 1ULL << 30;
	o->bytecode_only = false;
	o->sha256 = SHA_AFFECTED;
}

const char *scan_opts_sha_name(enum sha_policy p)
{
	return p == SHA_ALL ? "all" : p == SHA_NONE ? "none" : "affected";
}

bool scan_opts_sha_parse(const char *s, enum sha_policy *p)
{
	static const enum sha_policy v[] = {SHA_AFFECTED, SHA_ALL, SHA_NONE};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (!strcmp(s, scan_opts_sha_name(v[i]))) {
			*p = v[i];
			return true;
		}
	return false;
}

/* Every field of struct scan_opts, in declaration order: each one may change
 * the records a file gets, so each one keys the cache.  One line per field;
 * t_layers.sh (scan-opts-key) reads the names between SCAN_OPTS_KEY_FIELD( and
 * the comma. */
#define SCAN_OPTS_KEY_FIELD(f, kind) {offsetof(struct scan_opts, f), sizeof ((struct scan_opts *)0)->f, kind}
enum scan_opts_kind { SCAN_OPTS_UNSIGNED, SCAN_OPTS_SIGNED };
static const struct scan_opts_field {
	size_t off, size;
	enum scan_opts_kind kind;
} scan_opts_fields[] = {
	SCAN_OPTS_KEY_FIELD(max_depth, SCAN_OPTS_SIGNED),
	SCAN_OPTS_KEY_FIELD(max_nested_bytes, SCAN_OPTS_UNSIGNED),
	SCAN_OPTS_KEY_FIELD(max_file_inflate, SCAN_OPTS_UNSIGNED),
	SCAN_OPTS_KEY_FIELD(max_scan_inflate, SCAN_OPTS_UNSIGNED),
	SCAN_OPTS_KEY_FIELD(max_class_bytes, SCAN_OPTS_UNSIGNED),
	SCAN_OPTS_KEY_FIELD(max_cd_bytes, SCAN_OPTS_UNSIGNED),
	SCAN_OPTS_KEY_FIELD(max_entries, SCAN_OPTS_UNSIGNED),
	SCAN_OPTS_KEY_FIELD(max_dir_classes, SCAN_OPTS_UNSIGNED),
	SCAN_OPTS_KEY_FIELD(max_hash_bytes, SCAN_OPTS_UNSIGNED),
	SCAN_OPTS_KEY_FIELD(bytecode_only, SCAN_OPTS_UNSIGNED),
	SCAN_OPTS_KEY_FIELD(sha256, SCAN_OPTS_UNSIGNED),
};
#define SCAN_OPTS_NFIELDS (sizeof scan_opts_fields / sizeof scan_opts_fields[0])
_Static_assert(SCAN_OPTS_NFIELDS + 1 <= SCAN_OPTS_KEY_MAX, "SCAN_OPTS_KEY_MAX too small");

/* One field's value widened to 64 bits (sign-extended when signed). */
static uint64_t scan_opts_value(const struct scan_opts *o, const struct scan_opts_field *f)
{
	const unsigned char *p = (const unsigned char *)o + f->off;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64 = 0;
	bool sgn = f->kind == SCAN_OPTS_SIGNED;
	switch (f->size) {
	case 1: memcpy(&u8, p, 1); return sgn ? (uint64_t)(int64_t)(int8_t)u8 : u8;
	case 2: memcpy(&u16, p, 2); return sgn ? (uint64_t)(int64_t)(int16_t)u16 : u16;
	case 4: memcpy(&u32, p, 4); return sgn ? (uint64_t)(int64_t)(int32_t)u32 : u32;
	default: memcpy(&u64, p, f->size < 8 ? f->size : 8); return u64;
	}
}

size_t scan_opts_key(const struct scan_opts *o, uint64_t key[SCAN_OPTS_KEY_MAX])
{
	size_t n = 0;
	for (size_t i = 0; i < SCAN_OPTS_NFIELDS; i++)
		key[n++] = scan_opts_value(o, &scan_opts_fields[i]);
	key[n++] = SCAN_ENGINE_REV;
	return n;
}
