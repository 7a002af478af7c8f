/* lib/win32/walk.c - walk.h on Windows: the parallel tree walk over
 * FindFirstFileExW / FindNextFileW.
 *
 * Same shape as lib/walk.c: one thread lists directories and queues files
 * into a bounded ring, `threads` workers scan them with the shared scanner
 * and hand each file's records to the emit callback under one lock.  What
 * is Windows-specific:
 *   - listings use FindExInfoBasic (no 8.3 names) with
 *     FIND_FIRST_EX_LARGE_FETCH, one call per directory batch, and the entry
 *     types come from the listing's attributes: no file is opened by the
 *     walker;
 *   - reparse points that are links (symbolic links, junctions, volume
 *     mount points) are not followed unless --follow-symlinks, which
 *     remembers each directory's (volume serial, file index) so a loop is
 *     visited once and reported;
 *   - files whose data is not on the disk (cloud placeholders, HSM:
 *     FILE_ATTRIBUTE_OFFLINE / RECALL_ON_DATA_ACCESS / RECALL_ON_OPEN) are
 *     listed in `skipped`, never read: reading them would download them;
 *   - a whole-host scan (no path given) covers every fixed drive from
 *     GetLogicalDriveStringsW; network, removable and optical drives are
 *     listed in `skipped` with their type (GetDriveTypeW);
 *   - paths are shown as Windows paths ('\' between components; roots given
 *     with '/' are shown with '\'); the \\?\ prefix for long paths is added
 *     by lib/win32/os.c and never shown.
 * The top-level files that hold findings are remembered for the process
 * view (lib/win32/proc.c), which asks the Restart Manager about them. */
#include <windows.h>

#include <pthread.h>
#include <stdatomic.h>

#include "walk.h"
#include "win32/walk_win32.h"

#define QUEUE_CAP 4096

enum job_kind { JOB_FILE, JOB_NAMED, JOB_CLASSDIR, JOB_STOP };

struct job {
	enum job_kind kind;
	char *path;
};

struct walker {
	const struct walk_opts *wo;
	const struct rules *rules;
	const struct scan_opts *so;
	struct scan_stats *st;
	walk_emit_fn emit;
	void *ctx;
	struct walk_result *res;

	pthread_mutex_t qlock, outlock;
	pthread_cond_t qnotempty, qnotfull;
	struct job ring[QUEUE_CAP];
	size_t head, count;
	dev_t root_dev;
	atomic_ullong not_reached;
	struct {
		dev_t dev;
		ino_t ino;
	} *seen;
	size_t nseen, capseen;
};

/* ---- files with findings, for the process view */

static pthread_mutex_t found_lock = PTHREAD_MUTEX_INITIALIZER;
static char **found;
static size_t nfound;
static bool walked;

static void remember_found(const char *path)
{
	size_t n = strcspn(path, "!");
	while (path[n] && path[n + 1] != '/')
		n += 1 + strcspn(path + n + 1, "!");
	pthread_mutex_lock(&found_lock);
	if (!nfound || strncmp(found[nfound - 1], path, n) || found[nfound - 1][n]) {
		found = xrealloc(found, (nfound + 1) * sizeof *found);
		found[nfound++] = xstrndup(path, n);
	}
	pthread_mutex_unlock(&found_lock);
}

bool walk_win32_found(char ***paths, size_t *n)
{
	pthread_mutex_lock(&found_lock);
	*paths = found;
	*n = nfound;
	bool w = walked;
	pthread_mutex_unlock(&found_lock);
	return w;
}

/* ---- queue */

static void push(struct walker *w, enum job_kind k, char *path)
{
	pthread_mutex_lock(&w->qlock);
	while (w->count == QUEUE_CAP)
		pthread_cond_wait(&w->qnotfull, &w->qlock);
	w->ring[(w->head + w->count) % QUEUE_CAP] = (struct job){k, path};
	w->count++;
	pthread_cond_signal(&w->qnotempty);
	pthread_mutex_unlock(&w->qlock);
}

static struct job pop(struct walker *w)
{
	pthread_mutex_lock(&w->qlock);
	while (w->count == 0)
		pthread_cond_wait(&w->qnotempty, &w->qlock);
	struct job j = w->ring[w->head];
	w->head = (w->head + 1) % QUEUE_CAP;
	w->count--;
	pthread_cond_signal(&w->qnotfull);
	pthread_mutex_unlock(&w->qlock);
	return j;
}

static void deliver(struct walker *w, struct scan_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->rec[i].kind == REC_FINDING)
			remember_found(b->rec[i].f.path);
	pthread_mutex_lock(&w->outlock);
	w->emit(w->ctx, b);
	pthread_mutex_unlock(&w->outlock);
	batch_free(b);
}

