/* auth.c - token and password hashing, randomness (see auth.h). */
#include "auth.h"

#include <argon2.h>
#include <errno.h>
#include <nettle/sha2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define ARGON_T 2
#define ARGON_M 19456   /* KiB */
#define ARGON_P 1

void auth_sha256_hex(const void *p, size_t n, char out[65])
{
	struct sha256_ctx h;
	uint8_t d[SHA256_DIGEST_SIZE];
	sha256_init(&h);
	sha256_update(&h, n, p);
	sha256_digest(&h, sizeof d, d);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static int fill_random(void *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom((char *)p + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

int auth_random_hex(char *out, size_t nbytes)
{
	uint8_t b[64];
	if (nbytes > sizeof b || fill_random(b, nbytes))
		return -1;
	for (size_t i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

int auth_new_token(struct buf *token)
{
	char hex[65];
	if (auth_random_hex(hex, 32))
		return -1;
	buf_printf(token, "l4s_%s", hex);
	return 0;
}

int auth_password_hash(const char *pw, struct buf *encoded, struct buf *err)
{
	uint8_t salt[16];
	if (fill_random(salt, sizeof salt)) {
		buf_printf(err, "no randomness for the salt");
		return -1;
	}
	size_t len = argon2_encodedlen(ARGON_T, ARGON_M, ARGON_P, sizeof salt, 32, Argon2_id);
	char *out = xmalloc(len + 1);
	int rc = argon2id_hash_encoded(ARGON_T, ARGON_M, ARGON_P, pw, strlen(pw), salt, sizeof salt, 32, out, len);
	if (rc != ARGON2_OK) {
		buf_printf(err, "argon2: %s", argon2_error_message(rc));
		free(out);
		return -1;
	}
	buf_adds(encoded, out);
	free(out);
	return 0;
}

bool auth_password_verify(const char *encoded, const char *pw)
{
	if (strncmp(encoded, "$argon2id$", 10))
		return false;
	return argon2id_verify(encoded, pw, strlen(pw)) == ARGON2_OK;
}

bool auth_ct_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = (unsigned char)(la != lb);
	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return d == 0 && la == lb;
}
