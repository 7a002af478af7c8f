/* dashboard.c - serves the dashboard's static files, compiled into the
 * binary (the Makefile turns the files in programs/server/assets/ into C arrays with
 * scripts/embed.sh), so the collector is one file and needs no CDN.
 *
 * The page is a single HTML file with no inline script or style; app.js
 * builds every element with createElement/textContent, so data from reports
 * is never parsed as HTML, and the Content-Security-Policy set by http.c
 * (script-src 'self') refuses any script that was not served from here. */
#include "dashboard.h"

#include <string.h>

extern const char l4s_asset_index_html[];
extern const char l4s_asset_app_js[];
extern const char l4s_asset_app_css[];
extern const char l4s_asset_view_webhooks_js[];
extern const char l4s_asset_view_audit_js[];   /* issue 20 point 9 */
extern const char l4s_asset_view_team_js[];
extern const char l4s_asset_view_rules_js[];    /* issue 22 */

bool dashboard_serve(struct req *rq, const char *path)
{
	static const struct { const char *path; const char *data; const char *ctype; } files[] = {
		{"/", l4s_asset_index_html, "text/html; charset=utf-8"},
		{"/index.html", l4s_asset_index_html, "text/html; charset=utf-8"},
		{"/assets/app.js", l4s_asset_app_js, "text/javascript; charset=utf-8"},
		{"/assets/app.css", l4s_asset_app_css, "text/css; charset=utf-8"},
		{"/assets/view_webhooks.js", l4s_asset_view_webhooks_js, "text/javascript; charset=utf-8"},
		{"/assets/view_audit.js", l4s_asset_view_audit_js, "text/javascript; charset=utf-8"},
		{"/assets/view_team.js", l4s_asset_view_team_js, "text/javascript; charset=utf-8"},
		{"/assets/view_rules.js", l4s_asset_view_rules_js, "text/javascript; charset=utf-8"},
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		if (!strcmp(path, files[i].path)) {
			rq->status = 200;
			rq->ctype = files[i].ctype;
			buf_adds(&rq->out, files[i].data);
			return true;
		}
	}
	return false;
}
