/* store_team.c - users with roles, tokens by name, the audit log, devices
 * retired and deleted (see store_team.h).  Each change is one transaction
 * with its audit row; on SQLite it runs on the writer's connection (the
 * one writer ingest uses), on PostgreSQL it locks the device row as ingest
 * does, so a report of the same device waits for it or it for the report. */
#include "store_team.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ingest_internal.h"

bool store_role_valid(const char *role) { return role && (!strcmp(role, "admin") || !strcmp(role, "viewer")); }

static int audit(struct dbc *c, long long now, const char *kind, const struct store_actor *who, const char *subject,
		 const char *detail)
{
	struct dbv p[6] = {dv_int(now), dv_text(kind), dv_text(who && who->name ? who->name : "cli"),
			   dv_text(subject ? subject : ""), dv_text(who && who->client ? who->client : ""),
			   dv_text(detail ? detail : "")};
	return dbc_exec(c, "INSERT INTO audit(at, kind, actor, subject, client, detail) VALUES(?, ?, ?, ?, ?, ?)", p, 6,
			NULL, NULL);
}

/* ---- users ---- */

struct user_op {
	const char *name, *pwhash, *role, *mode;
	bool replace, last_admin_ok;
	const struct store_actor *who;
	long long now;
	char *role_out;
};

static long long count(struct dbc *c, const char *sql, const struct dbv *p, int np, int *rc)
{
	long long n = 0;
	if (!*rc)
		*rc = dbc_int(c, sql, p, np, 0, &n);
	return n;
}

static int user_save_tx(struct dbc *c, void *ctx, struct buf *err)
{
	struct user_op *u = ctx;
	int rc = DB_OK;
	struct dbv nm[1] = {dv_text(u->name)};
	bool exists = count(c, "SELECT COUNT(*) FROM users WHERE name = ?", nm, 1, &rc) > 0;
	long long users = count(c, "SELECT COUNT(*) FROM users", NULL, 0, &rc);
	if (rc)
		return rc;
	if (exists && !u->replace) {
		buf_printf(err, "user %s exists (a new password: log4scan-server user add %s --replace)", u->name, u->name);
		return DB_ERR;
	}
	const char *role = u->role ? u->role : users == 0 ? "admin" : "viewer";
	if (exists) {
		struct dbv p[3] = {dv_text(u->pwhash), dv_text(u->role), dv_text(u->name)};
		rc = dbc_exec(c, "UPDATE users SET pwhash = ?, role = COALESCE(?, role) WHERE name = ?", p, 3, NULL, NULL);
		/* a new password ends the user's sessions */
		if (!rc)
			rc = dbc_exec(c, "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?)", nm, 1,
				      NULL, NULL);
	} else {
		struct dbv p[4] = {dv_text(u->name), dv_text(u->pwhash), dv_int(u->now), dv_text(role)};
		rc = dbc_exec(c, "INSERT INTO users(name, pwhash, created, role) VALUES(?, ?, ?, ?)", p, 4, NULL, NULL);
	}
	char detail[64];
	if (exists)
		snprintf(detail, sizeof detail, "new password%s%s", u->role ? ", role " : "", u->role ? u->role : "");
	else
		snprintf(detail, sizeof detail, "role %s", role);
	if (!rc)
		rc = audit(c, u->now, exists ? "user_password" : "user_add", u->who, u->name, detail);
	if (u->role_out)
		snprintf(u->role_out, 16, "%s", exists && !u->role ? "(kept)" : role);
	return rc;
}

int store_user_save(struct store *st, const char *name, const char *pwhash, const char *role, bool replace,
		    const struct store_actor *who, char *role_out, struct buf *err)
{
	if (role && !store_role_valid(role)) {
		buf_printf(err, "a role is admin or viewer, not %s", role);
		return DB_ERR;
	}
	struct user_op u = {name, pwhash, role, NULL, replace, false, who, (long long)time(NULL), role_out};
	return store_tx(st, user_save_tx, &u, err);
}

