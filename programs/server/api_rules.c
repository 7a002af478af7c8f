/* api_rules.c - GET /api/v1/rules (the active rules, the re-judging in
 * progress, every rules file kept) and GET /api/v1/rules/changes (what
 * each change of rules did: per CVE, how many devices became affected and
 * how many no longer are).  See store_rules.h. */
#include "api_internal.h"

#include <string.h>

#include "store_rules.h"

bool api_rules(struct req *rq, const char *path)
{
	int (*fn)(struct store *, struct buf *, struct buf *) =
		!strcmp(path, "rules") ? store_rules_json
		: !strcmp(path, "rules/changes") ? store_rules_changes_json
		: NULL;
	if (!fn)
		return false;
	struct buf err = BUF_INIT;
	if (fn(rq->srv->st, &rq->out, &err)) {
		buf_reset(&rq->out);
		http_req_error(rq, 500, "query failed");
	} else {
		buf_addc(&rq->out, '\n');
		rq->status = 200;
		rq->ctype = "application/json";
	}
	buf_free(&err);
	return true;
}
