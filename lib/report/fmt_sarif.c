/* fmt_sarif.c - the sarif format: one SARIF 2.1.0 log, for code-scanning
 * dashboards.
 *
 * runs[0].tool.driver.rules has one rule per CVE that applies to at least
 * one finding (id = the CVE id, shortDescription = the rules file's title,
 * helpUri = its source, properties.security-severity = the CVSS score as a
 * string, which is what dashboards sort by).  results has one result per
 * (finding, applicable CVE) pair, for vulnerable and mitigated findings
 * alike (a mitigated finding still has the CVEs its removed class does not
 * fix); CVEs mitigated by a removed class and safe findings yield no result.
 * One result per CVE rather than per finding lets a dashboard filter and
 * dismiss per CVE.  level: error for CVSS >= 7 (high, critical), warning for
 * medium, note for low.
 *
 * Location: artifactLocation.uri is the outermost file (the part of the
 * path before the first "!/"), percent-encoded so that any byte survives:
 * an absolute path becomes a file:/// URI; a relative one (scan of ".")
 * stays relative with uriBaseId %SRCROOT%, defined in originalUriBaseIds
 * as the working directory, so dashboards map it onto the repository.  The
 * nested path (a.ear!/lib/b.war!/...) is in the message and in
 * logicalLocations.  partialFingerprints carry a hash of path + CVE so a
 * dashboard tracks the same result across runs.  Per-file errors become
 * toolExecutionNotifications of the invocation.
 *
 * The whole log is written at finish, from copies of the findings. */
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/formats.h"
#include "util/jsonw.h"

struct sarif_error {
	char *path, *msg;
};

struct sarif_state {
	struct finding_list f;
	struct sarif_error *err;
	size_t nerr;
};

static void sarif_finding(struct report_writer *w, const struct finding *f)
{
	struct sarif_state *s = w->state;
	if (f->ncves)
		fmt_list_add(&s->f, f);
}

static void sarif_error(struct report_writer *w, const char *path, const char *msg)
{
	struct sarif_state *s = w->state;
	s->err = xrealloc(s->err, (s->nerr + 1) * sizeof *s->err);
	s->err[s->nerr].path = xstrdup(path ? path : "");
	s->err[s->nerr].msg = xstrdup(msg ? msg : "");
	s->nerr++;
}

static void sarif_record(struct report_writer *w, const char *kind, const char *json)
{
}

static const char *level_of(double cvss)
{
	return cvss >= 7.0 ? "error" : cvss >= 4.0 ? "warning" : "note";
}

/* "uri" and, for a relative path, "uriBaseId" of the outermost file. */
static void artifact_location(struct buf *b, const char *path)
{
	const char *bang = strstr(path, "!/");
	size_t n = bang ? (size_t)(bang - path) : strlen(path);
	buf_adds(b, "\"artifactLocation\":{\"uri\":\"");
	if (path[0] == '/') {
		buf_adds(b, "file://");
		fmt_uri_escape(b, path, n, true);
		buf_addc(b, '"');
	} else {
		while (n >= 2 && path[0] == '.' && path[1] == '/') {
			path += 2;
			n -= 2;
			while (n && *path == '/')
				path++, n--;
		}
		fmt_uri_escape(b, path, n, true);
		buf_adds(b, "\",\"uriBaseId\":\"%SRCROOT%\"");
	}
	buf_addc(b, '}');
}

static void fingerprint(struct buf *b, const char *path, const char *cve)
{
	struct sha256_ctx c;
	unsigned char d[SHA256_DIGEST_SIZE];
	sha256_init(&c);
	sha256_update(&c, strlen(path) + 1, (const uint8_t *)path);
	sha256_update(&c, strlen(cve), (const uint8_t *)cve);
	sha256_digest(&c, sizeof d, d);
	for (size_t i = 0; i < 16; i++)
		buf_printf(b, "%02x", d[i]);
}