static void count_cached(struct walker *w, const struct stat *st, const struct scan_batch *b)
{
	atomic_fetch_add(&w->st->files, 1);
	atomic_fetch_add(&w->st->bytes, (unsigned long long)st->st_size);
	for (size_t i = 0; i < b->n; i++) {
		if (b->rec[i].kind == REC_FINDING)
			atomic_fetch_add(&w->st->findings[b->rec[i].f.status], 1);
		else
			atomic_fetch_add(&w->st->errors, 1);
	}
}

static void scan_file_job(struct walker *w, struct scanner *s, const char *path, struct scan_batch *b)
{
	struct cache *c = w->wo->cache;
	struct stat st;
	bool follow = w->wo->follow_symlinks;
	if (c && stat(path, &st) == 0 && S_ISREG(st.st_mode) && cache_lookup(c, w->rules, path, &st, b)) {
		count_cached(w, &st, b);
		return;
	}
	if (scan_regular(s, path, follow, &st, b) && c)
		cache_store(c, path, &st, b);
}

static void *worker(void *arg)
{
	struct walker *w = arg;
	struct scanner *s = scanner_new(w->rules, w->so, w->st);
	for (;;) {
		struct job j = pop(w);
		if (j.kind == JOB_STOP)
			break;
		if (governor_expired(w->wo->gov)) {
			atomic_fetch_add(&w->not_reached, 1);
			free(j.path);
			continue;
		}
		struct scan_batch b = {0};
		if (!s)
			batch_add_error(&b, j.path, "out of memory for a decompressor");
		else if (j.kind == JOB_FILE)
			scan_file_job(w, s, j.path, &b);
		else if (j.kind == JOB_NAMED)
			scan_path(s, j.path, true, &b);
		else
			scan_class_dir(s, j.path, &b);
		if (b.n)
			deliver(w, &b);
		free(j.path);
		governor_pace(w->wo->gov);
	}
	scanner_free(s);
	return NULL;
}

static void add_skipped(struct walker *w, const char *path, const char *fmt, const char *arg)
{
	struct walk_result *r = w->res;
	r->skipped = xrealloc(r->skipped, (r->nskipped + 1) * sizeof *r->skipped);
	r->skipped[r->nskipped].path = xstrdup(path);
	struct buf b = BUF_INIT;
	buf_printf(&b, fmt, arg ? arg : "");
	r->skipped[r->nskipped].reason = buf_detach(&b);
	r->nskipped++;
}

/* walk.h's filesystem-type table is Linux's; Windows reports drive types. */
const char *fs_skip_reason(const char *fstype)
{
	(void)fstype;
	return NULL;
}

const char *drive_skip_reason(unsigned type)
{
	switch (type) {
	case DRIVE_FIXED:
	case DRIVE_RAMDISK:
		return NULL;
	case DRIVE_REMOTE:
		return "network drive";
	case DRIVE_REMOVABLE:
		return "removable drive";
	case DRIVE_CDROM:
		return "optical drive";
	case DRIVE_NO_ROOT_DIR:
		return "no volume mounted";
	default:
		return "drive of unknown type";
	}
}

static bool excluded(struct walker *w, const char *path)
{
	for (size_t i = 0; i < w->wo->nexcludes; i++)
		if (fnmatch(w->wo->excludes[i], path, 0) == 0)
			return true;
	return false;
}

static bool seen_before(struct walker *w, const struct stat *st)
{
	for (size_t i = 0; i < w->nseen; i++)
		if (w->seen[i].dev == st->st_dev && w->seen[i].ino == st->st_ino)
			return true;
	if (w->nseen == w->capseen) {
		w->capseen = w->capseen ? w->capseen * 2 : 256;
		w->seen = xrealloc(w->seen, w->capseen * sizeof *w->seen);
	}
	w->seen[w->nseen].dev = st->st_dev;
	w->seen[w->nseen].ino = st->st_ino;
	w->nseen++;
	return false;
}

static bool is_link(DWORD attrs, DWORD tag)
{
	return (attrs & FILE_ATTRIBUTE_REPARSE_POINT) &&
	       (tag == IO_REPARSE_TAG_SYMLINK || tag == IO_REPARSE_TAG_MOUNT_POINT);
}

#ifndef FILE_ATTRIBUTE_RECALL_ON_OPEN
#define FILE_ATTRIBUTE_RECALL_ON_OPEN 0x00040000
#endif
#ifndef FILE_ATTRIBUTE_RECALL_ON_DATA_ACCESS
#define FILE_ATTRIBUTE_RECALL_ON_DATA_ACCESS 0x00400000
#endif

static void dir_error(struct walker *w, const char *p, int e)
{
	add_skipped(w, p, "cannot read directory: %s", strerror(e));
	atomic_fetch_add(&w->st->errors, 1);
	struct scan_batch b = {0};
	batch_add_error(&b, p, "cannot read directory: %s", strerror(e));
	deliver(w, &b);
}

