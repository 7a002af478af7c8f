/* cli_config.c - configuration file to arguments (see cli_config.h).
 *
 * The file is read whole (at most 1 MiB), split into lines, and each line
 * becomes at most one argument: "--name=value" for an option that takes a
 * value (one argument, so a value starting with '-' is never taken for an
 * option), "--name" for a flag that is on.  The getopt table of the command
 * says which names exist and which take values, so a typo in the file is
 * reported with its line number instead of surfacing as a confusing
 * command-line error. */
#include "cli_config.h"

#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CONF (1 << 20)

static void push(struct cli_config_args *a, char *s, bool owned)
{
	a->argv = xrealloc(a->argv, (size_t)(a->argc + 2) * sizeof *a->argv);
	a->argv[a->argc++] = s;
	a->argv[a->argc] = NULL;
	if (owned) {
		a->owned = xrealloc(a->owned, (a->nowned + 1) * sizeof *a->owned);
		a->owned[a->nowned++] = s;
	}
}

void cli_config_args_free(struct cli_config_args *a)
{
	for (size_t i = 0; i < a->nowned; i++)
		free(a->owned[i]);
	free(a->owned);
	free(a->argv);
	memset(a, 0, sizeof *a);
}

static const struct option *find_long(const struct option *opts, const char *name, size_t n)
{
	for (; opts && opts->name; opts++)
		if (strlen(opts->name) == n && !memcmp(opts->name, name, n))
			return opts;
	return NULL;
}

