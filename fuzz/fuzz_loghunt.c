/* fuzz_loghunt.c - libFuzzer harness for the Log4j lookup evaluator and the
 * streaming log hunter.
 *
 * The input is evaluated as one message by lookup_eval, unescaped by
 * loghunt_unescape, and fed to a hunter in pieces whose sizes come from the
 * first byte (so lines and escapes straddle feeds).  Besides the
 * sanitizers, it traps when an invariant breaks: every reported lookup
 * starts with "jndi:" (a bound one has none and names its bound), raw text
 * stays within LH_MSG_MAX, offsets are inside the input, evaluation work
 * stays bounded (the message passes included), what the evaluator reports
 * as a top-level expression or a stop lies inside the message, and the
 * unescape map is monotonic and ends at the input length.  One hunter serves every
 * input (as one serves every file of a scan).
 *
 *   make fuzz && build/fuzz/fuzz_loghunt -max_total_time=300 fuzz/corpus-loghunt */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "logs/loghunt.h"
#include "logs/lookup_eval.h"

struct fuzz_ctx {
	size_t size;
};

static void check_attempt(void *ctx, const struct lh_attempt *a)
{
	const struct fuzz_ctx *f = ctx;
	if (a->status == LH_BOUND ? a->decoded[0] || a->bound == LH_BOUND_NONE
				  : strncmp(a->decoded, "jndi:", 5) != 0 || a->bound != LH_BOUND_NONE)
		__builtin_trap();
	if (a->raw_len == 0 || a->raw_len > LH_MSG_MAX)
		__builtin_trap();
	if (a->offset + a->raw_len > f->size || a->line == 0)
		__builtin_trap();
	if (a->port < -1 || a->port > 65535)
		__builtin_trap();
	for (size_t i = 0; i < a->n_exfil; i++)
		if (!a->exfil[i][0])
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	/* as the hunter evaluates, and naively with the forced pass (the
	 * other two combinations add no code) */
	for (unsigned flags = 0; flags <= (LK_NAIVE | LK_FORCE); flags += LK_NAIVE | LK_FORCE) {
		struct lk_result r;
		size_t n = lookup_eval(s, size, flags, &r);
		for (size_t i = 0; i < n; i++) {
			const struct lk_jndi *j = &r.found[i];
			if (strncmp(j->decoded, "jndi:", 5) != 0 || j->pass == 0 || j->pass > r.passes)
				__builtin_trap();
			if (j->pass == 1 && !j->forced &&
			    (j->expr_end > size || j->expr_start + 3 > j->expr_end))
				__builtin_trap();
		}
		if (r.stop == LK_STOP_UNCLOSED && (r.stop_pass != 1 || r.stop_at + 2 > size))
			__builtin_trap();
		if (r.last_expr_end > size)
			__builtin_trap();
		/* each pass examines the message about twice, and stops at the
		 * step bound; the last one may overshoot by one message */
		if (r.steps > LK_MAX_STEPS + 8 * size + 64)
			__builtin_trap();
		lookup_result_free(&r);
	}

	char *out = malloc(size + 1);
	uint32_t *map = malloc((size + 1) * sizeof *map);
	size_t len = loghunt_unescape(s, size, out, map);
	if (len > size || map[len] != size)
		__builtin_trap();
	for (size_t i = 1; i <= len; i++)
		if (map[i] < map[i - 1])
			__builtin_trap();
	free(out);
	free(map);

	static struct fuzz_ctx f;
	static struct loghunt *h;
	if (!h)
		h = loghunt_new(check_attempt, &f);
	f.size = size;
	unsigned long long before = loghunt_stats(h)->bytes;
	size_t step = size ? (size_t)data[0] % 61 + 1 : 1;
	loghunt_begin(h, "fuzz.log");
	for (size_t i = 0; i < size; i += step)
		loghunt_feed(h, data + i, size - i < step ? size - i : step);
	loghunt_end(h);
	if (loghunt_stats(h)->bytes - before != size)
		__builtin_trap();
	return 0;
}
