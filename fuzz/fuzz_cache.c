/* fuzz_cache.c - libFuzzer harness for the scan cache's reader
 * (lib/walk/cache.c through lib/walk/cache_internal.h).
 *
 * The cache file is read back by every `scan --cache` run and may be
 * truncated, damaged or planted.  The input is a whole cache file: the
 * digest is taken from the input itself so that the header check can pass
 * (otherwise every input would be refused as stale), and when it does, each
 * entry of the table whose text lies within the records is restored, as
 * cache_lookup() does for an unchanged file; when it does not, the whole
 * input is restored as record text, so the record parser is reached either
 * way.  Every finding restored must be one the reports can print: a status
 * among the known ones, a known version source, a severity, at most
 * MAX_CVES CVEs, each from the rules. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "walk/cache_internal.h"

static struct rules *rules;

static void check(const struct scan_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct scan_record *r = &b->rec[i];
		if (r->kind != REC_FINDING) {
			if (!r->path || !r->msg)
				abort();
			continue;
		}
		const struct finding *f = &r->f;
		if ((unsigned)f->status > ST_VULNERABLE || !f->version_source || !f->severity || !f->path ||
		    f->ncves > MAX_CVES || f->nmitigated > MAX_CVES || strlen(f->sha256) > 64)
			abort();
		for (size_t k = 0; k < f->ncves; k++)
			if (f->cves[k] < rules->cves || f->cves[k] >= rules->cves + rules->ncves)
				abort();
		for (size_t k = 0; k < f->nevidence; k++)
			if (!f->evidence[k])
				abort();
	}
}

static void restore(const char *p, size_t len)
{
	struct scan_batch b = {0};
	cache_restore_records(rules, p, len, &b);
	check(&b);
	scan_batch_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!rules) {
		struct buf err = BUF_INIT;
		rules = rules_default(&err);
		buf_free(&err);
		if (!rules)
			abort();
	}
	uint64_t digest = 0, n, roff;
	if (size >= 16)
		memcpy(&digest, data + 8, 8);
	if (!cache_header_ok(data, size, digest, &n, &roff)) {
		restore((const char *)data, size);
		return 0;
	}
	if (roff > size || n > (size - 32) / 24)
		abort(); /* the header check let through a table that does not fit */
	for (uint64_t i = 0; i < n && i < 4096; i++) {
		uint32_t off, len;
		memcpy(&off, data + 32 + i * 24 + 16, 4);
		memcpy(&len, data + 32 + i * 24 + 20, 4);
		if ((uint64_t)off + len <= size - roff)
			restore((const char *)data + roff + off, len);
	}
	return 0;
}
