/* fuzz_tar.c - libFuzzer harness for the tarball and image readers.
 *
 * The input is a tarball in memory (any compression libarchive is given:
 * gzip, bzip2, xz, lzma, zstd, lz4, compress).  It goes through scan_mem()
 * exactly as a top-level file would (a tarball that is also a zip, such as
 * a self-extracting installer, is read both ways): pass 1 over the entries
 * (members told by content: zips, jmods and executable jars read into
 * memory or streamed, nested tarballs streamed, hard links copied,
 * exploded classes gathered by class root, relocated or not, image
 * documents kept), and when it holds manifest.json /
 * index.json and layer candidates, pass 2 over the layers with whiteouts and
 * the per-image report.  Caps are small so that one input stays fast;
 * an input of even size streams members over 2 KiB, and so the archives
 * nested in them (read as they stream by).
 * Any crash, sanitizer report or leak is a bug; every record must carry a
 * path under the input's name and every finding a status in range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "scan/scan.h"
#include "scan/tarscan.h"

static const struct rules *rules;
static struct scan_opts opts;
static struct scan_stats stats;
static struct scanner *scanner;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!scanner) {
		struct buf err = BUF_INIT;
		rules = rules_default(&err);
		if (!rules)
			abort();
		buf_free(&err);
		scan_opts_default(&opts);
		opts.max_nested_bytes = 1 << 20;
		opts.max_file_inflate = 4 << 20;
		opts.max_class_bytes = 256 << 10;
		opts.max_entries = 20000;
		opts.max_dir_classes = 5000;
		opts.max_depth = 8;
		scanner = scanner_new(rules, &opts, &stats);
		if (!scanner)
			abort();
	}
	/* an even size streams every member over 2 KiB (and the archives
	 * nested in it, zipstream.h's stream_nest); an odd one holds them in
	 * memory */
	opts.max_nested_bytes = size & 1 ? 1 << 20 : 2048;
	/* Copy so that reads past the end hit ASan's redzone exactly. */
	unsigned char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	struct scan_batch b = {0};
	scan_mem(scanner, copy, size, "f.tar.gz", false, &b);
	for (size_t i = 0; i < b.n; i++) {
		const struct scan_record *r = &b.rec[i];
		const char *p = r->kind == REC_FINDING ? r->f.path : r->path;
		if (!p || strncmp(p, "f.tar.gz", 8))
			abort();
		if (r->kind == REC_FINDING && (unsigned)r->f.status > ST_VULNERABLE)
			abort();
		if (r->kind == REC_ERROR && !r->msg)
			abort();
	}
	scan_batch_free(&b);
	free(copy);
	return 0;
}
