/* fix_holders.c - which processes hold a file that fix replaces, for
 * "restart required" (Linux).  Their fd directories and maps are read
 * through lib/procfs.c, the one audited opener of /proc paths, once per
 * run, into a table sorted by (device, inode).  Windows:
 * lib/win32/fix_holders.c asks the Restart Manager instead. */
#include "fix_internal.h"

#include "procfs.h"

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
 * through lib/procfs.c, the one audited opener of /proc paths. */
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
