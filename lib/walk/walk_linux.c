/* walk_linux.c - the parallel tree walk on Linux (see walk.h).
 *
 * The listing: walk_dir() runs in the calling thread, reads each directory
 * with getdents64 and queues its files (and exploded class directories, OCI
 * image layouts) for the workers of walk_queue.c, which also keeps the
 * roots, --exclude and the --follow-symlinks loop detection.  What is
 * Linux's here: pseudo and network mounts are passed over (mountinfo), and
 * with --cache the walker answers unchanged files itself (cached_here). */
#include "walk/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect/classroot.h"
#include "scan/image.h"
#include "util/longpath.h"
#include "walk/backup_tag.h"
#include "walk/walk_queue.h"

#define DIRBUF_SIZE 32768

struct mount_skip {
	char *path;
	char *reason;
	bool network;
};

struct walker {
	struct walkq q;

	/* getdents64 buffer: one listing is read at a time (sub-directories
	 * are walked after their parent's listing is closed). */
	char *dirbuf, *dirbuf2;  /* a listing's first two getdents64 chunks */

	struct mount_skip *mounts;
	size_t nmounts;

	/* relocated exploded copies: the detector's class names, the package
	 * roots queued already, the org/ subtrees of canonical class roots
	 * being walked (a stack) */
	struct classroots *roots;
	uint64_t *pkgroots;
	size_t nroots;
	char **covered;
	size_t ncovered;
};

/* --cache: a file whose identity matches the cache is answered by the
 * walker itself, with an fstatat relative to the directory it is listing
 * (no path lookup, no queueing): a re-scan of an unchanged tree then costs
 * little more than the walk.  False: queue the file for a worker. */
static bool cached_here(struct walker *w, int dirfd, const char *name, const char *path)
{
	const struct walk_opts *wo = w->q.wo;
	if (!wo->cache || governor_expired(wo->gov))
		return false;
	struct stat st;
	if (fstatat(dirfd, name, &st, wo->follow_symlinks ? 0 : AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return false;
	return walkq_cached(&w->q, path, &st);
}

const char *walk_fs_skip_reason(const char *t)
{
	static const char *pseudo[] = {"proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2",
				       "debugfs", "tracefs", "securityfs", "pstore", "bpf", "configfs",
				       "fusectl", "mqueue", "hugetlbfs", "binfmt_misc", "rpc_pipefs",
				       "nsfs", "autofs", "efivarfs", "selinuxfs"};
	static const char *network[] = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "sshfs",
					"9p", "ceph", "glusterfs", "fuse.glusterfs", "lustre", "afs",
					"davfs", "fuse.s3fs", "gfs2", "ocfs2", "ncpfs", "coda"};
	for (size_t i = 0; i < sizeof pseudo / sizeof pseudo[0]; i++)
		if (!strcmp(t, pseudo[i]))
			return "pseudo filesystem (%s)";
	for (size_t i = 0; i < sizeof network / sizeof network[0]; i++)
		if (!strcmp(t, network[i]))
			return "network filesystem (%s)";
	return NULL;
}

/* /proc/self/mountinfo: field 5 is the mount point (octal-escaped), after
 * " - " come the filesystem type and source. */
static void load_mounts(struct walker *w)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		char *fields[6] = {0};
		char *save, *p = line;
		for (int i = 0; i < 5 && (fields[i] = strtok_r(p, " ", &save)); i++)
			p = NULL;
		char *dash = strstr(save ? save : "", "- ");
		if (!fields[4] || !dash)
			continue;
		char *type = strtok_r(dash + 2, " ", &save);
		if (!type)
			continue;
		const char *why = walk_fs_skip_reason(type);
		if (!why)
			continue;
		/* unescape \040 etc. */
		char *m = fields[4], *o = m;
		for (char *q = m; *q; q++) {
			if (q[0] == '\\' && q[1] >= '0' && q[1] <= '3' && q[2] && q[3]) {
				*o++ = (char)((q[1] - '0') * 64 + (q[2] - '0') * 8 + (q[3] - '0'));
				q += 3;
			} else {
				*o++ = *q;
			}
		}
		*o = 0;
		w->mounts = xrealloc(w->mounts, (w->nmounts + 1) * sizeof *w->mounts);
		w->mounts[w->nmounts].path = xstrdup(m);
		struct buf b = BUF_INIT;
		buf_printf(&b, why, type);
		w->mounts[w->nmounts].reason = buf_detach(&b);
		w->mounts[w->nmounts].network = strstr(why, "network") != NULL;
		w->nmounts++;
	}
	free(line);
	fclose(f);
}