/* refuse a change that leaves no admin (role: the user's new role; NULL:
 * deleted) */
static int keeps_an_admin(struct dbc *c, const char *name, struct buf *err)
{
	int rc = DB_OK;
	struct dbv nm[1] = {dv_text(name)};
	long long others = count(c, "SELECT COUNT(*) FROM users WHERE role = 'admin' AND name <> ?", nm, 1, &rc);
	if (!rc && !others) {
		buf_printf(err, "%s is the last admin: add another admin first", name);
		return DB_ERR;
	}
	return rc;
}

static int user_role_tx(struct dbc *c, void *ctx, struct buf *err)
{
	struct user_op *u = ctx;
	struct dbv p[2] = {dv_text(u->role), dv_text(u->name)};
	int rc = DB_OK;
	if (!count(c, "SELECT COUNT(*) FROM users WHERE name = ?", p + 1, 1, &rc)) {
		if (!rc)
			buf_printf(err, "no user named %s", u->name);
		return rc ? rc : DB_ERR;
	}
	if (strcmp(u->role, "admin") && (rc = keeps_an_admin(c, u->name, err)))
		return rc;
	if ((rc = dbc_exec(c, "UPDATE users SET role = ? WHERE name = ?", p, 2, NULL, NULL)))
		return rc;
	char detail[32];
	snprintf(detail, sizeof detail, "role %s", u->role);
	return audit(c, u->now, "user_role", u->who, u->name, detail);
}

int store_user_role(struct store *st, const char *name, const char *role, const struct store_actor *who,
		    struct buf *err)
{
	if (!store_role_valid(role)) {
		buf_printf(err, "a role is admin or viewer, not %s", role ? role : "(none)");
		return DB_ERR;
	}
	struct user_op u = {name, NULL, role, NULL, false, false, who, (long long)time(NULL), NULL};
	return store_tx(st, user_role_tx, &u, err);
}

static int user_delete_tx(struct dbc *c, void *ctx, struct buf *err)
{
	struct user_op *u = ctx;
	struct dbv p[1] = {dv_text(u->name)};
	int rc = DB_OK;
	if (!count(c, "SELECT COUNT(*) FROM users WHERE name = ?", p, 1, &rc)) {
		if (!rc)
			buf_printf(err, "no user named %s", u->name);
		return rc ? rc : DB_ERR;
	}
	if (!u->last_admin_ok && (rc = keeps_an_admin(c, u->name, err)))
		return rc;
	if ((rc = dbc_exec(c, "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE name = ?)", p, 1,
			   NULL, NULL)) ||
	    (rc = dbc_exec(c, "DELETE FROM users WHERE name = ?", p, 1, NULL, NULL)))
		return rc;
	return audit(c, u->now, "user_delete", u->who, u->name, "");
}

int store_user_delete(struct store *st, const char *name, bool last_admin_ok, const struct store_actor *who,
		      struct buf *err)
{
	struct user_op u = {name, NULL, NULL, NULL, false, last_admin_ok, who, (long long)time(NULL), NULL};
	return store_tx(st, user_delete_tx, &u, err);
}

/* ---- tokens ---- */

struct tok_op { const char *name, *role, *hash; long long now; const struct store_actor *who; bool del; };

static int token_create_tx(struct dbc *c, void *ctx, struct buf *err)
{
	struct tok_op *t = ctx;
	struct dbv p[4] = {dv_text(t->name), dv_text(t->role), dv_text(t->hash), dv_int(t->now)};
	int rc = DB_OK;
	if (count(c, "SELECT COUNT(*) FROM tokens WHERE name = ? AND revoked = 0", p, 1, &rc)) {
		if (!rc)
			buf_printf(err, "a token named %s exists already (token list; revoke or delete it first)", t->name);
		return rc ? rc : DB_ERR;
	}
	if ((rc = dbc_exec(c, "INSERT INTO tokens(name, role, hash, created) VALUES(?, ?, ?, ?)", p, 4, NULL, NULL)))
		return rc;
	char detail[32];
	snprintf(detail, sizeof detail, "role %s", t->role);
	return audit(c, t->now, "token_create", t->who, t->name, detail);
}