static void sarif_finish(struct report_writer *w, const struct scan_stats *st, double seconds,
			 const struct walk_result *wr)
{
	struct sarif_state *s = w->state;
	/* The distinct CVEs, in order of first appearance. */
	const struct rule_cve **rules = NULL;
	size_t nrules = 0;
	for (size_t i = 0; i < s->f.n; i++)
		for (size_t j = 0; j < s->f.v[i].ncves; j++) {
			const struct rule_cve *c = s->f.v[i].cves[j];
			size_t k = 0;
			while (k < nrules && rules[k] != c)
				k++;
			if (k == nrules) {
				rules = xrealloc(rules, (nrules + 1) * sizeof *rules);
				rules[nrules++] = c;
			}
		}

	struct buf b = BUF_INIT;
	buf_adds(&b, "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\","
		     "\"runs\":[{\"tool\":{\"driver\":{\"name\":\"log4scan\"");
	jsonw_field_plain(&b, true, "version", L4S_VERSION);
	jsonw_field_plain(&b, true, "semanticVersion", L4S_VERSION);
#ifdef L4S_INFORMATION_URI
	jsonw_field_plain(&b, true, "informationUri", L4S_INFORMATION_URI);
#endif
	buf_adds(&b, ",\"rules\":[");
	for (size_t k = 0; k < nrules; k++) {
		const struct rule_cve *c = rules[k];
		buf_adds(&b, k ? ",{" : "{");
		jsonw_field_plain(&b, false, "id", c->id);
		buf_adds(&b, ",\"shortDescription\":{");
		jsonw_field_plain(&b, false, "text", c->title ? c->title : c->id);
		buf_adds(&b, "},\"fullDescription\":{");
		struct buf t = BUF_INIT;
		buf_printf(&t, "%s in %s (%s, CVSS %.1f)", c->title ? c->title : c->id,
			   rules_component_name(c->comp), rules_severity_of(c->cvss), c->cvss);
		jsonw_field_plain(&b, false, "text", buf_cstr(&t));
		buf_free(&t);
		buf_addc(&b, '}');
		if (c->source && c->source[0])
			jsonw_field_plain(&b, true, "helpUri", c->source);
		buf_printf(&b, ",\"defaultConfiguration\":{\"level\":\"%s\"}", level_of(c->cvss));
		buf_printf(&b, ",\"properties\":{\"security-severity\":\"%.1f\",\"cvss\":%.1f,"
			       "\"precision\":\"high\",\"tags\":[\"security\",\"vulnerability\",",
			   c->cvss, c->cvss);
		jsonw_cstr(&b, rules_component_name(c->comp));
		buf_adds(&b, "]}}");
	}
	buf_adds(&b, "]}}");

	char cwd[4096];
	if (getcwd(cwd, sizeof cwd)) {
		buf_adds(&b, ",\"originalUriBaseIds\":{\"%SRCROOT%\":{\"uri\":\"file://");
		fmt_uri_escape(&b, cwd, strlen(cwd), true);
		if (cwd[strlen(cwd) - 1] != '/')
			buf_addc(&b, '/');
		buf_adds(&b, "\"}}");
	}

	buf_adds(&b, ",\"invocations\":[{\"executionSuccessful\":true");
	if (s->nerr) {
		buf_adds(&b, ",\"toolExecutionNotifications\":[");
		for (size_t i = 0; i < s->nerr; i++) {
			buf_adds(&b, i ? ",{" : "{");
			buf_adds(&b, "\"level\":\"warning\",\"message\":{");
			struct buf t = BUF_INIT;
			buf_printf(&t, "%s: %s", s->err[i].path, s->err[i].msg);
			jsonw_field_plain(&b, false, "text", buf_cstr(&t));
			buf_free(&t);
			buf_adds(&b, "},\"locations\":[{\"physicalLocation\":{");
			artifact_location(&b, s->err[i].path);
			buf_adds(&b, "}}]}");
		}
		buf_addc(&b, ']');
	}
	buf_addc(&b, '}');
	buf_addc(&b, ']');

	buf_adds(&b, ",\"results\":[");
	bool first = true;
	for (size_t i = 0; i < s->f.n; i++) {
		const struct finding *f = &s->f.v[i];
		for (size_t j = 0; j < f->ncves; j++) {
			const struct rule_cve *c = f->cves[j];
			size_t k = 0;
			while (rules[k] != c)
				k++;
			buf_adds(&b, first ? "{" : ",{");
			first = false;
			jsonw_field_plain(&b, false, "ruleId", c->id);
			buf_printf(&b, ",\"ruleIndex\":%zu,\"level\":\"%s\",\"kind\":\"fail\",\"message\":{",
				   k, level_of(c->cvss));
			struct buf t = BUF_INIT;
			buf_printf(&t, "%s %s is affected by %s (%s, CVSS %.1f): %s. Found at %s.",
				   rules_component_name(f->comp), f->version[0] ? f->version : "(version unknown)",
				   c->id, rules_severity_of(c->cvss), c->cvss, c->title ? c->title : "", f->path);
			if (f->fixed_in[0])
				buf_printf(&t, " Upgrade to %s or later.", f->fixed_in);
			if (f->nmitigated)
				buf_adds(&t, " Some CVEs are mitigated by a removed class; this one is not.");
			jsonw_field_plain(&b, false, "text", buf_cstr(&t));
			buf_free(&t);
			buf_adds(&b, "},\"locations\":[{\"physicalLocation\":{");
			artifact_location(&b, f->path);
			buf_adds(&b, "},\"logicalLocations\":[{");
			jsonw_field_plain(&b, false, "fullyQualifiedName", f->path);
			buf_adds(&b, ",\"kind\":\"module\"}]}]");
			buf_adds(&b, ",\"partialFingerprints\":{\"log4scanInstance/v1\":\"");
			fingerprint(&b, f->path, c->id);
			buf_adds(&b, "\"},\"properties\":{");
			jsonw_field_str(&b, false, "component", rules_component_name(f->comp));
			jsonw_field_str(&b, true, "version", f->version);
			jsonw_field_str(&b, true, "status", finding_status_name(f->status));
			jsonw_field_str(&b, true, "nestedPath", f->path);
			if (f->fixed_in[0])
				jsonw_field_str(&b, true, "fixedIn", f->fixed_in);
			if (f->sha256[0])
				jsonw_field_str(&b, true, "sha256", f->sha256);
			buf_adds(&b, "}}");
		}
	}
	buf_adds(&b, "]");
	buf_printf(&b,
		   ",\"properties\":{\"files\":%llu,\"archives\":%llu,\"bytes\":%llu,\"errors\":%llu,"
		   "\"vulnerable\":%llu,\"mitigated\":%llu,\"safe\":%llu,\"seconds\":%.3f}",
		   (unsigned long long)st->files, (unsigned long long)st->archives,
		   (unsigned long long)st->bytes, (unsigned long long)st->errors,
		   (unsigned long long)st->findings[ST_VULNERABLE],
		   (unsigned long long)st->findings[ST_MITIGATED],
		   (unsigned long long)st->findings[ST_SAFE], seconds);
	buf_adds(&b, "}]}\n");
	fwrite(b.data, 1, b.len, w->out);
	buf_free(&b);
	free(rules);
}

static void sarif_destroy(struct report_writer *w)
{
	struct sarif_state *s = w->state;
	fmt_list_free(&s->f);
	for (size_t i = 0; i < s->nerr; i++) {
		free(s->err[i].path);
		free(s->err[i].msg);
	}
	free(s->err);
	free(s);
}

static const struct report_ops sarif_ops = {sarif_finding, sarif_error, sarif_record, sarif_finish,
					     sarif_destroy};

struct report_writer *fmt_sarif_new(struct report_writer *w)
{
	w->ops = &sarif_ops;
	w->state = xcalloc(1, sizeof(struct sarif_state));
	return w;
}