/* Pseudo filesystems (proc, sysfs, ...) never hold an application's jars and
 * are always passed over below a root; network filesystems are passed over
 * in a whole-host scan only (a user who names one gets it scanned). */
static const char *mount_reason(struct walker *w, const char *path)
{
	for (size_t i = 0; i < w->nmounts; i++)
		if (!strcmp(w->mounts[i].path, path) && (!w->mounts[i].network || w->q.wo->whole_host))
			return w->mounts[i].reason;
	return NULL;
}

/* The directory `name` of the directory parent (or the root at path when
 * parent is -1), opened without following a final symlink (unless follow):
 * its descriptor and identity, or -1 when it is not a directory any more
 * (replaced by a file or a link since it was listed), or -2 on an error,
 * with errno set.  Opening relative to the parent is what lets a tree be
 * walked below PATH_MAX: no call is given the full path. */
static int open_dir(int parent, const char *name, const char *path, bool follow, struct stat *st)
{
	int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY | (follow ? 0 : O_NOFOLLOW);
	int fd = parent < 0 ? longpath_open(path, flags) : openat(parent, name, flags);
	if (fd < 0)
		return errno == ENOTDIR || errno == ELOOP || errno == ENOENT ? -1 : -2;
	if (fstat(fd, st) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -2;
	}
	return fd;
}

/* ---- exploded copies under relocated packages (classroot.h)
 *
 * A directory is a class root when it holds org/apache/... (scan_is_class_root);
 * a copy relocated to com/acme/shaded/log4j/... is found from the names
 * the walk lists anyway: a class file the detector asks about
 * (lookup/JndiLookup.class, net/JndiManager.class, Category.class ...) makes
 * its package root a job, once per root, unless a canonical class root
 * above it covers it (its org/ subtree is scanned whole). */

static bool covered(const struct walker *w, const char *root)
{
	for (size_t i = 0; i < w->ncovered; i++)
		if (!strncmp(root, w->covered[i], strlen(w->covered[i])))
			return true;
	return false;
}

static void note_class(struct walker *w, const char *full, size_t len)
{
	bool anchor;
	long rl = classroot_of(w->roots, full, len, &anchor);
	if (rl <= 0 || !anchor)
		return;
	struct buf r = BUF_INIT;
	buf_add(&r, full, (size_t)rl - 1); /* without its trailing '/' */
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < r.len; i++)
		h = (h ^ (unsigned char)r.data[i]) * 1099511628211ULL;
	h = h ? h : 1;
	bool seen = false;
	for (size_t i = 0; i < w->nroots && !seen; i++)
		seen = w->pkgroots[i] == h;
	if (!seen && !covered(w, buf_cstr(&r)) && r.len) {
		w->pkgroots = xrealloc(w->pkgroots, (w->nroots + 1) * sizeof *w->pkgroots);
		w->pkgroots[w->nroots++] = h;
		walkq_push(&w->q, JOB_PKGROOT, buf_detach(&r));
	}
	buf_free(&r);
}

/* Does this getdents64 chunk name `name`? */
static bool listing_names(const char *b, ssize_t got, const char *name)
{
	for (ssize_t off = 0; off < got;) {
		const struct dirent64 *de = (const struct dirent64 *)(b + off);
		off += de->d_reclen;
		if (!strcmp(de->d_name, name))
			return true;
	}
	return false;
}

