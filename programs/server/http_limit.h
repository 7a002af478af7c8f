/* http_limit.h - what keeps a flood of requests off the database: token
 * buckets per key (a token, a login address) and a short cache of the
 * tokens looked up. */
#ifndef L4S_SERVER_HTTP_LIMIT_H
#define L4S_SERVER_HTTP_LIMIT_H

#include "util/buf.h"
#include "server.h"

/* Token buckets keyed by a short string: a fixed table (4,096 slots, a key
 * probes 8; a new key takes the slot of the longest idle one). */
struct ratelimit *http_limit_new(void);
void http_limit_free(struct ratelimit *rl);
/* Take one request for key from a bucket of `burst` refilled at `rate` per
 * second: 0 allowed; otherwise the seconds to wait (nothing taken).
 * rate <= 0: no limit. */
long http_limit_take(struct ratelimit *rl, const char *key, double rate, double burst);
/* The same bucket looked at, nothing taken: 0 when a request would be
 * allowed now, otherwise the seconds to wait. */
long http_limit_wait(struct ratelimit *rl, const char *key, double rate, double burst);

/* The token whose SHA-256 is hash (64 hex digits): 1 found (its id and
 * role), 0 unknown or revoked, -1 database error (err).  A token found in
 * the last 10 seconds is not looked up again, so revoking a token takes
 * effect within that time. */
int http_limit_token(struct server *srv, const char *hash, long long *id, char role[16], struct buf *err);

#endif