static void join(struct buf *b, const char *dir, const char *name)
{
	buf_reset(b);
	buf_adds(b, dir);
	if (b->len && b->data[b->len - 1] != '\\' && b->data[b->len - 1] != '/')
		buf_addc(b, '\\');
	buf_adds(b, name);
}

static void walk_dir(struct walker *w, const char *p, int depth)
{
	struct stat dst;
	bool need_id = w->wo->follow_symlinks || w->wo->one_file_system;
	if (need_id && stat(p, &dst) < 0) {
		dir_error(w, p, errno);
		return;
	}
	if (w->wo->one_file_system && dst.st_dev != w->root_dev) {
		add_skipped(w, p, "other filesystem (--one-file-system)%s", NULL);
		return;
	}
	if (w->wo->follow_symlinks && seen_before(w, &dst)) {
		add_skipped(w, p, "already visited (symlink loop or repeated link)%s", NULL);
		return;
	}
	if (depth > 256) {
		add_skipped(w, p, "directory nesting deeper than 256 levels%s", NULL);
		return;
	}
	wchar_t *wp = l4s_wpath(p);
	if (!wp) {
		dir_error(w, p, errno);
		return;
	}
	size_t wl = wcslen(wp);
	wchar_t *pat = xmalloc((wl + 3) * sizeof *pat);
	memcpy(pat, wp, wl * sizeof *pat);
	if (wl && pat[wl - 1] != L'\\')
		pat[wl++] = L'\\';
	pat[wl++] = L'*';
	pat[wl] = 0;
	free(wp);
	WIN32_FIND_DATAW fd;
	HANDLE h = FindFirstFileExW(pat, FindExInfoBasic, &fd, FindExSearchNameMatch, NULL,
				    FIND_FIRST_EX_LARGE_FETCH);
	free(pat);
	if (h == INVALID_HANDLE_VALUE) {
		DWORD e = GetLastError();
		if (e != ERROR_FILE_NOT_FOUND) /* an empty drive root */
			dir_error(w, p, e == ERROR_DIRECTORY ? ENOTDIR : l4s_errno_from_win32(e));
		return;
	}
	if (w->wo->on_dir)
		w->wo->on_dir(w->wo->on_dir_ctx, p);
	bool saw_org = false;
	char **subdirs = NULL;
	size_t nsub = 0;
	struct buf full = BUF_INIT;
	char name[1024];
	do {
		const wchar_t *n = fd.cFileName;
		if (n[0] == L'.' && (!n[1] || (n[1] == L'.' && !n[2])))
			continue;
		if (!WideCharToMultiByte(CP_UTF8, 0, n, -1, name, sizeof name, NULL, NULL))
			continue;
		join(&full, p, name);
		const char *fp = buf_cstr(&full);
		DWORD a = fd.dwFileAttributes;
		unsigned char type = a & FILE_ATTRIBUTE_DIRECTORY ? DT_DIR : a & FILE_ATTRIBUTE_DEVICE ? DT_CHR : DT_REG;
		if (is_link(a, fd.dwReserved0)) {
			type = DT_LNK;
			if (w->wo->follow_symlinks) {
				struct stat st;
				if (stat(fp, &st) < 0) {
					if (errno != ENOENT) {
						atomic_fetch_add(&w->st->errors, 1);
						struct scan_batch eb = {0};
						batch_add_error(&eb, fp, "%s", strerror(errno));
						deliver(w, &eb);
					}
					type = DT_UNKNOWN;
				} else {
					type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_CHR;
				}
			}
		}
		if (excluded(w, fp)) {
			if (type == DT_DIR)
				add_skipped(w, fp, "excluded by the user%s", NULL);
		} else if (type == DT_DIR) {
			if (!strcmp(name, "org"))
				saw_org = true;
			subdirs = xrealloc(subdirs, (nsub + 1) * sizeof *subdirs);
			subdirs[nsub++] = xstrdup(fp);
		} else if (type == DT_REG) {
			if (a & (FILE_ATTRIBUTE_OFFLINE | FILE_ATTRIBUTE_RECALL_ON_OPEN |
				 FILE_ATTRIBUTE_RECALL_ON_DATA_ACCESS))
				add_skipped(w, fp, "file data not on this disk (cloud or offline placeholder): "
						   "not read, reading would fetch it%s", NULL);
			else
				push(w, JOB_FILE, xstrdup(fp));
		} else if (type == DT_LNK) {
			w->res->symlinks++;
		} else if (type != DT_UNKNOWN) {
			w->res->not_regular++;
		}
	} while (FindNextFileW(h, &fd));
	FindClose(h);
	buf_free(&full);
	if (saw_org) {
		int dfd = open(p, O_RDONLY | O_DIRECTORY);
		if (dfd >= 0) {
			if (is_class_root(dfd))
				push(w, JOB_CLASSDIR, xstrdup(p));
			close(dfd);
		}
	}
	governor_pace(w->wo->gov);
	for (size_t i = 0; i < nsub; i++) {
		if (governor_expired(w->wo->gov))
			add_skipped(w, subdirs[i], "time budget exhausted (--time-budget)%s", NULL);
		else
			walk_dir(w, subdirs[i], depth + 1);
		free(subdirs[i]);
	}
	free(subdirs);
}

