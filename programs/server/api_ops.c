/* api_ops.c - what those who run the collector read: GET
 * /api/v1/openapi.json, the API's description (docs/openapi.json, compiled
 * in; no credentials needed: it says what the routes are, not what they
 * hold), and GET /metrics, the server's counters in the Prometheus text
 * format (metrics.h; a token of role metrics, checked by http_route.c);
 * the routes /metrics times answers by are the description's paths. */
#include "api_internal.h"

#include <jansson.h>

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

void api_metrics_routes(void)
{
	json_t *doc = json_loads(l4s_openapi_json, 0, NULL);
	json_t *paths = json_object_get(doc, "paths");
	const char *list[128];
	size_t n = 0;
	const char *key;
	json_t *v;
	json_object_foreach(paths, key, v) {
		if (n < sizeof list / sizeof list[0])
			list[n++] = key;
	}
	metrics_routes(list, n);   /* copies them */
	json_decref(doc);
}
