/* fuzz_webhook.c - libFuzzer harness for what the collector parses of a
 * webhook target (programs/server/webhook_admin.c): the body of
 * POST /api/v1/webhooks (webhook_add_fields: jansson, then the URL through
 * libcurl's URL parser, the kinds, the secret), and the same bytes as a URL
 * (webhook_url_check, webhook_url_shown) and as a list of kinds.
 *
 * Checked: an accepted body gives an http(s) URL without control bytes of at
 * most 2048 bytes, a secret of 16 to 1024 bytes, kinds that are a non-empty
 * comma list of known kinds; a refused one leaves nothing behind; the shown
 * URL is a prefix of the URL (then "?..." when it had a query) and never
 * holds what follows '?' or '#'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../programs/server/webhook.h"

/* each of s's comma-separated kinds is one of WEBHOOK_KINDS (webhook.h) */
static bool known_kinds(const char *s)
{
	if (!*s)
		return false;
	while (*s) {
		size_t n = strcspn(s, ",");
		bool found = false;
		for (const char *k = WEBHOOK_KINDS; *k && !found;) {
			size_t m = strcspn(k, ",");
			found = n && m == n && !strncmp(s, k, n);
			k += m + (k[m] == ',');
		}
		if (!found)
			return false;
		s += n + (s[n] == ',');
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf url = BUF_INIT, secret = BUF_INIT, kinds = BUF_INIT, err = BUF_INIT, shown = BUF_INIT;
	if (webhook_add_fields((const char *)data, size, &url, &secret, &kinds, &err)) {
		const char *u = buf_cstr(&url);
		if (url.len > 2048 || (strncmp(u, "http://", 7) && strncmp(u, "https://", 8) && strncasecmp(u, "http", 4)))
			abort();
		for (size_t i = 0; i < url.len; i++)
			if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f)
				abort();
		if (secret.len < 16 || secret.len > 1024 || !known_kinds(buf_cstr(&kinds)))
			abort();
	} else if (url.len || secret.len || kinds.len || !err.len) {
		abort();
	}
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	buf_reset(&err);
	(void)webhook_url_check(s, &err);
	webhook_url_shown(s, &shown);
	const char *cut = strpbrk(s, "?#");
	size_t keep = cut ? (size_t)(cut - s) : strlen(s);
	if (shown.len < keep || memcmp(shown.data ? shown.data : "", s, keep) ||
	    strcmp(buf_cstr(&shown) + keep, cut && *cut == '?' ? "?..." : ""))
		abort();
	struct buf k = BUF_INIT;
	buf_reset(&err);
	if (webhook_kinds_parse(s, &k, &err) && !known_kinds(buf_cstr(&k)))
		abort();
	buf_free(&k);
	free(s);
	buf_free(&url);
	buf_free(&secret);
	buf_free(&kinds);
	buf_free(&err);
	buf_free(&shown);
	return 0;
}