int store_token_create(struct store *st, const char *name, const char *role, const char *hash_hex, long long now,
		       const struct store_actor *who, struct buf *err)
{
	if (strcmp(role, "agent") && strcmp(role, "read") && strcmp(role, "metrics")) {
		buf_printf(err, "a token's role is agent, read or metrics, not %s", role);
		return DB_ERR;
	}
	struct tok_op t = {name, role, hash_hex, now, who, false};
	return store_tx(st, token_create_tx, &t, err);
}

static int token_end_tx(struct dbc *c, void *ctx, struct buf *err)
{
	struct tok_op *t = ctx;
	struct dbv p[2] = {dv_int(t->now), dv_text(t->name)};
	int rc = DB_OK;
	long long n = count(c, t->del ? "SELECT COUNT(*) FROM tokens WHERE name = ?"
				      : "SELECT COUNT(*) FROM tokens WHERE name = ? AND revoked = 0", p + 1, 1, &rc);
	if (!rc && !n)
		buf_printf(err, t->del ? "no token named %s" : "no active token named %s", t->name);
	if (rc || !n)
		return rc ? rc : DB_ERR;
	if ((rc = t->del ? dbc_exec(c, "DELETE FROM tokens WHERE name = ?", p + 1, 1, NULL, NULL)
			 : dbc_exec(c, "UPDATE tokens SET revoked = ? WHERE name = ? AND revoked = 0", p, 2, NULL, NULL)))
		return rc;
	return audit(c, t->now, t->del ? "token_delete" : "token_revoke", t->who, t->name, "");
}

int store_token_revoke_by(struct store *st, const char *name, long long now, const struct store_actor *who,
			  struct buf *err)
{
	struct tok_op t = {name, NULL, NULL, now, who, false};
	return store_tx(st, token_end_tx, &t, err);
}

int store_token_delete(struct store *st, const char *name, const struct store_actor *who, struct buf *err)
{
	struct tok_op t = {name, NULL, NULL, (long long)time(NULL), who, true};
	return store_tx(st, token_end_tx, &t, err);
}

/* ---- the audit log ---- */

struct audit_op { long long now; const char *kind, *subject, *detail; const struct store_actor *who; };

static int audit_tx(struct dbc *c, void *ctx, struct buf *err)
{
	(void)err;
	struct audit_op *a = ctx;
	return audit(c, a->now, a->kind, a->who, a->subject, a->detail);
}

int store_audit_add(struct store *st, long long now, const char *kind, const struct store_actor *who,
		    const char *subject, const char *detail, struct buf *err)
{
	struct audit_op a = {now, kind, subject, detail, who};
	if (db_kind(st->db) == DB_PG) {   /* one statement: no transaction of its own */
		struct dbc *c = db_acquire(st->db);
		int rc = audit(c, now, kind, who, subject, detail);
		if (rc)
			buf_printf(err, "%s", dbc_error(c));
		db_release(st->db, c);
		return rc ? DB_ERR : DB_OK;
	}
	return store_tx(st, audit_tx, &a, err);
}

void store_audit_sync(struct store *st) { ingest_audit_flush(st, 0); }

struct prune_op { long long before, deleted; };
static int prune_tx(struct dbc *c, void *ctx, struct buf *err)
{
	(void)err;
	struct prune_op *o = ctx;
	struct dbv p[1] = {dv_int(o->before)};
	int rc = DB_OK;
	o->deleted = count(c, "SELECT COUNT(*) FROM audit WHERE at < ?", p, 1, &rc);
	if (!rc && o->deleted)
		rc = dbc_exec(c, "DELETE FROM audit WHERE at < ?", p, 1, NULL, NULL);
	return rc;
}

int store_audit_prune(struct store *st, long long before, long long *deleted, struct buf *err)
{
	struct prune_op o = {before, 0};
	int rc = store_tx(st, prune_tx, &o, err);
	*deleted = rc ? 0 : o.deleted;
	return rc;
}