static int flag_value(const char *v)
{
	static const char *yes[] = {"", "yes", "true", "on", "1"}, *no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (!strcasecmp(v, yes[i]))
			return 1;
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if (!strcasecmp(v, no[i]))
			return 0;
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int cli_config_parse(const char *text, size_t len, const char *name, const struct option *opts,
		     struct cli_config_args *out, struct buf *err)
{
	size_t lineno = 0, pos = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		const char *s = text + pos, *e = text + end;
		pos = end + 1;
		lineno++;
		while (s < e && is_space(*s))
			s++;
		while (e > s && is_space(e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		if (memchr(s, '\0', (size_t)(e - s))) {
			buf_printf(err, "%s:%zu: NUL byte", name, lineno);
			return -1;
		}
		const char *k = s;
		while (s < e && ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			s++;
		size_t klen = (size_t)(s - k);
		if (!klen || (s < e && !is_space(*s) && *s != '=')) {
			buf_printf(err, "%s:%zu: expected 'name = value'", name, lineno);
			return -1;
		}
		while (s < e && is_space(*s))
			s++;
		if (s < e && *s == '=') {
			s++;
			while (s < e && is_space(*s))
				s++;
		}
		if (e - s >= 2 && *s == '"' && e[-1] == '"') {
			s++;
			e--;
		}
		char *key = xstrndup(k, klen), *val = xstrndup(s, (size_t)(e - s));
		const struct option *o = find_long(opts, k, klen);
		int rc = 0;
		if (!o || !strcmp(key, "config") || !strcmp(key, "no-config") || !strcmp(key, "help")) {
			buf_printf(err, "%s:%zu: unknown option '%s'", name, lineno, key);
			rc = -1;
		} else if (o->has_arg == no_argument) {
			int on = flag_value(val);
			if (on < 0) {
				buf_printf(err, "%s:%zu: '%s' is a flag: yes or no, not '%s'", name, lineno, key, val);
				rc = -1;
			} else if (on) {
				struct buf a = BUF_INIT;
				buf_printf(&a, "--%s", key);
				push(out, buf_detach(&a), true);
			}
		} else if (o->has_arg == optional_argument && flag_value(val) >= 0) {
			/* "cache = yes": the option without its value ("cache = no": absent). */
			if (flag_value(val)) {
				struct buf a = BUF_INIT;
				buf_printf(&a, "--%s", key);
				push(out, buf_detach(&a), true);
			}
		} else if (!val[0] && o->has_arg == required_argument) {
			buf_printf(err, "%s:%zu: '%s' needs a value", name, lineno, key);
			rc = -1;
		} else {
			struct buf a = BUF_INIT;
			buf_printf(&a, val[0] ? "--%s=%s" : "--%s", key, val);
			push(out, buf_detach(&a), true);
		}
		free(key);
		free(val);
		if (rc)
			return rc;
	}
	return 0;
}

/* Does argv[i] (a short-option cluster such as "-qo") leave its value in
 * argv[i + 1]? */
static bool short_needs_next(const char *arg, const struct option *opts)
{
	for (const char *p = arg + 1; *p; p++)
		for (const struct option *o = opts; o && o->name; o++)
			if (!o->flag && o->val == (unsigned char)*p && o->has_arg == required_argument)
				return p[1] == '\0'; /* "-oFILE" carries its value */
	return false;
}

int cli_config_args_build(int argc, char **argv, const char *default_path, const struct option *opts,
			  struct cli_config_args *out, struct buf *err)
{
	memset(out, 0, sizeof *out);
	const char *path = default_path;
	bool named = false, none = false;
	/* First pass: find --config / --no-config, skipping option values. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--"))
			break;
		if (!strcmp(a, "--no-config")) {
			none = true;
		} else if (!strcmp(a, "--config") || !strncmp(a, "--config=", 9)) {
			if (a[8] == '=') {
				path = a + 9;
			} else if (i + 1 < argc) {
				path = argv[++i];
			} else {
				buf_printf(err, "--config needs a FILE");
				return -1;
			}
			named = true;
		} else if (a[0] == '-' && a[1] == '-' && !strchr(a, '=')) {
			const struct option *o = find_long(opts, a + 2, strlen(a + 2));
			if (o && o->has_arg == required_argument)
				i++;
		} else if (a[0] == '-' && a[1] && a[1] != '-' && short_needs_next(a, opts)) {
			i++;
		}
	}

	push(out, argv[0], false);
	if (!none && path) {
		FILE *f = fopen(path, "rb");
		if (!f) {
			if (named || errno != ENOENT) {
				buf_printf(err, "cannot read configuration file %s: %s", path, strerror(errno));
				cli_config_args_free(out);
				return -1;
			}
		} else {
			struct buf text = BUF_INIT;
			char chunk[8192];
			size_t n;
			while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && text.len <= MAX_CONF)
				buf_add(&text, chunk, n);
			bool bad = ferror(f);
			fclose(f);
			int rc = 0;
			if (bad) {
				buf_printf(err, "cannot read configuration file %s", path);
				rc = -1;
			} else if (text.len > MAX_CONF) {
				buf_printf(err, "configuration file %s is larger than 1 MiB", path);
				rc = -1;
			} else {
				rc = cli_config_parse(text.data ? text.data : "", text.len, path, opts, out, err);
			}
			buf_free(&text);
			if (rc) {
				cli_config_args_free(out);
				return -1;
			}
		}
	}
	/* Then the command line, without the configuration options. */
	bool rest = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!rest) {
			if (!strcmp(a, "--"))
				rest = true;
			else if (!strcmp(a, "--no-config") || !strncmp(a, "--config=", 9))
				continue;
			else if (!strcmp(a, "--config")) {
				i++;
				continue;
			} else if (a[0] == '-' && a[1] == '-' && !strchr(a, '=')) {
				const struct option *o = find_long(opts, a + 2, strlen(a + 2));
				if (o && o->has_arg == required_argument && i + 1 < argc) {
					push(out, argv[i], false);
					push(out, argv[++i], false);
					continue;
				}
			} else if (a[0] == '-' && a[1] && a[1] != '-' && short_needs_next(a, opts) &&
				   i + 1 < argc) {
				push(out, argv[i], false);
				push(out, argv[++i], false);
				continue;
			}
		}
		push(out, argv[i], false);
	}
	return 0;
}

/* ---- the configuration of one command ---- */

static struct cli_config_args conf_args;
static struct option *conf_union;

static void conf_free(void)
{
	cli_config_args_free(&conf_args);
	free(conf_union);
}

static bool has_option(const struct option *t, const char *name, size_t n)
{
	for (; t && t->name; t++)
		if (strlen(t->name) == n && !strncmp(t->name, name, n))
			return true;
	return false;
}

/* every command's options, each name once */
static struct option *union_of_options(void)
{
	const struct option *tables[] = {scan_options, ps_options, logs_options, fix_options, restore_options,
					 submit_options};
	size_t n = 0;
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
		for (const struct option *o = tables[i]; o->name; o++)
			n++;
	struct option *u = xcalloc(n + 1, sizeof *u);
	size_t k = 0;
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
		for (const struct option *o = tables[i]; o->name; o++)
			if (!has_option(u, o->name, strlen(o->name)))
				u[k++] = *o;
	return u;
}

static const char *agent_conf_path(char *out, size_t n)
{
#ifdef _WIN32
	const char *pd = getenv("ProgramData");
	snprintf(out, n, "%s\\log4scan\\agent.conf", pd && *pd ? pd : "C:\\ProgramData");
#else
	snprintf(out, n, "%s", L4S_AGENT_CONF);
#endif
	return out;
}

int cli_config_command(int *argc, char ***argv, const struct option *mine)
{
	struct buf err = BUF_INIT;
	char path[4096];
	conf_union = union_of_options();
	if (cli_config_args_build(*argc, *argv, agent_conf_path(path, sizeof path), conf_union, &conf_args, &err) < 0) {
		cli_error("%s", buf_cstr(&err));
		buf_free(&err);
		free(conf_union);
		conf_union = NULL;
		return -1;
	}
	buf_free(&err);
	atexit(conf_free);
	/* options from the file that this command does not have are passed over */
	int k = 1;
	for (int i = 1; i < conf_args.argc; i++) {
		const char *a = conf_args.argv[i];
		bool from_file = false;
		for (size_t j = 0; j < conf_args.nowned && !from_file; j++)
			from_file = conf_args.owned[j] == a;
		if (from_file && !has_option(mine, a + 2, strcspn(a + 2, "=")))
			continue;
		conf_args.argv[k++] = conf_args.argv[i];
	}
	conf_args.argv[k] = NULL;
	conf_args.argc = k;
	*argc = conf_args.argc;
	*argv = conf_args.argv;
	return 0;
}
