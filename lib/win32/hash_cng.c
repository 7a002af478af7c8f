/* lib/win32/hash_cng.c - SHA-256 through Windows CNG (bcrypt.dll), behind
 * the Nettle-shaped interface of lib/win32/include/nettle/sha2.h.
 *
 * One algorithm provider is opened for the process (BCRYPT_SHA256_ALGORITHM);
 * each context creates its hash object in its own storage on first update,
 * and sha256_digest finishes and destroys it.  CNG is thread-safe for
 * distinct hash objects, so scanner threads hash in parallel.  A failure of
 * CNG itself (never seen; it would mean a broken system) aborts: a wrong
 * digest must never be reported. */
#include <windows.h>
#include <bcrypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nettle/sha2.h"

static BCRYPT_ALG_HANDLE alg;
static DWORD objlen;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void die(const char *what, NTSTATUS s)
{
	fprintf(stderr, "log4scan: SHA-256 (CNG %s) failed: 0x%08lx\n", what, (unsigned long)s);
	abort();
}

static void open_alg(void)
{
	NTSTATUS s = BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA256_ALGORITHM, NULL, 0);
	if (s)
		die("BCryptOpenAlgorithmProvider", s);
	ULONG got = 0;
	s = BCryptGetProperty(alg, BCRYPT_OBJECT_LENGTH, (PUCHAR)&objlen, sizeof objlen, &got, 0);
	if (s)
		die("BCryptGetProperty", s);
}

void sha256_init(struct sha256_ctx *c)
{
	c->h = NULL;
	c->heap = NULL;
}

static void start(struct sha256_ctx *c)
{
	pthread_once(&once, open_alg);
	unsigned char *obj = c->obj;
	if (objlen > sizeof c->obj) {
		c->heap = malloc(objlen);
		if (!c->heap)
			die("allocation", 0);
		obj = c->heap;
	}
	BCRYPT_HASH_HANDLE h;
	NTSTATUS s = BCryptCreateHash(alg, &h, obj, objlen, NULL, 0, 0);
	if (s)
		die("BCryptCreateHash", s);
	c->h = h;
}

void sha256_update(struct sha256_ctx *c, size_t n, const uint8_t *data)
{
	if (!c->h)
		start(c);
	while (n) {
		ULONG k = n > (1u << 30) ? (1u << 30) : (ULONG)n;
		NTSTATUS s = BCryptHashData(c->h, (PUCHAR)data, k, 0);
		if (s)
			die("BCryptHashData", s);
		data += k;
		n -= k;
	}
}

void sha256_digest(struct sha256_ctx *c, size_t n, uint8_t *out)
{
	if (!c->h)
		start(c);
	unsigned char d[32];
	NTSTATUS s = BCryptFinishHash(c->h, d, sizeof d, 0);
	if (s)
		die("BCryptFinishHash", s);
	BCryptDestroyHash(c->h);
	free(c->heap);
	memcpy(out, d, n < sizeof d ? n : sizeof d);
	sha256_init(c);
}
