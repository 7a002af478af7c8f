/* cve_info.c - each CVE's CVSS score, severity and title for the
 * dashboard, from the CVE table the server was built with
 * (rules/log4j.rules, embedded as l4s_server_rules): its `cve ID COMPONENT
 * CVSS "TITLE"` lines, written into the cve_info table at every start (an
 * upsert: several servers may start together).  The rest of the rules is
 * the agent's business and is not read here.  The text is the project's own
 * (compiled in), yet it is parsed defensively: a line that does not have
 * that shape is skipped. */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

extern const char l4s_server_rules[];

/* the next token of a rules line: blank-separated, or "quoted" with \" and
 * \\ escapes; false at the end of the line or at a comment */
static bool token(const char **pp, const char *end, struct buf *out)
{
	const char *p = *pp;
	buf_reset(out);
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= end || *p == '#')
		return false;
	if (*p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			buf_addc(out, *p);
		}
		if (p < end)
			p++;
	} else {
		while (p < end && *p != ' ' && *p != '\t')
			buf_addc(out, *p++);
	}
	*pp = p;
	return true;
}

/* "9.8" -> 98; -1 unless digits with at most one decimal */
static long long cvss10(const char *s)
{
	long long v = 0;
	int frac = -1;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s == '.' && frac < 0) {
			frac = 0;
		} else if (*s >= '0' && *s <= '9' && frac < 1 && v < 1000) {
			v = v * 10 + (*s - '0');
			if (frac >= 0)
				frac++;
		} else {
			return -1;
		}
	}
	return frac == 1 ? v : v * 10;
}

static const char *severity_of10(long long c)
{
	return c >= 90 ? "critical" : c >= 70 ? "high" : c >= 40 ? "medium" : "low";
}

int cve_info_load(struct store *st, struct buf *err)
{
	struct dbc *c = db_acquire(st->db);
	struct buf tok[5] = {BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT};
	int rc = dbc_begin(c);
	for (const char *line = l4s_server_rules; rc == DB_OK && *line;) {
		const char *end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		const char *p = line;
		int k = 0;
		while (k < 5 && token(&p, end, &tok[k]))
			k++;
		line = *end ? end + 1 : end;
		if (k != 5 || strcmp(buf_cstr(&tok[0]), "cve"))
			continue;
		long long c10 = cvss10(buf_cstr(&tok[3]));
		if (c10 < 0 || c10 > 100)
			continue;
		char score[16];
		snprintf(score, sizeof score, "%lld.%lld", c10 / 10, c10 % 10);
		struct dbv v[6] = {dv_text(buf_cstr(&tok[1])), dv_text(buf_cstr(&tok[2])), dv_text(score), dv_int(c10),
				   dv_text(severity_of10(c10)), dv_text(buf_cstr(&tok[4]))};
		rc = dbc_exec(c, "INSERT INTO cve_info(cve, component, cvss, cvss10, severity, title) VALUES(?, ?, ?, ?, ?, ?)"
				 " ON CONFLICT(cve) DO UPDATE SET component = excluded.component, cvss = excluded.cvss,"
				 " cvss10 = excluded.cvss10, severity = excluded.severity, title = excluded.title",
			      v, 6, NULL, NULL);
	}
	if (rc == DB_OK)
		rc = dbc_commit(c);
	if (rc != DB_OK) {
		buf_printf(err, "cannot store the CVE table: %s", dbc_error(c));
		dbc_rollback(c);
	}
	for (int k = 0; k < 5; k++)
		buf_free(&tok[k]);
	db_release(st->db, c);
	return rc != DB_OK ? DB_ERR : DB_OK;
}
