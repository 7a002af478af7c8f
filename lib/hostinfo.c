/* hostinfo.c - the report envelope: host identity and report id (see
 * hostinfo.h). */
#include "hostinfo.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "jsonw.h"

#ifndef L4S_VERSION
#define L4S_VERSION "0.0.0"
#endif

int l4s_uuid4(char out[37])
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

/* first line of a small file, without the newline; false when unreadable */
static bool read_line(const char *root, const char *path, char *out, size_t n)
{
	char full[4096];
	snprintf(full, sizeof full, "%s%s", root, path);
	FILE *f = fopen(full, "r");
	if (!f)
		return false;
	bool ok = fgets(out, (int)n, f) != NULL;
	fclose(f);
	if (ok)
		out[strcspn(out, "\r\n")] = 0;
	return ok;
}

static bool machine_id(const char *root, char out[33])
{
	char line[128];
	const char *paths[] = {"/etc/machine-id", "/var/lib/dbus/machine-id"};
	for (size_t i = 0; i < 2; i++) {
		if (!read_line(root, paths[i], line, sizeof line) || strlen(line) != 32)
			continue;
		bool hex = true;
		for (int k = 0; k < 32; k++)
			hex &= isxdigit((unsigned char)line[k]) != 0;
		if (!hex)
			continue;
		for (int k = 0; k < 32; k++)
			out[k] = (char)tolower((unsigned char)line[k]);
		out[32] = 0;
		return true;
	}
	return false;
}

/* PRETTY_NAME from os-release, shell-style quoting removed */
static bool os_name(const char *root, char *out, size_t n)
{
	const char *paths[] = {"/etc/os-release", "/usr/lib/os-release"};
	for (size_t i = 0; i < 2; i++) {
		char full[4096], line[1024];
		snprintf(full, sizeof full, "%s%s", root, paths[i]);
		FILE *f = fopen(full, "r");
		if (!f)
			continue;
		bool found = false;
		while (!found && fgets(line, sizeof line, f)) {
			if (strncmp(line, "PRETTY_NAME=", 12))
				continue;
			char *v = line + 12;
			v[strcspn(v, "\r\n")] = 0;
			size_t len = strlen(v);
			if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
				v[len - 1] = 0;
				v++;
			}
			size_t k = 0;
			for (const char *p = v; *p && k + 1 < n; p++) {
				if (*p == '\\' && p[1])
					p++;
				out[k++] = *p;
			}
			out[k] = 0;
			found = true;
		}
		fclose(f);
		if (found)
			return true;
	}
	return false;
}

static void add_ips(struct buf *b)
{
	struct ifaddrs *ifa = NULL;
	bool first = true;
	buf_addc(b, '[');
	if (getifaddrs(&ifa) == 0) {
		char seen[64][INET6_ADDRSTRLEN];
		int nseen = 0;
		for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
			if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK))
				continue;
			char txt[INET6_ADDRSTRLEN];
			if (i->ifa_addr->sa_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, txt, sizeof txt);
			else if (i->ifa_addr->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, txt, sizeof txt);
			else
				continue;
			bool dup = false;
			for (int k = 0; k < nseen; k++)
				dup |= !strcmp(seen[k], txt);
			if (dup || nseen == 64)
				continue;
			snprintf(seen[nseen++], sizeof seen[0], "%s", txt);
			if (!first)
				buf_addc(b, ',');
			json_cstr(b, txt);
			first = false;
		}
		freeifaddrs(ifa);
	}
	buf_addc(b, ']');
}

int l4s_envelope(struct buf *out, const struct l4s_envelope_opts *o, char report_id[37], struct buf *err)
{
	const char *root = o->root ? o->root : "";
	if (!o->command || !*o->command) {
		buf_printf(err, "report envelope: no command");
		return -1;
	}
	if (l4s_uuid4(report_id)) {
		buf_printf(err, "report envelope: no randomness for the report id");
		return -1;
	}
	char host[256] = "", mid[33] = "", os[512] = "", created[32];
	if (gethostname(host, sizeof host - 1))
		host[0] = 0;
	bool have_mid = machine_id(root, mid);
	if (!have_mid && !host[0]) {
		buf_printf(err, "report envelope: neither a machine id nor a host name");
		return -1;
	}
	bool have_os = os_name(root, os, sizeof os);
	struct utsname u;
	bool have_uname = uname(&u) == 0;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);

	buf_printf(out, "{\"kind\":\"report\",\"report_id\":\"%s\",\"created\":\"%s\",\"agent_version\":", report_id,
		   created);
	json_cstr(out, L4S_VERSION);
	buf_adds(out, ",\"command\":");
	json_cstr(out, o->command);
	buf_adds(out, ",\"host\":{\"hostname\":");
	json_cstr(out, host);
	if (have_mid)
		buf_printf(out, ",\"machine_id\":\"%s\"", mid);
	if (have_os) {
		buf_adds(out, ",\"os\":");
		json_cstr(out, os);
	}
	if (have_uname) {
		buf_adds(out, ",\"kernel\":");
		json_cstr(out, u.release);
	}
	buf_adds(out, ",\"ips\":");
	add_ips(out);
	buf_adds(out, ",\"tags\":[");
	for (size_t i = 0; i < o->ntags; i++) {
		if (i)
			buf_addc(out, ',');
		json_cstr(out, o->tags[i]);
	}
	buf_adds(out, "]}}\n");
	return 0;
}
