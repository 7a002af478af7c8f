/* api.h - the handlers of /api/v1/..., as http_route.c calls them once it
 * has decided the caller may (see api_*.c).  Each fills in the request's
 * answer: status, content type, body. */
#ifndef L4S_SERVER_API_H
#define L4S_SERVER_API_H

#include "http_req.h"

void api_ingest(struct req *rq);                   /* POST reports (agent token) */
void api_known(struct req *rq);
void api_rules_active(struct req *rq);             /* GET rules/active (agent or read token) */                    /* GET reports/known?ids=... */
void api_get(struct req *rq, const char *path);    /* GET, path after /api/v1/ */
/* GET rules, rules/changes (api_rules.c); false: not one of them */
bool api_rules(struct req *rq, const char *path);
/* POST rules/rollback {"id":N}: make rules N active again, re-judging in the
 * background (202); an admin's session with its CSRF token only */
void api_rules_rollback(struct req *rq);
/* GET webhooks, webhooks/log, webhooks/events (api_webhooks.c); false: not
 * one of them */
bool api_webhooks_get(struct req *rq, const char *path);
/* POST webhooks, webhooks/ID/delete, webhooks/ID/test: admin actions, called
 * only once http_route.c's route_admin() let the request through */
void api_webhooks_post(struct req *rq, const char *path);
/* webhooks/log, webhooks/events: read only (a POST there is a 405) */
bool api_webhooks_get_only(const char *path);
/* GET /api/v1/openapi.json (anyone) and GET /metrics (a metrics token):
 * api_ops.c */
void api_openapi(struct req *rq);
void api_metrics(struct req *rq);
/* the description's paths given to metrics_routes (before serving) */
void api_metrics_routes(void);

/* The admin's routes (api_team.c): 0 not one of them, 1 a read, 2 a
 * change, -1 one of them with a method it does not take. */
int api_team_match(const char *path, const char *method);
void api_team(struct req *rq, const char *path);   /* an admin's session only */

#endif
