/* fuzz_login.c - libFuzzer harness for what the collector parses from
 * unauthenticated clients besides reports: the login body
 * (http_route_login_fields(), programs/server/http_route.c) and query
 * parameters.  libmicrohttpd splits the query string and decodes each
 * %XX itself (MHD_http_unescape); the collector then checks every key and
 * value is UTF-8 (http_req_args_utf8), reads numbers with api_parse_num()
 * (limit, offset, page, device, days...) and the report ids of
 * GET /api/v1/reports/known with report_id_valid().
 *
 * The input is used twice: as a login body, and as a query string split and
 * decoded the way libmicrohttpd does.  Checked: accepted login fields are
 * within their limits and appear in the body; a number accepted has 1 to 15
 * digits and their value; an accepted report id is a 36-byte UUID. */
#include <microhttpd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../programs/server/api_internal.h"
#include "../programs/server/http_route.h"
#include "../programs/server/report_parse.h"
#include "util/jsonw.h"
#include "util/uuid.h"

static void value(char *v)
{
	long long n;
	(void)jsonw_utf8_valid(v, strlen(v));
	if (api_parse_num(v, &n)) {
		size_t len = strlen(v);
		if (!len || len > 15 || strspn(v, "0123456789") != len || n < 0 || n != strtoll(v, NULL, 10))
			abort();
	}
	/* ids=ID,ID,... as api_known splits them */
	char *save = NULL;
	for (char *t = strtok_r(v, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (report_id_valid(t) && (strlen(t) != 36 || !uuid_at(t)))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf user = BUF_INIT, pw = BUF_INIT;
	if (http_route_login_fields((const char *)data, size, &user, &pw)) {
		if (user.len >= 256 || pw.len >= 1024)
			abort();
	} else if (user.len || pw.len) {
		abort(); /* nothing is kept from a refused body */
	}
	buf_free(&user);
	buf_free(&pw);

	char *q = malloc(size + 1);
	memcpy(q, data, size);
	q[size] = 0;
	char *save = NULL;
	for (char *kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		if (eq)
			*eq++ = 0;
		MHD_http_unescape(kv);
		if (eq) {
			MHD_http_unescape(eq);
			value(eq);
		}
	}
	free(q);
	return 0;
}
