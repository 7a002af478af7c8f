/* fuzz_zip.c - libFuzzer harness for the archive reader and the detector.
 *
 * The input is an archive in memory.  zip_open() reads it from its tail; every
 * entry is then located (zip_data_offset) and read with a small cap
 * (zip_read), and the detector runs over the whole entry list exactly as the
 * scanner does, with the default rules.  Nested archives are followed one
 * level when STORED (a window onto the input, as scan.c does) so the
 * offset arithmetic of windows is exercised too.  Then the same bytes go
 * through the real per-file engine, scan_fd() on a memfd (nesting to any
 * depth, the recursion guard, the budgets, error paths), with small caps.
 * Any crash, sanitizer report or leak is a bug; "bad archive" answers are
 * expected and ignored. */
#include <libdeflate.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "archive/zip.h"
#include "detect/detect.h"
#include "rules/rules.h"
#include "scan/scan.h"

#define READ_CAP (256 << 10)

static const struct rules *rules;
static struct libdeflate_decompressor *dec;
static struct scan_opts sopts;
static struct scan_stats stats;
static struct scanner *scanner;
static int memfd = -1;

struct view {
	struct zip *z;
	uint64_t budget; /* like the scanner's per-file inflation budget */
};

static const char *v_name(void *ctx, size_t i, size_t *len)
{
	struct view *v = ctx;
	*len = v->z->entries[i].name_len;
	return v->z->entries[i].name;
}

static bool v_read(void *ctx, size_t i, uint64_t max, unsigned char **out, size_t *len,
		   struct buf *err)
{
	struct view *v = ctx;
	const struct zip_entry *e = &v->z->entries[i];
	if (e->usize > v->budget) {
		buf_adds(err, "budget");
		return false;
	}
	if (!zip_read(v->z, e, max < READ_CAP ? max : READ_CAP, dec, out, len, err))
		return false;
	v->budget -= *len;
	return true;
}

static void one(const struct zsrc *src, int depth)
{
	struct zip z;
	struct buf err = BUF_INIT;
	struct zip_limits lim = {1 << 20, 1 << 16};
	if (zip_open(&z, src, &lim, &err) != ZIP_OK) {
		buf_free(&err);
		return;
	}
	/* Every entry: locate and read (bounded). */
	for (size_t i = 0; i < z.nentries; i++) {
		unsigned char *out;
		size_t len;
		uint64_t off;
		buf_reset(&err);
		if (zip_data_offset(&z, &z.entries[i], &off, &err) && off > src->size)
			abort(); /* offset outside the source */
		buf_reset(&err);
		if (zip_read(&z, &z.entries[i], READ_CAP, dec, &out, &len, &err)) {
			if (len != z.entries[i].usize)
				abort();
			free(out);
		}
	}
	/* The detector over the listing. */
	struct view v = {&z, 4 << 20};
	struct container c = {z.nentries, v_name, v_read, &v};
	struct detect_opts o = {false, READ_CAP};
	struct detect_result res;
	detect_run(rules, &o, &c, &res);
	detect_result_free(&res);
	/* One level of STORED nesting, as a window. */
	for (size_t i = 0; depth == 0 && i < z.nentries && i < 8; i++) {
		const struct zip_entry *e = &z.entries[i];
		uint64_t off;
		buf_reset(&err);
		if (e->method != 0 || e->csize != e->usize || !zip_data_offset(&z, e, &off, &err))
			continue;
		struct zsrc child = *src;
		child.mem = src->mem + off;
		child.size = e->csize;
		one(&child, depth + 1);
	}
	buf_free(&err);
	zip_close(&z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!rules) {
		struct buf err = BUF_INIT;
		rules = rules_default(&err);
		dec = libdeflate_alloc_decompressor();
		if (!rules || !dec)
			abort();
		buf_free(&err);
		scan_opts_default(&sopts);
		sopts.max_nested_bytes = 1 << 20;
		sopts.max_file_inflate = 8 << 20;
		sopts.max_class_bytes = READ_CAP;
		sopts.max_cd_bytes = 1 << 20;
		sopts.max_entries = 1 << 16;
		scanner = scanner_new(rules, &sopts, &stats);
		memfd = memfd_create("fuzz_zip", MFD_CLOEXEC);
		if (!scanner || memfd < 0)
			abort();
	}
	/* Copy so that reads past the end hit ASan's redzone exactly. */
	unsigned char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	struct zsrc src = {.fd = -1, .mem = copy, .off = 0, .size = size};
	one(&src, 0);
	free(copy);

	struct stat st;
	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size || fstat(memfd, &st) < 0)
		abort();
	struct scan_batch b = {0};
	scan_fd(scanner, memfd, &st, "fuzz.jar", true, &b);
	for (size_t i = 0; i < b.n; i++)
		if (b.rec[i].kind == REC_ERROR && (!b.rec[i].path || !b.rec[i].msg))
			abort();
	scan_batch_free(&b);
	return 0;
}
