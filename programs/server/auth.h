/* auth.h - secrets: agent/read tokens, passwords, sessions, CSRF.
 *
 * Tokens ("l4s_" + 64 hex digits from getrandom) and session ids are never
 * stored: the database keeps their SHA-256 (nettle), which is enough for
 * secrets with 256 bits of entropy.  Passwords are chosen by people, so they
 * are hashed with argon2id (libargon2, RFC 9106 parameters t=2, m=19 MiB,
 * p=1, 16-byte random salt, PHC string format).  Secrets are compared in
 * constant time. */
#ifndef L4S_SERVER_AUTH_H
#define L4S_SERVER_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

void auth_sha256_hex(const void *p, size_t n, char out[65]);
/* 2*nbytes hex digits of randomness; -1 when the kernel gives none */
int auth_random_hex(char *out, size_t nbytes);
int auth_new_token(struct buf *token);   /* "l4s_<64 hex>" */
int auth_password_hash(const char *pw, struct buf *encoded, struct buf *err);
bool auth_password_verify(const char *encoded, const char *pw);
bool auth_ct_equal(const char *a, const char *b);

#endif
