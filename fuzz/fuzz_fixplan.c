/* fuzz_fixplan.c - libFuzzer harness for fix's planner and builder.
 *
 * The input is a top-level file (in a memfd).  fix plans it as `fix` does,
 * by watching scan's descent (fix_plan.c, scan_watch), with the default
 * rules and small limits; when the plan changes something, the tree is
 * built in memory as fix_apply.c builds it.  Checked:
 *   - every node's kids are entries of its archive, distinct, not dropped,
 *     and every node changes something (drops or kids);
 *   - the removed entries listed are exactly the drops of the tree;
 *   - a build that succeeds passes zipwrite_verify (the writer never produces an
 *     archive its own check rejects);
 *   - nothing leaks, nothing reads out of bounds (ASan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fix/fix_internal.h"
#include "rules/rules.h"
#include "scan/scan.h"

static struct rules *rules;
static struct scan_opts sopts;
static struct fixer *fx;
static int memfd = -1;

static size_t check(const struct node *n)
{
	if (!n->ndrop && !n->nkids)
		abort();
	size_t drops = 0;
	for (size_t i = 0; i < n->z.nentries; i++)
		drops += n->drop[i];
	if (drops != n->ndrop)
		abort();
	for (size_t k = 0; k < n->nkids; k++) {
		size_t ix = n->kids[k].index;
		if (ix >= n->z.nentries || n->drop[ix])
			abort();
		for (size_t j = 0; j < k; j++)
			if (n->kids[j].index == ix)
				abort();
		drops += check(n->kids[k].n);
	}
	return drops;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!rules) {
		struct buf err = BUF_INIT;
		rules = rules_default(&err);
		if (!rules)
			abort();
		scan_opts_default(&sopts);
		sopts.max_nested_bytes = 1 << 20;
		sopts.max_file_inflate = 8 << 20;
		sopts.max_scan_inflate = 64ULL << 30;
		sopts.max_cd_bytes = 1 << 20;
		sopts.max_entries = 1 << 16;
		sopts.sha256 = SHA_NONE;
		struct fix_opts fo = {.rules = rules, .so = &sopts, .dry_run = true};
		fx = fixer_new(&fo, &err);
		memfd = memfd_create("fuzz_fixplan", MFD_CLOEXEC);
		if (!fx || memfd < 0)
			abort();
		buf_free(&err);
	}
	struct stat st;
	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size || fstat(memfd, &st) < 0)
		abort();
	struct plan p = {.fx = fx};
	struct node *top = fix_plan_file(&p, memfd, &st, "fuzz.jar");
	if (top) {
		if (check(top) != p.nremoved)
			abort();
		struct buf out = BUF_INIT, err = BUF_INIT;
		struct zipwrite_sink s;
		zipwrite_sink_mem(&s, &out);
		bool ok = fix_build(top, &s, &err);
		zipwrite_sink_finish(&s);
		if (ok) {
			struct zsrc ms = {.fd = -1, .mem = (const unsigned char *)out.data, .off = 0, .size = out.len};
			if (!zipwrite_verify(&top->z, &top->ed, &ms, &err))
				abort();
		}
		buf_free(&out);
		buf_free(&err);
		fix_node_free(top);
	}
	fix_plan_free(&p);
	return 0;
}