/* A root as the user wrote it, with '\' for '/' ("D:" alone means the
 * drive's root here, not its current directory). */
static char *norm_root(const char *r)
{
	char *s = xstrdup(r);
	for (char *p = s; *p; p++)
		if (*p == '/')
			*p = '\\';
	if (((s[0] | 32) >= 'a' && (s[0] | 32) <= 'z') && s[1] == ':' && !s[2]) {
		char *t = xmalloc(4);
		snprintf(t, 4, "%c:\\", s[0]);
		free(s);
		return t;
	}
	return s;
}

static void walk_root(struct walker *w, const char *root)
{
	struct stat sb;
	if (stat(root, &sb) < 0) {
		w->res->roots_failed++;
		atomic_fetch_add(&w->st->errors, 1);
		struct scan_batch b = {0};
		batch_add_error(&b, root, "%s", strerror(errno));
		deliver(w, &b);
		return;
	}
	w->root_dev = sb.st_dev;
	if (S_ISDIR(sb.st_mode) || S_ISREG(sb.st_mode)) {
		int probe = open(root, O_RDONLY | (S_ISDIR(sb.st_mode) ? O_DIRECTORY : 0));
		if (probe < 0)
			w->res->roots_failed++;
		else
			close(probe);
	}
	if (S_ISDIR(sb.st_mode)) {
		w->nseen = 0;
		walk_dir(w, root, 0);
	} else {
		push(w, JOB_NAMED, xstrdup(root));
	}
}

int walk_run(const char *const *roots, size_t nroots, const struct walk_opts *wo,
	     const struct rules *r, const struct scan_opts *so, struct scan_stats *st,
	     walk_emit_fn emit, void *ctx, struct walk_result *res)
{
	memset(res, 0, sizeof *res);
	struct walker *w = xcalloc(1, sizeof *w);
	w->wo = wo;
	w->rules = r;
	w->so = so;
	w->st = st;
	w->emit = emit;
	w->ctx = ctx;
	w->res = res;
	pthread_mutex_init(&w->qlock, NULL);
	pthread_mutex_init(&w->outlock, NULL);
	pthread_cond_init(&w->qnotempty, NULL);
	pthread_cond_init(&w->qnotfull, NULL);
	pthread_mutex_lock(&found_lock);
	walked = true;
	pthread_mutex_unlock(&found_lock);

	int nt = wo->threads > 0 ? wo->threads : 1;
	pthread_t *tids = xcalloc((size_t)nt, sizeof *tids);
	int started = 0;
	for (int i = 0; i < nt; i++)
		if (pthread_create(&tids[started], NULL, worker, w) == 0)
			started++;
	if (!started) {
		free(tids);
		free(w);
		return -1;
	}

	if (wo->whole_host) {
		/* Every fixed drive; the others are listed with their type. */
		wchar_t drives[512];
		DWORD n = GetLogicalDriveStringsW(512, drives);
		size_t ndrives = 0;
		for (wchar_t *d = drives; n && n < 512 && *d; d += wcslen(d) + 1) {
			char *root = l4s_utf8(d);
			const char *why = drive_skip_reason(GetDriveTypeW(d));
			if (why)
				add_skipped(w, root, why, NULL);
			else if (excluded(w, root))
				add_skipped(w, root, "excluded by the user%s", NULL);
			else {
				walk_root(w, root);
				ndrives++;
			}
			free(root);
		}
		if (!ndrives)
			res->roots_failed = nroots ? nroots : 1;
	} else {
		for (size_t i = 0; i < nroots; i++) {
			char *root = norm_root(roots[i]);
			walk_root(w, root);
			free(root);
		}
	}
	for (int i = 0; i < started; i++)
		push(w, JOB_STOP, NULL);
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	res->not_reached = atomic_load(&w->not_reached);
	free(tids);
	free(w->seen);
	pthread_mutex_destroy(&w->qlock);
	pthread_mutex_destroy(&w->outlock);
	pthread_cond_destroy(&w->qnotempty);
	pthread_cond_destroy(&w->qnotfull);
	free(w);
	return 0;
}

void walk_result_free(struct walk_result *res)
{
	for (size_t i = 0; i < res->nskipped; i++) {
		free(res->skipped[i].path);
		free(res->skipped[i].reason);
	}
	free(res->skipped);
	memset(res, 0, sizeof *res);
}
