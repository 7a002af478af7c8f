/* api_ops.c - what those who run the collector read: GET
 * /api/v1/openapi.json, the API's description (docs/openapi.json, compiled
 * in; no credentials needed: it says what the routes are, not what they
 * hold), and GET /metrics, the server's counters in the Prometheus text
 * format (metrics.h; a token of role metrics, checked by http_route.c). */
#include "api_internal.h"

#include "metrics.h"

extern const char l4s_openapi_json[];

void api_openapi(struct req *rq)
{
	buf_adds(&rq->out, l4s_openapi_json);
	rq->status = 200;
	rq->ctype = "application/json";
}

void api_metrics(struct req *rq)
{
	metrics_render(&rq->out, db_kind(rq->srv->st->db) == DB_PG ? "postgresql" : "sqlite");
	rq->status = 200;
	rq->ctype = "text/plain; version=0.0.4; charset=utf-8";
}
