/* fuzz_submit.c - libFuzzer harness for what `log4scan submit` (and every
 * --submit) reads from outside: the collector's answers and the spool
 * directory's names (lib/submit/submit.c through lib/submit/submit_internal.h).  A collector
 * URL can be mistyped or point at a hostile server, and the spool
 * directory may hold anything.
 *
 * The input is an answer body: the "accepted" test, the error reason and the
 * known-reports list are read from it; each of its lines is also tried as
 * a spool file name.  Checked: the reason appended is at most 300 bytes,
 * with no control character; an id is marked known only when the answer
 * holds it (case aside) between quotes; a name taken as a spooled report
 * is exactly 63 bytes with a UUID at 20 and ends in ".ndjson". */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "submit/submit_internal.h"
#include "util/uuid.h"

static const char *const ids[] = {
	"6f1c0e2a-1b2c-4d3e-8f40-112233445566", "00000000-0000-4000-8000-000000000000",
	"ABCDEF01-2345-4678-9abc-def012345678", "6f1c0e2a-1b2c-4d3e-8f40-112233445567",
};
#define NIDS (sizeof ids / sizeof ids[0])

static bool quoted_in(const char *text, const char *id)
{
	for (const char *q = strchr(text, '"'); q; q = strchr(q + 1, '"'))
		if (strlen(q + 1) >= 37 && !strncasecmp(q + 1, id, 36) && q[37] == '"')
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = 0;

	(void)submit_answer_accepted(text);

	struct buf r = BUF_INIT;
	buf_adds(&r, "x: ");
	submit_answer_reason(text, &r);
	if (r.len < 3 || r.len > 3 + 301)
		abort();
	for (size_t i = 3; i < r.len; i++)
		if ((unsigned char)r.data[i] < 0x20)
			abort();
	buf_free(&r);

	bool known[NIDS] = {false};
	submit_known_parse(text, ids, NIDS, known);
	for (size_t i = 0; i < NIDS; i++)
		if (known[i] && !quoted_in(text, ids[i]))
			abort();

	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (submit_spool_name(line) &&
		    (strlen(line) != 63 || !uuid_at(line + 20) || strcmp(line + 56, ".ndjson")))
			abort();
	}
	free(text);
	return 0;
}
