/* lib/win32/include/nettle/sha2.h - the SHA-256 interface the shared code
 * uses (Nettle's, on Linux), served on Windows by CNG (lib/win32/hash_cng.c).
 *
 * Only what log4scan calls: sha256_init, sha256_update, sha256_digest and
 * SHA256_DIGEST_SIZE.  The CNG hash object lives inside the context, so a
 * context that is initialised and never finished costs no memory. */
#ifndef L4S_WIN32_SHA2_H
#define L4S_WIN32_SHA2_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32

struct sha256_ctx {
	void *h;                 /* BCRYPT_HASH_HANDLE, created on first use */
	void *heap;              /* the hash object when it outgrows obj[] */
	unsigned char obj[1024]; /* the hash object (BCRYPT_OBJECT_LENGTH) */
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, size_t n, const uint8_t *data);
/* Writes min(n, 32) bytes of the digest and resets c for a new hash. */
void sha256_digest(struct sha256_ctx *c, size_t n, uint8_t *out);

#endif
