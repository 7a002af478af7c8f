/* proc_cmdline_linux.c - what a JVM's command line, environment and
 * cgroup say (design in proc.h): the main class or jar, the Log4j
 * properties and agents that mitigate (formatMsgNoLookups, the JNDI
 * switches...), LOG4J_* variables with --read-environ, the container id
 * and the user.  Pure parsing of the texts proc_linux.c read from /proc,
 * but for the environment, read here through procfs.h. */
#include "proc/proc.h"
#include "proc/proc_internal.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include "proc/procfs.h"

/* ---- command line, mitigations, identity ----------------------------- */

/* Log4j matches property names by their tokens, ignoring a log4j/log4j2
 * prefix, case and separators: log4j2.formatMsgNoLookups,
 * log4j.format.msg.no.lookups and LOG4J_FORMAT_MSG_NO_LOOKUPS are one. */
static void prop_norm(const char *key, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	if (n >= 5 && !strncasecmp(key, "log4j", 5)) {
		key += 5;
		n -= 5;
		if (n && *key == '2') {
			key++;
			n--;
		}
	}
	for (size_t i = 0; i < n && k + 1 < cap; i++)
		if (isalnum((unsigned char)key[i]))
			out[k++] = (char)tolower((unsigned char)key[i]);
	out[k] = 0;
}

static void check_property(struct proc_jvm *j, const char *arg, const char *kv, const char *where)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
	const char *val = eq ? eq + 1 : "";
	if (klen < 5 || strncasecmp(kv, "log4j", 5))
		return;
	char norm[128];
	prop_norm(kv, klen, norm, sizeof norm);
	bool t = !strcasecmp(val, "true"), f = !strcasecmp(val, "false");
	if (!strcmp(norm, "formatmsgnolookups") && t) {
		strv_add(&j->mitigations, &j->nmitigations, arg);
		proc_note(j, "%s%s is not sufficient: it does not stop CVE-2021-45046 (lookups through "
			"Thread Context Map patterns) and Log4j before 2.10.0 ignores it",
		     arg, where);
	} else if (!strncmp(norm, "enablejndi", 10) && f) {
		strv_add(&j->mitigations, &j->nmitigations, arg);
		proc_note(j, "%s%s only exists in Log4j 2.16.0/2.12.2 and later, which disable JNDI by default; "
			"earlier versions ignore it",
		     arg, where);
	} else if (!strncmp(norm, "enablejndi", 10) && t) {
		proc_note(j, "%s%s re-enables JNDI in Log4j", arg, where);
	}
}

static void check_arg(struct proc_jvm *j, const char *a, const char *where)
{
	if (!strncmp(a, "-D", 2)) {
		check_property(j, a, a + 2, where);
	} else if (!strncmp(a, "-javaagent:", 11)) {
		char low[256];
		size_t i = 0;
		for (const char *p = proc_base_name(a + 11); *p && i + 1 < sizeof low; p++)
			low[i++] = (char)tolower((unsigned char)*p);
		low[i] = 0;
		if (strstr(low, "jndi-be-gone") || strstr(low, "log4jhotpatch") ||
		    strstr(low, "log4j-jndi")) {
			strv_add(&j->mitigations, &j->nmitigations, a);
			proc_note(j, "%s%s looks like a Log4Shell hot-patch agent; log4scan cannot verify what it patched",
			     a, where);
		}
	}
}

/* Options of the java launcher that take the next argument. */
static bool takes_arg(const char *a)
{
	static const char *const o[] = {"-cp", "-classpath", "--class-path", "-p", "--module-path",
					"--upgrade-module-path", "--add-modules", "--limit-modules",
					"--add-reads", "--add-exports", "--add-opens", "--patch-module",
					"--source", "-d", "--describe-module", "--enable-native-access", NULL};
	for (size_t i = 0; o[i]; i++)
		if (!strcmp(a, o[i]))
			return true;
	return false;
}

