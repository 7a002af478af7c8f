/* fix_holders_linux.c - which processes hold a file that fix replaces, for
 * "restart required" (Linux).  Their fd directories and maps are read
 * through lib/proc/procfs_linux.c, the one audited opener of /proc paths, once per
 * run, into a table sorted by (device, inode).  Windows:
 * lib/fix/fix_holders_win32.c asks the Restart Manager instead. */
#include "fix/fix_internal.h"

#include "proc/procfs.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int holder_cmp(const void *a, const void *b)
{
	const struct fix_holder *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void add_holder(struct fixer *fx, dev_t dev, ino_t ino, long pid, size_t *cap)
{
	if (fx->nholders == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		fx->holders = xrealloc(fx->holders, *cap * sizeof *fx->holders);
	}
	fx->holders[fx->nholders++] = (struct fix_holder){dev, ino, pid};
}

/* Which processes hold which files: their fd directories and maps, read
 * through lib/proc/procfs_linux.c, the one audited opener of /proc paths. */
static void read_holders(struct fixer *fx)
{
	fx->holders_read = true;
	long *pids = NULL;
	long n = procfs_list_pids(&pids);
	size_t cap = 0;
	long self = (long)getpid();
	for (long i = 0; i < n; i++) {
		long pid = pids[i];
		if (pid == self)
			continue;
		DIR *fd = procfs_opendir(pid, "fd");
		if (fd) {
			struct dirent *f;
			struct stat st;
			while ((f = readdir(fd)))
				if (f->d_name[0] != '.' && fstatat(dirfd(fd), f->d_name, &st, 0) == 0 &&
				    S_ISREG(st.st_mode))
					add_holder(fx, st.st_dev, st.st_ino, pid, &cap);
			closedir(fd);
		}
		char *maps = NULL;
		if (procfs_read(pid, "maps", 16u << 20, &maps) > 0) {
			for (char *line = maps; line && *line;) {
				char *nl = strchr(line, '\n');
				if (nl)
					*nl = 0;
				unsigned maj, min;
				unsigned long long ino;
				if (sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min, &ino) == 3 && ino)
					add_holder(fx, makedev(maj, min), (ino_t)ino, pid, &cap);
				line = nl ? nl + 1 : NULL;
			}
		}
		free(maps);
	}
	free(pids);
	if (fx->nholders)
		qsort(fx->holders, fx->nholders, sizeof *fx->holders, holder_cmp);
}

void fix_holders_of(struct fixer *fx, const struct stat *st, const char *path, struct fix_result *res,
		    struct buf *who)
{
	if (!fx->holders_read)
		read_holders(fx);
	for (size_t i = 0; i < fx->nholders; i++) {
		const struct fix_holder *h = &fx->holders[i];
		if (h->dev != st->st_dev || h->ino != st->st_ino)
			continue;
		if (res->npids && res->pids[res->npids - 1] == h->pid)
			continue;
		res->pids = xrealloc(res->pids, (res->npids + 1) * sizeof *res->pids);
		res->pids[res->npids++] = h->pid;
	}
}

/* ---- exploded class directories
 *
 * A JVM keeps no class file of a directory open: it reads each one and
 * closes it.  So a JVM is counted as holding a class directory D when
 *   - its command line names D as a class path element (-cp D, -cp a:D:b,
 *     -Djava.class.path=D), or
 *   - it has a file open or mapped below the application that D belongs to
 *     (for D = APP/WEB-INF/classes that is APP, whose WEB-INF/lib jars a
 *     servlet container keeps open; otherwise D itself), or
 *   - its working directory is at or below that application.
 * A JVM is a process that maps libjvm.so.  One that loaded the classes some
 * other way (a custom class loader pointed at D from its configuration) is
 * not seen; paths are compared as the host sees them, so a JVM in a
 * container whose root differs is not matched. */

static bool path_below(const char *path, const char *dir)
{
	size_t l = strlen(dir);
	while (l > 1 && dir[l - 1] == '/')
		l--;
	return !strncmp(path, dir, l) && (path[l] == 0 || path[l] == '/');
}

static void jvm_add_file(struct fix_jvm *j, const char *path)
{
	j->files = xrealloc(j->files, (j->nfiles + 1) * sizeof *j->files);
	j->files[j->nfiles++] = xstrdup(path);
}

