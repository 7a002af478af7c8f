/* hostinfo_linux.c - who this Linux host and this install are (see hostinfo.h):
 * /etc files, uname, getifaddrs, and the agent id file in the state
 * directory.  The Windows counterpart is lib/submit/hostinfo_win32.c. */
#include "submit/hostinfo.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "util/jsonw.h"
#include "util/uuid.h"

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
			jsonw_cstr(b, txt);
			first = false;
		}
		freeifaddrs(ifa);
	}
	buf_addc(b, ']');
}

/* ---- the state directory and the agent id ---- */

const char *hostinfo_state_dir(char *out, size_t n)
{
	const char *env = getenv("LOG4SCAN_STATE_DIR");
	if (env && *env) {
		snprintf(out, n, "%s", env);
		mkdir(out, 0700);
		return out;
	}
	if (geteuid() == 0) {
		mkdir("/var/lib/log4scan", 0755);
		snprintf(out, n, "/var/lib/log4scan");
		return out;
	}
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char parent[3000];
	if (state && *state) {
		snprintf(out, n, "%s/log4scan", state);
		mkdir(state, 0700);
	} else {
		snprintf(parent, sizeof parent, "%s/.local", home ? home : "/tmp");
		mkdir(parent, 0700);
		snprintf(parent, sizeof parent, "%s/.local/state", home ? home : "/tmp");
		mkdir(parent, 0700);
		snprintf(out, n, "%s/log4scan", parent);
	}
	mkdir(out, 0700);
	return out;
}

/* A file holding one UUID (and a newline): true and the UUID, lower case. */
static bool read_uuid_file(const char *path, char out[37])
{
	char line[64];
	if (!read_line("", path, line, sizeof line) || strlen(line) != 36 || !uuid_at(line))
		return false;
	for (int i = 0; i < 37; i++)
		out[i] = (char)tolower((unsigned char)line[i]);
	return true;
}

/* Create dir/agent-id: written under a temporary name, then linked into
 * place, so two first runs at once agree on one id (the loser reads the
 * winner's). */
static bool create_agent_id(const char *dir, const char *path, char out[37], struct buf *warn)
{
	char tmp[4200], id[37];
	if (envelope_uuid4(id)) {
		buf_printf(warn, "agent id: no randomness to create one\n");
		return false;
	}
	snprintf(tmp, sizeof tmp, "%s/.agent-id-%s", dir, id);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	bool ok = fd >= 0;
	if (ok) {
		fchmod(fd, 0644); /* whatever the umask: other users' runs read it */
		char line[38];
		snprintf(line, sizeof line, "%s\n", id);
		ok = write(fd, line, 37) == 37 && fsync(fd) == 0;
		ok &= close(fd) == 0;
	}
	if (ok && link(tmp, path) < 0) {
		if (errno == EEXIST) /* another run was first: use its id */
			ok = read_uuid_file(path, id) || rename(tmp, path) == 0;
		else
			ok = false;
	}
	int e = errno;
	if (fd >= 0)
		unlink(tmp);
	if (!ok) {
		buf_printf(warn, "agent id: cannot create %s: %s; the report carries none\n", path, strerror(e));
		return false;
	}
	memcpy(out, id, 37);
	return true;
}

static bool agent_id(char out[37], struct buf *warn)
{
	const char *env = getenv("LOG4SCAN_STATE_DIR");
	/* A user's run on a host where root's agent has an id sends that one. */
	if (!(env && *env) && geteuid() != 0 && read_uuid_file("/var/lib/log4scan/agent-id", out))
		return true;
	char dir[4096], path[4200];
	hostinfo_state_dir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/agent-id", dir);
	if (read_uuid_file(path, out))
		return true;
	struct stat st;
	if (lstat(path, &st) == 0) {
		/* there, but not an id: say so, and put a good one in its place */
		buf_printf(warn, "agent id: %s does not hold a UUID; a new id replaces it\n", path);
		if (unlink(path) < 0 && errno != ENOENT) {
			buf_printf(warn, "agent id: cannot replace %s: %s; the report carries none\n", path,
				   strerror(errno));
			return false;
		}
	}
	return create_agent_id(dir, path, out, warn);
}

int hostinfo_read(struct l4s_host *h, const char *root, struct buf *warn)
{
	memset(h, 0, sizeof *h);
	if (!root)
		root = "";
	if (gethostname(h->hostname, sizeof h->hostname - 1))
		h->hostname[0] = 0;
	bool have_mid = machine_id(root, h->machine_id);
	if (!have_mid && !h->hostname[0]) {
		buf_printf(warn, "host identity: neither a machine id nor a host name\n");
		return -1;
	}
	if (!agent_id(h->agent_id, warn))
		h->agent_id[0] = 0;
	if (!os_name(root, h->os, sizeof h->os))
		h->os[0] = 0;
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(h->kernel, sizeof h->kernel, "%s", u.release);
	add_ips(&h->ips_json);
	return 0;
}

void hostinfo_free(struct l4s_host *h)
{
	buf_free(&h->ips_json);
}
