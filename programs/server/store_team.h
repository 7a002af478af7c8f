/* store_team.h - running the collector for a team (issue 20 point 9):
 * users with a role, tokens by name, the audit log, and devices retired or
 * deleted.
 *
 * Roles: a user is an admin (manages users, tokens and devices, reads the
 * audit log) or a viewer (reads the fleet).  Users from before roles are
 * admins; a new user is an admin when it is the first, else a viewer,
 * unless a role is given.  Read tokens are viewers; agent tokens only
 * submit.
 *
 * Every change here is written to the audit log in the same transaction
 * (actor: the user name, or "cli" for the command line; client: the
 * address, "" from the command line).  Logins, failed logins and lockouts
 * are written by the HTTP side (store_audit_add); the reports each token
 * sends are counted per token and UTC day by ingest (ingest_device.c).
 *
 * A retired device keeps all its rows but is out of every count, list and
 * aggregate: its share of agg and of the trend's newest row is taken out
 * when it is retired and put back when it is unretired, or when it sends a
 * report again (it comes back flagged: devices.reappeared, an audit row
 * "device_reappeared").  Older trend rows are history and stay as they
 * were.  Deleting a device removes its rows (findings, processes, attempts,
 * errors, reports, the device) and its share of the counters. */
#ifndef L4S_SERVER_STORE_TEAM_H
#define L4S_SERVER_STORE_TEAM_H

#include <stdbool.h>

#include "store.h"

/* who makes a change: "cli" or a user name, and from where */
struct store_actor { const char *name, *client; };

/* a role name: "admin" or "viewer" */
bool store_role_valid(const char *role);

/* Add a user (role NULL: admin if first, else viewer), or with replace set
 * its password (and its role when role is not NULL).  The role given is
 * written to *role_out (16 bytes) when not NULL. */
int store_user_save(struct store *st, const char *name, const char *pwhash, const char *role, bool replace,
		    const struct store_actor *who, char *role_out, struct buf *err);
/* Set a user's role; refuses to leave no admin.  DB_ERR with err when the
 * user does not exist. */
int store_user_role(struct store *st, const char *name, const char *role, const struct store_actor *who,
		    struct buf *err);
/* Delete a user and its sessions.  last_admin_ok: the command line may
 * remove the last admin (it can always add one); the API may not. */
int store_user_delete(struct store *st, const char *name, bool last_admin_ok, const struct store_actor *who,
		      struct buf *err);

/* Create a token (its hash): refused when an active token has the name. */
int store_token_create(struct store *st, const char *name, const char *role, const char *hash_hex, long long now,
		       const struct store_actor *who, struct buf *err);
/* Revoke the active token of that name / delete every token of that name
 * (its row gone; its reports keep their token id). */
int store_token_revoke_by(struct store *st, const char *name, long long now, const struct store_actor *who,
			  struct buf *err);
int store_token_delete(struct store *st, const char *name, const struct store_actor *who, struct buf *err);

/* One audit row (kind: login, login_failed, lockout, ...). */
int store_audit_add(struct store *st, long long now, const char *kind, const struct store_actor *who,
		    const char *subject, const char *detail, struct buf *err);

/* The ingest counts not yet written (at most a second's), written now:
 * before the audit log is read. */
void store_audit_sync(struct store *st);

/* The audit log's retention: rows older than before (seconds since the
 * epoch) deleted; *deleted how many.  DB_OK / DB_ERR. */
int store_audit_prune(struct store *st, long long before, long long *deleted, struct buf *err);

/* Devices.  1 done, 0 no such device, -1 error (err).  *changed: the state
 * changed (false: it was already retired / active). */
int store_device_retire(struct store *st, long long id, bool retire, long long now, const struct store_actor *who,
			bool *changed, struct buf *err);
int store_device_delete(struct store *st, long long id, long long now, const struct store_actor *who,
			struct buf *err);

#endif