/* The JVM's mapped files (from maps), or false when it maps no libjvm.so. */
static bool jvm_maps(long pid, struct fix_jvm *j)
{
	char *maps = NULL;
	bool jvm = false;
	if (procfs_read(pid, "maps", 16u << 20, &maps) > 0) {
		for (char *line = maps; line && *line;) {
			char *nl = strchr(line, '\n');
			if (nl)
				*nl = 0;
			char *path = strchr(line, '/');
			if (path) {
				const char *b = strrchr(path, '/') + 1;
				jvm |= !strcmp(b, "libjvm.so");
				if (!j->nfiles || strcmp(j->files[j->nfiles - 1], path))
					jvm_add_file(j, path);
			}
			line = nl ? nl + 1 : NULL;
		}
	}
	free(maps);
	return jvm;
}

static void read_jvms(struct fixer *fx)
{
	fx->jvms_read = true;
	long *pids = NULL;
	long n = procfs_list_pids(&pids);
	long self = (long)getpid();
	for (long i = 0; i < n; i++) {
		struct fix_jvm j = {.pid = pids[i]};
		if (j.pid == self || !jvm_maps(j.pid, &j)) {
			for (size_t k = 0; k < j.nfiles; k++)
				free(j.files[k]);
			free(j.files);
			continue;
		}
		char link[4096];
		if (procfs_readlink(j.pid, "cwd", link, sizeof link) > 0)
			j.cwd = xstrdup(link);
		long cl = procfs_read(j.pid, "cmdline", 1u << 20, &j.cmdline);
		j.cmdlen = cl > 0 ? (size_t)cl : 0;
		DIR *fd = procfs_opendir(j.pid, "fd");
		if (fd) {
			struct dirent *f;
			while ((f = readdir(fd))) {
				char what[300];
				snprintf(what, sizeof what, "fd/%s", f->d_name);
				if (f->d_name[0] != '.' && procfs_readlink(j.pid, what, link, sizeof link) > 0 &&
				    link[0] == '/')
					jvm_add_file(&j, link);
			}
			closedir(fd);
		}
		fx->jvms = xrealloc(fx->jvms, (fx->njvms + 1) * sizeof *fx->jvms);
		fx->jvms[fx->njvms++] = j;
	}
	free(pids);
}

/* Does one class path element (relative ones against the JVM's cwd) name dir? */
static bool cp_element_is(const char *el, size_t len, const char *cwd, const char *dir)
{
	while (len > 1 && el[len - 1] == '/')
		len--;
	struct buf b = BUF_INIT;
	if (el[0] != '/' && cwd)
		buf_printf(&b, "%s/", cwd);
	buf_add(&b, el, len);
	size_t dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	bool is = b.len == dl && !memcmp(b.data, dir, dl);
	buf_free(&b);
	return is;
}

static bool cmdline_names(const struct fix_jvm *j, const char *dir)
{
	for (size_t at = 0; at < j->cmdlen;) {
		const char *arg = j->cmdline + at;
		size_t al = strnlen(arg, j->cmdlen - at);
		const char *eq = arg[0] == '-' ? memchr(arg, '=', al) : NULL;
		const char *v = eq ? eq + 1 : arg, *end = arg + al;
		for (const char *s = v; s <= end;) {
			const char *c = memchr(s, ':', (size_t)(end - s));
			if (!c)
				c = end;
			if (c > s && cp_element_is(s, (size_t)(c - s), j->cwd, dir))
				return true;
			s = c + 1;
		}
		at += al + 1;
	}
	return false;
}

void fix_holders_of_dir(struct fixer *fx, const char *dir, struct fix_result *res)
{
	if (!fx->jvms_read)
		read_jvms(fx);
	/* the application: APP for APP/WEB-INF/classes, else dir itself */
	struct buf app = BUF_INIT;
	buf_adds(&app, dir);
	while (app.len > 1 && app.data[app.len - 1] == '/')
		app.data[--app.len] = 0;
	static const char webinf[] = "/WEB-INF/classes";
	if (app.len > sizeof webinf && !strcmp(app.data + app.len - (sizeof webinf - 1), webinf))
		app.data[app.len -= sizeof webinf - 1] = 0;
	for (size_t i = 0; i < fx->njvms; i++) {
		const struct fix_jvm *j = &fx->jvms[i];
		bool holds = cmdline_names(j, dir) || (j->cwd && path_below(j->cwd, app.data));
		for (size_t k = 0; k < j->nfiles && !holds; k++)
			holds = path_below(j->files[k], app.data);
		if (holds) {
			res->pids = xrealloc(res->pids, (res->npids + 1) * sizeof *res->pids);
			res->pids[res->npids++] = j->pid;
		}
	}
	buf_free(&app);
}