void proc_parse_cmdline(struct proc_jvm *j, const char *cl, size_t len, const char *exe)
{
	const char **argv = NULL;
	size_t argc = 0;
	for (size_t at = 0; at < len;) {
		argv = xrealloc(argv, (argc + 1) * sizeof *argv);
		argv[argc++] = cl + at;
		at += strlen(cl + at) + 1;
	}
	struct buf cmd = BUF_INIT;
	bool argfile = false;
	for (size_t i = 1; i < argc; i++) {
		const char *a = argv[i];
		check_arg(j, a, "");
		if (cmd.len)
			continue;
		if (!strcmp(a, "-jar") || !strcmp(a, "-m") || !strcmp(a, "--module")) {
			if (i + 1 < argc) {
				if (!strcmp(a, "-jar"))
					buf_printf(&cmd, "-jar %s", argv[i + 1]);
				else
					buf_adds(&cmd, argv[i + 1]);
				i++;
			}
			continue;
		}
		if (!strncmp(a, "--module=", 9)) {
			buf_adds(&cmd, a + 9);
			continue;
		}
		if (a[0] == '@') {
			argfile = true;
			continue;
		}
		if (a[0] == '-') {
			if (takes_arg(a))
				i++;
			continue;
		}
		buf_adds(&cmd, a); /* the main class; what follows are its arguments */
	}
	if (argfile)
		proc_note(j, "arguments in @argfiles on the command line were not examined");
	if (!cmd.len)
		buf_adds(&cmd, argc ? argv[0] : (exe ? exe : "?"));
	j->command = buf_detach(&cmd);
	free(argv);
}

/* Environment (opt-in): only LOG4J_* and the JVM option variables are
 * looked at; the buffer is wiped before it is freed. */
void proc_check_environ(struct proc_jvm *j)
{
	char *env;
	long n = procfs_read(j->pid, "environ", PROC_TEXT_MAX, &env);
	if (n < 0) {
		proc_note(j, "environment not read: %s", strerror(errno));
		return;
	}
	for (long at = 0; at < n;) {
		const char *v = env + at;
		at += (long)strlen(v) + 1;
		if (!strncmp(v, "LOG4J", 5)) {
			char arg[256];
			snprintf(arg, sizeof arg, "%s", v);
			char *eq = strchr(arg, '=');
			if (eq && eq - arg < 128)
				check_property(j, arg, arg, " (environment)");
		} else if (!strncmp(v, "JAVA_TOOL_OPTIONS=", 18) || !strncmp(v, "JDK_JAVA_OPTIONS=", 17) ||
			   !strncmp(v, "_JAVA_OPTIONS=", 14)) {
			char *copy = xstrdup(strchr(v, '=') + 1), *save = NULL;
			for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
				check_arg(j, t, " (JVM options in the environment)");
			explicit_bzero(copy, strlen(copy));
			free(copy);
		}
	}
	explicit_bzero(env, (size_t)n);
	free(env);
}

static bool hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* docker-<id>.scope, /docker/<id>, cri-containerd-<id>, crio-<id>,
 * libpod-<id>, /kubepods/.../<id>, /lxc/<name>, lxc.payload.<name> */
char *proc_container_id(const char *cg)
{
	static const struct {
		const char *mark, *name;
	} rt[] = {{"docker-", "docker"},  {"/docker/", "docker"}, {"cri-containerd-", "containerd"},
		  {"crio-", "crio"},      {"libpod-", "podman"},  {"/kubepods", "kubepods"},
		  {"/containerd/", "containerd"}};
	for (size_t i = 0; i < sizeof rt / sizeof rt[0]; i++) {
		const char *p = strstr(cg, rt[i].mark);
		if (!p)
			continue;
		/* the first 64-hex run at or after the mark */
		for (const char *q = p; *q && *q != '\n'; q++) {
			if (hex_run(q, 64) && (q == cg || !isxdigit((unsigned char)q[-1]))) {
				char *out = xmalloc(strlen(rt[i].name) + 14);
				sprintf(out, "%s-%.12s", rt[i].name, q);
				return out;
			}
		}
	}
	const char *p = strstr(cg, "/lxc/");
	size_t skip = 5;
	if (!p) {
		p = strstr(cg, "lxc.payload.");
		skip = 12;
	}
	if (p) {
		p += skip;
		size_t n = strcspn(p, "/\n");
		if (n) {
			struct buf b = BUF_INIT;
			buf_adds(&b, "lxc-");
			buf_add(&b, p, n);
			return buf_detach(&b);
		}
	}
	return NULL;
}

void proc_set_user(struct proc_jvm *j, long uid)
{
	struct passwd pw, *res = NULL;
	char tmp[4096];
	if (uid >= 0 && getpwuid_r((uid_t)uid, &pw, tmp, sizeof tmp, &res) == 0 && res)
		j->user = xstrdup(res->pw_name);
	else {
		char n[32];
		snprintf(n, sizeof n, "%ld", uid);
		j->user = xstrdup(n);
	}
}
