/* fuzz_zipwrite.c - libFuzzer harness for the raw-copy ZIP rewriter.
 *
 * The input is opened as an archive (from an exact-size copy, so any read
 * past its end is caught by ASan).  When it opens, it is rewritten with a
 * drop set and at most one replaced entry chosen from the input's first
 * byte, and the invariants are checked:
 *   - a rewrite that succeeds always passes zipwrite_verify (the writer never
 *     produces an archive it would itself reject);
 *   - with nothing dropped or replaced, the output is the input's entries
 *     and end records again, so rewriting the output once more reproduces
 *     the output byte for byte (the writer is idempotent). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "archive/zip.h"
#include "archive/zipwrite.h"

static bool rewrite(const struct zip *z, const struct zipwrite_edit *ed, struct buf *out)
{
	struct zipwrite_sink s;
	struct buf err = BUF_INIT;
	zipwrite_sink_mem(&s, out);
	bool ok = zipwrite_write(z, ed, &s, &err);
	zipwrite_sink_finish(&s);
	buf_free(&err);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1 << 20))
		return 0;
	unsigned char *copy = malloc(size);
	memcpy(copy, data, size);
	struct zsrc src = {.fd = -1, .mem = copy, .off = 0, .size = size};
	struct zip_limits lim = {1 << 20, 1 << 14};
	struct zip z;
	struct buf err = BUF_INIT;
	if (zip_open(&z, &src, &lim, &err) != ZIP_OK) {
		buf_free(&err);
		free(copy);
		return 0;
	}
	unsigned sel = data[0];
	bool *drop = calloc(z.nentries ? z.nentries : 1, sizeof *drop);
	for (size_t i = 0; i < z.nentries; i++)
		drop[i] = (sel >> (i % 8)) & 1;
	static const unsigned char repl[] = "replacement bytes for one entry";
	struct zipwrite_replace rep = {0, repl, sizeof repl};
	size_t nrep = 0;
	for (size_t i = 0; i < z.nentries && (sel & 0x80); i++)
		if (!drop[i] && (z.entries[i].method == 0 || z.entries[i].method == 8) && !(z.entries[i].flags & 1)) {
			rep.index = i;
			nrep = 1;
			break;
		}
	struct zipwrite_edit ed = {drop, &rep, nrep, 1};
	struct buf out = BUF_INIT;
	if (rewrite(&z, &ed, &out)) {
		struct zsrc o = {.fd = -1, .mem = (const unsigned char *)out.data, .off = 0, .size = out.len};
		buf_reset(&err);
		if (!zipwrite_verify(&z, &ed, &o, &err))
			abort();
	}
	buf_free(&out);

	struct zipwrite_edit none = {NULL, NULL, 0, 0};
	struct buf a = BUF_INIT, b = BUF_INIT;
	if (rewrite(&z, &none, &a)) {
		struct zsrc o = {.fd = -1, .mem = (const unsigned char *)a.data, .off = 0, .size = a.len};
		struct zip z2;
		buf_reset(&err);
		if (zip_open(&z2, &o, &lim, &err) == ZIP_OK) {
			if (rewrite(&z2, &none, &b) && (a.len != b.len || memcmp(a.data, b.data, a.len)))
				abort();
			zip_close(&z2);
		} else {
			abort(); /* the writer's own output must open */
		}
	}
	buf_free(&a);
	buf_free(&b);
	buf_free(&err);
	free(drop);
	zip_close(&z);
	free(copy);
	return 0;
}