/* ---- devices ---- */

struct dev_op {
	long long id, now;
	bool retire, del;
	const struct store_actor *who;
	bool found, changed;
	bool pg;
};

static int dev_tx(struct dbc *c, void *ctx, struct buf *err)
{
	(void)err;
	struct dev_op *o = ctx;
	struct dbv id[1] = {dv_int(o->id)};
	o->found = o->changed = false;
	/* the device row locked (PostgreSQL; SQLite: the one writer) */
	int rc = dbc_exec(c, "UPDATE devices SET retired = retired WHERE id = ?", id, 1, NULL, NULL);
	long long retired = -1;
	if (!rc)
		rc = dbc_int(c, "SELECT retired FROM devices WHERE id = ?", id, 1, -1, &retired);
	if (rc || retired < 0)
		return rc;
	o->found = true;
	struct deltas dl = {0};
	const char *kind;
	if (o->del) {
		kind = "device_delete";
		if (!retired)
			rc = ingest_device_contrib(c, o->id, -1, &dl);
	} else if (o->retire) {
		kind = "device_retire";
		if (retired)
			return DB_OK;
		rc = ingest_device_contrib(c, o->id, -1, &dl);
		struct dbv p[2] = {dv_int(o->now), dv_int(o->id)};
		if (!rc)
			rc = dbc_exec(c, "UPDATE devices SET retired = ? WHERE id = ?", p, 2, NULL, NULL);
	} else {
		kind = "device_unretire";
		if (!retired)
			return DB_OK;
		rc = ingest_device_contrib(c, o->id, +1, &dl);
		if (!rc)
			rc = dbc_exec(c, "UPDATE devices SET retired = 0, reappeared = 0 WHERE id = ?", id, 1, NULL, NULL);
	}
	o->changed = true;
	/* the audit row names the device as it was */
	struct dbv a[5] = {dv_int(o->now), dv_text(kind), dv_text(o->who && o->who->name ? o->who->name : "cli"),
			   dv_text(o->who && o->who->client ? o->who->client : ""), dv_int(o->id)};
	if (!rc)
		rc = dbc_exec(c, "INSERT INTO audit(at, kind, actor, client, subject, detail)"
				 " SELECT ?, ?, ?, ?, '#' || CAST(id AS TEXT) || ' ' || hostname,"
				 " 'ident ' || ident || ', ' || CAST(n_reports AS TEXT) || ' reports'"
				 " FROM devices WHERE id = ?", a, 5, NULL, NULL);
	if (!rc && o->del) {
		static const char *const del[] = {
			"DELETE FROM findings WHERE device_id = ?", "DELETE FROM processes WHERE device_id = ?",
			"DELETE FROM attempts WHERE device_id = ?", "DELETE FROM scan_errors WHERE device_id = ?",
			"DELETE FROM reports WHERE device_id = ?", "DELETE FROM devices WHERE id = ?"};
		for (size_t i = 0; !rc && i < sizeof del / sizeof del[0]; i++)
			rc = dbc_exec(c, del[i], id, 1, NULL, NULL);
	}
	if (!rc)
		rc = o->pg ? store_merge_append(c, &dl, o->now) : store_merge_apply(c, &dl, o->now);
	ingest_deltas_free(&dl);
	return rc;
}

int store_device_retire(struct store *st, long long id, bool retire, long long now, const struct store_actor *who,
			bool *changed, struct buf *err)
{
	struct dev_op o = {id, now, retire, false, who, false, false, db_kind(st->db) == DB_PG};
	int rc = store_tx(st, dev_tx, &o, err);
	if (changed)
		*changed = o.changed;
	return rc ? -1 : o.found;
}

int store_device_delete(struct store *st, long long id, long long now, const struct store_actor *who,
			struct buf *err)
{
	struct dev_op o = {id, now, false, true, who, false, false, db_kind(st->db) == DB_PG};
	int rc = store_tx(st, dev_tx, &o, err);
	return rc ? -1 : o.found;
}