/* Walks the directory at path (the caller checked it is not a mount to
 * pass over when depth > 0): `name` in the open directory `parent`, or the
 * root itself when parent is -1.  The listing is read with getdents64 into
 * one buffer (no DIR stream: fdopendir costs an fstat and an fcntl per
 * directory) and the file names are queued for the workers; sub-directories
 * are walked after the listing, each opened relative to this one, so open
 * descriptors stay bounded by the depth of one branch. */
static void walk_dir(struct walker *w, struct buf *path, int parent, const char *name, int depth)
{
	struct walkq *q = &w->q;
	const struct walk_opts *wo = q->wo;
	char *self = xstrdup(buf_cstr(path)); /* path is reused below */
	const char *p = self;
	if (depth > 256) {
		walkq_skip(q, p, "directory nesting deeper than 256 levels%s", NULL);
		free(self);
		return;
	}
	/* A root named on the command line is followed if it is a link. */
	struct stat dst;
	int fd = open_dir(parent, name, p, wo->follow_symlinks || depth == 0, &dst);
	if (fd == -1 && depth > 0) {
		free(self);
		return;
	}
	if (fd < 0) {
		walkq_dir_error(q, p, errno);
		free(self);
		return;
	}
	if (!walkq_enter(q, p, &dst)) {
		close(fd);
		free(self);
		return;
	}
	/* A backup tag is looked for (an openat) only when the listing names
	 * one: read first, in one or two chunks; a listing longer than that (or
	 * one that fails) is not searched, the tag is tried as before. */
	char *chunk[2] = {w->dirbuf, w->dirbuf2};
	ssize_t first[2];
	first[0] = getdents64(fd, chunk[0], DIRBUF_SIZE);
	first[1] = first[0] > 0 ? getdents64(fd, chunk[1], DIRBUF_SIZE) : 0;
	if (!wo->scan_backups && (first[0] < 0 || first[1] != 0 || listing_names(chunk[0], first[0], BACKUP_TAG_NAME)) &&
	    backup_tag_at(fd)) {
		walkq_skip(q, p, BACKUP_TAG_SKIP_REASON "%s", NULL);
		close(fd);
		free(self);
		return;
	}
	if (wo->on_dir)
		wo->on_dir(wo->on_dir_ctx, p);
	size_t plen = path->len;
	bool saw_org = false, saw_layout = false;
	char **subdirs = NULL;
	size_t nsub = 0;
	for (int k = 0;; k++) {
		const char *b = chunk[k < 2 ? k : 0];
		ssize_t got = k < 2 ? first[k] : getdents64(fd, chunk[0], DIRBUF_SIZE);
		if (got < 0) {
			walkq_dir_error(q, p, errno);
			break;
		}
		if (got == 0)
			break;
		for (ssize_t off = 0; off < got;) {
			const struct dirent64 *de = (const struct dirent64 *)(b + off);
			off += de->d_reclen;
			const char *n = de->d_name;
			if (n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2])))
				continue;
			if (plen && path->data[plen - 1] != '/')
				buf_addc(path, '/');
			buf_adds(path, n);
			const char *full = buf_cstr(path);
			unsigned char type = de->d_type;
			if (type == DT_UNKNOWN || (type == DT_LNK && wo->follow_symlinks)) {
				struct stat st;
				int r = wo->follow_symlinks ? fstatat(fd, n, &st, 0)
							    : fstatat(fd, n, &st, AT_SYMLINK_NOFOLLOW);
				if (r < 0) {
					/* a dangling link, or a loop of links (ELOOP) */
					if (wo->follow_symlinks && errno != ENOENT)
						walkq_error(q, full, errno);
					type = DT_UNKNOWN;
				}
				else if (S_ISDIR(st.st_mode))
					type = DT_DIR;
				else if (S_ISREG(st.st_mode))
					type = DT_REG;
				else if (S_ISLNK(st.st_mode))
					type = DT_LNK;
				else
					type = DT_FIFO;
			}
			if (!walkq_wanted(q, full, type)) {
				/* excluded, or neither a directory nor a file */
			} else if (type == DT_DIR) {
				if (!strcmp(n, "org"))
					saw_org = true;
				subdirs = xrealloc(subdirs, (nsub + 1) * sizeof *subdirs);
				subdirs[nsub++] = xstrdup(n);
			} else {
				if (!strcmp(n, "oci-layout"))
					saw_layout = true;
				note_class(w, full, path->len);
				if (!cached_here(w, fd, n, full))
					walkq_push(q, JOB_FILE, xstrdup(full));
			}
			path->len = plen;
			path->data[plen] = 0;
		}
	}
	bool root = saw_org && scan_is_class_root(fd);
	if (root) {
		walkq_push(q, JOB_CLASSDIR, xstrdup(p));
		/* its org/ subtree is scanned whole, relocated copies in it too */
		struct buf c = BUF_INIT;
		buf_printf(&c, "%s%sorg/", p, plen && p[plen - 1] == '/' ? "" : "/");
		w->covered = xrealloc(w->covered, (w->ncovered + 1) * sizeof *w->covered);
		w->covered[w->ncovered++] = buf_detach(&c);
	}
	/* An OCI image layout is one job: its layers are read in manifest
	 * order by image.c, and blobs/ is not walked as loose files. */
	if (saw_layout && image_is_layout(fd)) {
		walkq_push(q, JOB_IMAGEDIR, xstrdup(p));
		size_t k = 0;
		for (size_t i = 0; i < nsub; i++) {
			if (!strcmp(subdirs[i], "blobs"))
				free(subdirs[i]);
			else
				subdirs[k++] = subdirs[i];
		}
		nsub = k;
	}
	walkq_flush(q);
	governor_pace(wo->gov);
	for (size_t i = 0; i < nsub; i++) {
		const char *why;
		buf_reset(path);
		buf_printf(path, "%s%s%s", p, plen && p[plen - 1] == '/' ? "" : "/", subdirs[i]);
		if (governor_expired(wo->gov)) {
			walkq_skip(q, buf_cstr(path), "time budget exhausted (--time-budget)%s", NULL);
		} else if ((why = mount_reason(w, buf_cstr(path)))) {
			/* checked before opening: a hung network mount is never touched */
			walkq_skip(q, buf_cstr(path), "%s", why);
		} else {
			walk_dir(w, path, fd, subdirs[i], depth + 1);
		}
		free(subdirs[i]);
	}
	if (root)
		free(w->covered[--w->ncovered]);
	close(fd);
	free(subdirs);
	free(self);
}

