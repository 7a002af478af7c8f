/* envelope.c - the report envelope, written from the host identity (see
 * envelope.h; the identity comes from lib/submit/hostinfo_linux.c or
 * lib/submit/hostinfo_win32.c). */
#include "submit/envelope.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "submit/hostinfo.h"
#include "util/jsonw.h"
#include "util/uuid.h"

#ifndef L4S_VERSION
#define L4S_VERSION "0.0.0"
#endif

int envelope_uuid4(char out[37])
{
	uint8_t b[16];
	size_t got = 0;
	while (got < sizeof b) {
		ssize_t r = getrandom(b + got, sizeof b - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);   /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

int envelope_build(struct buf *out, const struct l4s_envelope_opts *o, char report_id[37], struct buf *warn)
{
	if (!o->command || !*o->command) {
		buf_printf(warn, "report envelope: no command\n");
		return -1;
	}
	if (envelope_uuid4(report_id)) {
		buf_printf(warn, "report envelope: no randomness for the report id\n");
		return -1;
	}
	struct l4s_host h;
	if (hostinfo_read(&h, o->root, warn) < 0) {
		hostinfo_free(&h);
		return -1;
	}
	char created[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);

	buf_printf(out, "{\"kind\":\"report\",\"report_id\":\"%s\",\"created\":\"%s\",\"agent_version\":", report_id,
		   created);
	jsonw_cstr(out, L4S_VERSION);
	buf_adds(out, ",\"command\":");
	jsonw_cstr(out, o->command);
	buf_adds(out, ",\"host\":{\"hostname\":");
	jsonw_cstr(out, h.hostname);
	if (h.machine_id[0])
		buf_printf(out, ",\"machine_id\":\"%s\"", h.machine_id);
	if (h.agent_id[0])
		buf_printf(out, ",\"agent_id\":\"%s\"", h.agent_id);
	if (h.os[0]) {
		buf_adds(out, ",\"os\":");
		jsonw_cstr(out, h.os);
	}
	if (h.kernel[0]) {
		buf_adds(out, ",\"kernel\":");
		jsonw_cstr(out, h.kernel);
	}
	buf_adds(out, ",\"ips\":");
	if (h.ips_json.len)
		buf_add(out, h.ips_json.data, h.ips_json.len);
	else
		buf_adds(out, "[]");
	buf_adds(out, ",\"tags\":[");
	for (size_t i = 0; i < o->ntags; i++) {
		if (i)
			buf_addc(out, ',');
		jsonw_cstr(out, o->tags[i]);
	}
	buf_printf(out, "]},\"replace_tags\":%s,\"options\":%s,\"coverage\":%s}\n", o->replace_tags ? "true" : "false",
		   o->options_json ? o->options_json : "{}", o->coverage_json ? o->coverage_json : "{}");
	hostinfo_free(&h);
	return 0;
}

bool envelope_report_id(const char *body, size_t len, char id[37])
{
	const char *nl = memchr(body, '\n', len);
	size_t n = nl ? (size_t)(nl - body) : len;
	static const char key[] = "\"report_id\":\"";
	for (size_t i = 0; i + sizeof key - 1 + 37 <= n; i++) {
		if (memcmp(body + i, key, sizeof key - 1))
			continue;
		const char *v = body + i + sizeof key - 1;
		if (uuid_at(v) && v[36] == '"') {
			for (int k = 0; k < 36; k++)
				id[k] = (char)tolower((unsigned char)v[k]);
			id[36] = 0;
			return true;
		}
	}
	return false;
}
