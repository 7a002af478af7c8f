/* dashboard.h - the dashboard's static files (see dashboard.c). */
#ifndef L4S_SERVER_DASHBOARD_H
#define L4S_SERVER_DASHBOARD_H

#include <stdbool.h>

#include "http_req.h"

/* Answer GET path from the embedded files; false when it is not one. */
bool dashboard_serve(struct req *rq, const char *path);

#endif
