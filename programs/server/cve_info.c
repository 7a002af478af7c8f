/* cve_info.c - each CVE's CVSS score, severity and title for the
 * dashboard (the cve_info table, joined by GET /api/v1/cves and the
 * overview's by_cve), from the collector's ACTIVE rules (store_rules.c):
 * their `cve ID COMPONENT CVSS "TITLE"` lines.
 *
 * The table is written (cve_info_write) in the transaction that makes
 * rules active, the one that ends a re-judging (store_rules.c, finish), so
 * the scores shown always belong to the rules that judged the findings;
 * and at every start from the active rules' text (cve_info_load: the
 * built-in rules when none were loaded), which also brings a database
 * written by an older server in line.  Several servers may start
 * together, or one start while another process ends a re-judging: which
 * rules are active is read in the transaction that writes the table.
 *
 * A CVE the active rules no longer list loses its row: the table is
 * exactly the active rules' CVE table, never a mix of two versions.  A
 * finding that still names it (an agent's own verdict, not re-judgeable)
 * is counted under it as before, with no score and no title, like a CVE
 * from a newer agent (the dashboard says "not in this server's CVE
 * table"); rolling back to rules that list it brings the row back. */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

#include "rules/rules.h"

extern const char l4s_default_rules[];

int cve_info_write(struct dbc *c, bool pg, const struct rules *r)
{
	/* the rows of CVEs the rules do not list, first: their ids as one
	 * JSON parameter (the rules' ids are plain text: no escaping needed,
	 * yet json_cstr would do it) */
	struct buf ids = BUF_INIT;
	buf_addc(&ids, '[');
	for (size_t i = 0; i < r->ncves; i++) {
		if (i)
			buf_addc(&ids, ',');
		buf_addc(&ids, '"');
		for (const char *p = r->cves[i].id; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_addc(&ids, '\\');
			buf_addc(&ids, *p);
		}
		buf_addc(&ids, '"');
	}
	buf_addc(&ids, ']');
	const char *del = pg
				  ? "DELETE FROM cve_info WHERE cve NOT IN"
				    " (SELECT jsonb_array_elements_text(CAST(? AS jsonb)))"
				  : "DELETE FROM cve_info WHERE cve NOT IN (SELECT value FROM json_each(?))";
	int rc = dbc_exec(c, del, (struct dbv[]){dv_text(buf_cstr(&ids))}, 1, NULL, NULL);
	buf_free(&ids);
	for (size_t i = 0; rc == DB_OK && i < r->ncves; i++) {
		const struct rule_cve *cv = &r->cves[i];
		/* the score as the rules write it, to one decimal ("9.0"); the
		 * severity as the agent rates a finding (rules_severity_of) */
		long long c10 = (long long)(cv->cvss * 10 + 0.5); /* 0 <= cvss <= 10 (rules_parse) */
		char score[48];
		snprintf(score, sizeof score, "%lld.%lld", c10 / 10, c10 % 10);
		struct dbv v[6] = {dv_text(cv->id), dv_text(rules_component_name(cv->comp)), dv_text(score), dv_int(c10),
				   dv_text(rules_severity_of(cv->cvss)), dv_text(cv->title ? cv->title : "")};
		rc = dbc_exec(c, "INSERT INTO cve_info(cve, component, cvss, cvss10, severity, title) VALUES(?, ?, ?, ?, ?, ?)"
				 " ON CONFLICT(cve) DO UPDATE SET component = excluded.component, cvss = excluded.cvss,"
				 " cvss10 = excluded.cvss10, severity = excluded.severity, title = excluded.title",
			      v, 6, NULL, NULL);
	}
	return rc;
}

static int cve_info_body_row(void *ctx, const struct dbrow *r)
{
	buf_adds(ctx, dbrow_text(r, 0));
	return 1;
}

/* In c's open transaction: the active rules' text (the built-in rules or
 * a stored version) into text, and a name for it into source; 1 when the
 * active id is not stored. */
static int cve_info_active_text(struct dbc *c, bool pg, struct buf *text, char source[64])
{
	long long id = 0, n = 0;
	/* FOR UPDATE: a re-judging's last transaction (store_rules.c) updates
	 * this row before it writes the table, so the two take turns and the
	 * one that ends last wrote the active rules' scores */
	int rc = dbc_int(c, pg ? "SELECT active FROM rules_state WHERE one = 1 FOR UPDATE"
			       : "SELECT active FROM rules_state WHERE one = 1",
			 NULL, 0, 0, &id);
	snprintf(source, 64, "the built-in rules");
	if (rc != DB_OK || !id) {
		buf_adds(text, l4s_default_rules);
		return rc;
	}
	snprintf(source, 64, "rules %lld", id);
	rc = dbc_int(c, "SELECT COUNT(*) FROM rules WHERE id = ?", (struct dbv[]){dv_int(id)}, 1, 0, &n);
	if (rc == DB_OK && n)
		rc = dbc_exec(c, "SELECT body FROM rules WHERE id = ?", (struct dbv[]){dv_int(id)}, 1, cve_info_body_row,
			      text);
	return rc == DB_OK && !n ? 1 : rc;
}

/* The active rules read here, not through store_rules.c, which sits above
 * the store (store_open calls this). */
int cve_info_load(struct store *st, struct buf *err)
{
	bool pg = db_kind(st->db) == DB_PG;
	struct dbc *c = db_acquire(st->db);
	struct buf text = BUF_INIT, why = BUF_INIT;
	char source[64];
	const char *warn = NULL;
	int rc;
	for (int attempt = 0;; attempt++) {
		buf_reset(&text);
		buf_reset(&why);
		warn = NULL;
		rc = dbc_begin(c);
		if (rc == DB_OK)
			rc = cve_info_active_text(c, pg, &text, source);
		struct rules *r = NULL;
		if (rc == 1) {
			warn = "not stored";
		} else if (rc == DB_OK && !(r = rules_parse(text.data ? text.data : "", text.len, &why))) {
			warn = buf_cstr(&why);
		}
		if (warn) {
			rc = DB_OK;
			dbc_rollback(c);
			break;
		}
		if (rc == DB_OK)
			rc = cve_info_write(c, pg, r);
		rules_free(r);
		if (rc == DB_OK)
			rc = dbc_commit(c);
		if (rc == DB_OK)
			break;
		if (rc != DB_RETRY || attempt >= 5) {
			buf_printf(err, "cannot store the CVE table: %s", dbc_error(c));
			dbc_rollback(c);
			break;
		}
		dbc_rollback(c);
	}
	db_release(st->db, c);
	/* rules stored by another build that this one's parser refuses: the
	 * server still starts (so that an admin can roll back), the table as
	 * it was */
	if (warn)
		fprintf(stderr, "log4scan-server: warning: the active rules (%s): %s; the CVE table keeps its scores\n",
			source, warn);
	buf_free(&text);
	buf_free(&why);
	return rc != DB_OK ? DB_ERR : DB_OK;
}