static void list_root(void *arg, const char *root)
{
	struct buf p = BUF_INIT;
	buf_adds(&p, root);
	walk_dir(arg, &p, -1, NULL, 0);
	buf_free(&p);
}

int walk_run(const char *const *roots, size_t nroots, const struct walk_opts *wo,
	     const struct rules *r, const struct scan_opts *so, struct scan_stats *st,
	     walk_emit_fn emit, void *ctx, struct walk_result *res)
{
	struct walker *w = xcalloc(1, sizeof *w);
	if (walkq_start(&w->q, wo, r, so, st, emit, ctx, res) < 0) {
		free(w);
		return -1;
	}
	w->dirbuf = xmalloc(DIRBUF_SIZE);
	w->dirbuf2 = xmalloc(DIRBUF_SIZE);
	w->roots = classroots_new(r);
	load_mounts(w);
	for (size_t i = 0; i < nroots; i++)
		walkq_root(&w->q, roots[i], list_root, w);
	walkq_finish(&w->q);
	for (size_t i = 0; i < w->nmounts; i++) {
		free(w->mounts[i].path);
		free(w->mounts[i].reason);
	}
	free(w->mounts);
	free(w->dirbuf);
	free(w->dirbuf2);
	classroots_free(w->roots);
	free(w->pkgroots);
	free(w->covered);
	free(w);
	return 0;
}
