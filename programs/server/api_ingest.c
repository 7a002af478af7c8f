/* api_ingest.c - the agents' side of the API: POST reports (parse the
 * NDJSON body, store it, answer with its device) and GET reports/known
 * (which of these report ids the server already has: an agent asks before
 * sending reports left in its spool). */
#include "api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "store_rules.h"
#include "util/jsonw.h"

static void ingest(struct req *rq);

/* POST reports: timed from its body being in to its answer (metrics.h) */
void api_ingest(struct req *rq)
{
	uint64_t t0 = metrics_now_ns();
	ingest(rq);
	metrics_ingest_time(metrics_now_ns() - t0);
}

static void ingest(struct req *rq)
{
	struct report r;
	struct buf err = BUF_INIT;
	if (!rq->body.len) {
		http_req_error(rq, 400, "empty body: expected an NDJSON report");
		return;
	}
	if (report_parse(&r, rq->body.data, rq->body.len, &rq->srv->cfg.limits, &err)) {
		http_req_error(rq, 400, "%s", buf_cstr(&err));
		buf_free(&err);
		return;
	}
	struct ingest_result res;
	store_rules_judge_report(rq->srv->st, &r); /* the collector's rules decide */
	if (store_ingest(rq->srv->st, &r, rq->token_id, http_req_now(), &res, &err)) {
		fprintf(stderr, "log4scan-server: ingest of %s failed: %s\n", r.report_id, buf_cstr(&err));
		rq->retry_after = 5;
		http_req_error(rq, 503, "the report could not be stored; retry later");
	} else {
		rq->status = 200;
		rq->ctype = "application/json";
		if (res.duplicate)
			metrics_report_duplicate();
		buf_printf(&rq->out, "{\"accepted\":true,\"report_id\":\"%s\",\"duplicate\":%s,\"device_id\":%lld",
			   r.report_id, res.duplicate ? "true" : "false", res.device_id);
		/* the rules that judge this fleet: an agent whose own differ
		 * fetches them (GET /api/v1/rules/active) */
		char sha[65];
		if (store_rules_active_text(rq->srv->st, sha, NULL))
			buf_printf(&rq->out, ",\"rules_sha256\":\"%s\"", sha);
		buf_adds(&rq->out, "}\n");
	}
	report_free(&r);
	buf_free(&err);
}

static int known_row(void *ctx, const struct dbrow *r)
{
	struct qb_sink *s = ctx;
	if (s->rows++)
		buf_addc(s->out, ',');
	jsonw_cstr(s->out, dbrow_text(r, 0));
	return 0;
}

void api_known(struct req *rq)
{
	const char *ids = http_req_arg(rq, "ids");
	if (!ids) {
		http_req_error(rq, 400, "ids=ID,ID,... is required");
		return;
	}
	char *copy = xstrdup(ids), *save = NULL;
	char *list[1000];
	int n = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n == 1000) {
			free(copy);
			http_req_error(rq, 400, "at most 1000 ids per request");
			return;
		}
		if (!report_id_valid(t)) {
			free(copy);
			http_req_error(rq, 400, "ids must be report UUIDs");
			return;
		}
		for (char *c = t; *c; c++)
			if (*c >= 'A' && *c <= 'F')
				*c = (char)(*c - 'A' + 'a');
		list[n++] = t;
	}
	struct qb_sink s = {&rq->out, false, 0, 0, false};
	struct buf err = BUF_INIT;
	buf_adds(&rq->out, "{\"known\":[");
	for (int i = 0; i < n; i += 50) {
		struct buf sql = BUF_INIT;
		struct dbv p[50];
		int m = n - i < 50 ? n - i : 50;
		buf_adds(&sql, "SELECT DISTINCT report_id FROM reports WHERE report_id IN (");
		for (int k = 0; k < m; k++) {
			buf_adds(&sql, k ? ",?" : "?");
			p[k] = dv_text(list[i + k]);
		}
		buf_addc(&sql, ')');
		int rc = store_query(rq->srv->st, buf_cstr(&sql), p, m, known_row, &s, &err);
		buf_free(&sql);
		if (rc) {
			free(copy);
			buf_free(&err);
			http_req_error(rq, 503, "database unavailable");
			return;
		}
	}
	buf_adds(&rq->out, "]}\n");
	free(copy);
	buf_free(&err);
	rq->status = 200;
	rq->ctype = "application/json";
}

/* GET /api/v1/rules/active: the text of the rules that judge the fleet
 * (agent and read tokens); its SHA-256 is in the ingest answer, against
 * which an agent checks it before using it. */
void api_rules_active(struct req *rq)
{
	char sha[65];
	if (!store_rules_active_text(rq->srv->st, sha, &rq->out)) {
		buf_reset(&rq->out);
		http_req_error(rq, 503, "the active rules cannot be read; retry later");
		return;
	}
	rq->status = 200;
	rq->ctype = "text/plain; charset=utf-8";
}
