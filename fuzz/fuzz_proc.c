/* fuzz_proc.c - libFuzzer harness for the process view's parsers of /proc
 * text (lib/proc/proc_linux.c through lib/proc/proc_internal.h, and proc_container_id() of
 * proc.h): cmdline (any local user chooses a JVM's arguments), maps (the
 * names of the files a JVM maps), net/tcp, tcp6, udp, udp6 and cgroup.
 *
 * Every input goes through all of them, as the text of each file (so a
 * seed of one kind also exercises the others).  What comes out must be
 * usable as a report's fields: an archive candidate from maps has an
 * absolute path and a map_files/A-B handle; a listening socket has the
 * protocol asked for, an address and a port of at most 65535; the
 * command is never NULL; a container id names its runtime. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proc/proc_internal.h"

static void check_net(const char *text, const char *proto, bool v6, unsigned want)
{
	struct netns ns;
	memset(&ns, 0, sizeof ns);
	proc_parse_net(&ns, text, proto, v6, want);
	for (size_t i = 0; i < ns.n; i++) {
		const struct proc_listen *l = &ns.socks[i].l;
		if (strcmp(l->proto, proto) || !l->addr[0] || l->port > 65535 || !ns.socks[i].ino ||
		    !memchr(l->addr, 0, sizeof l->addr))
			abort();
		if (!v6 && !strchr(l->addr, '.'))
			abort();
	}
	free(ns.socks);
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = 0;

	/* maps: modified in place, so on a copy */
	char *maps = strdup(text);
	struct cands cs = {0};
	bool libjvm = false;
	proc_parse_maps(maps, &cs, &libjvm);
	for (size_t i = 0; i < cs.n; i++)
		if (cs.v[i].path[0] != '/' || strncmp(cs.v[i].what, "map_files/", 10) || !cs.v[i].have_id)
			abort();
	proc_cands_free(&cs);
	free(maps);

	check_net(text, "tcp", false, 0x0A);
	check_net(text, "tcp", true, 0x0A);
	check_net(text, "udp", false, 0x07);
	check_net(text, "udp", true, 0x07);

	/* cmdline: the raw bytes, NULs included */
	struct proc_jvm j;
	memset(&j, 0, sizeof j);
	proc_parse_cmdline(&j, text, size, size & 1 ? "/usr/bin/java" : NULL);
	if (!j.command)
		abort();
	for (size_t i = 0; i < j.nmitigations; i++)
		if (!j.mitigations[i] || !memmem(data, size, j.mitigations[i], strlen(j.mitigations[i])))
			abort(); /* a mitigation is one of the arguments */
	free(j.command);
	free_strv(j.mitigations, j.nmitigations);
	free_strv(j.notes, j.nnotes);

	char *id = proc_container_id(text);
	if (id) {
		static const char *const runtimes[] = {"docker-", "containerd-", "crio-", "podman-", "kubepods-", "lxc-"};
		bool known = false;
		for (size_t i = 0; i < sizeof runtimes / sizeof runtimes[0]; i++)
			known |= !strncmp(id, runtimes[i], strlen(runtimes[i]));
		if (!known || strlen(id) <= 4 || strchr(id, '\n') || strchr(id, '/'))
			abort();
		free(id);
	}
	free(text);
	return 0;
}
