/* fuzz_xff.c - libFuzzer harness for the collector's reading of
 * X-Forwarded-For (programs/server/http_req.c: http_req_forwarded, the
 * client address the login limits key on) and of numeric addresses
 * (http_req_addr_norm, which also reads --trusted-proxy).
 *
 * Whatever the header, the client is the trusted peer it came from or a
 * canonical address (normalising it again changes nothing), never longer
 * than the buffer; a header of one address names that address.  Any
 * address normalised twice gives the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../programs/server/http_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct server_config cfg;
	if (!cfg.ntrusted_proxies) {
		strcpy(cfg.trusted_proxy[0], "127.0.0.1");
		strcpy(cfg.trusted_proxy[1], "::1");
		strcpy(cfg.trusted_proxy[2], "10.0.0.1");
		cfg.ntrusted_proxies = 3;
	}
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	char out[48] = "127.0.0.1", again[48];
	http_req_forwarded(&cfg, s, out, sizeof out);
	if (strlen(out) >= sizeof out)
		abort();
	if (strcmp(out, "127.0.0.1")) {
		if (!http_req_addr_norm(out, again, sizeof again) || strcmp(out, again))
			abort();
	}
	char n1[48], n2[48];
	if (size < 64 && http_req_addr_norm(s, n1, sizeof n1)) {
		if (!http_req_addr_norm(n1, n2, sizeof n2) || strcmp(n1, n2))
			abort();
		/* one hop that is an address: it is the client */
		if (strcmp(out, n1))
			abort();
	}
	free(s);
	return 0;
}
