/* walk_win32.c - walk.h on Windows: the parallel tree walk over
 * FindFirstFileExW / FindNextFileW.
 *
 * The listing only: the queue, the workers, the roots, --exclude and the
 * --follow-symlinks loop detection are lib/walk/walk_queue.c's, as on Linux.
 * What is Windows-specific:
 *   - listings use FindExInfoBasic (no 8.3 names) with
 *     FIND_FIRST_EX_LARGE_FETCH, one call per directory batch, and the entry
 *     types come from the listing's attributes: no file is opened by the
 *     walker;
 *   - reparse points that are links (symbolic links, junctions, volume
 *     mount points) are not followed unless --follow-symlinks (a directory's
 *     identity is its volume serial and file index);
 *   - files whose data is not on the disk (cloud placeholders, HSM:
 *     FILE_ATTRIBUTE_OFFLINE / RECALL_ON_DATA_ACCESS / RECALL_ON_OPEN) are
 *     listed in `skipped`, never read: reading them would download them;
 *   - the lister does not stat what it lists, so with --cache the workers
 *     look files up (JOB_FILE_LOOKUP);
 *   - a whole-host scan (no path given) covers every fixed drive from
 *     GetLogicalDriveStringsW; network, removable and optical drives are
 *     listed in `skipped` with their type (GetDriveTypeW);
 *   - paths are shown as Windows paths ('\' between components; roots given
 *     with '/' are shown with '\'); the \\?\ prefix for long paths is added
 *     by lib/win32/os.c and never shown.
 * The top-level files that hold findings are remembered for the process
 * view (lib/proc/proc_win32.c), which asks the Restart Manager about them: every
 * batch passes through remember_and_emit on its way out. */
#include <windows.h>

#include <pthread.h>

#include "walk/backup_tag.h"
#include "walk/walk.h"
#include "walk/walk_queue.h"
#include "walk/walk_win32.h"

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

/* The emit callback as walk_run was given it; each batch passes through
 * remember_and_emit (under the walk's output lock). */
struct found_emit {
	walk_emit_fn emit;
	void *ctx;
};

static void remember_and_emit(void *arg, struct scan_batch *b)
{
	struct found_emit *fe = arg;
	for (size_t i = 0; i < b->n; i++)
		if (b->rec[i].kind == REC_FINDING)
			remember_found(b->rec[i].f.path);
	fe->emit(fe->ctx, b);
}

/* walk.h's filesystem-type table is Linux's; Windows reports drive types. */
const char *walk_fs_skip_reason(const char *fstype)
{
	(void)fstype;
	return NULL;
}

const char *walk_drive_skip_reason(unsigned type)
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

#ifndef FILE_ATTRIBUTE_RECALL_ON_OPEN
#define FILE_ATTRIBUTE_RECALL_ON_OPEN 0x00040000
#endif
#ifndef FILE_ATTRIBUTE_RECALL_ON_DATA_ACCESS
#define FILE_ATTRIBUTE_RECALL_ON_DATA_ACCESS 0x00400000
#endif

static void join(struct buf *b, const char *dir, const char *name)
{
	buf_reset(b);
	buf_adds(b, dir);
	if (b->len && b->data[b->len - 1] != '\\' && b->data[b->len - 1] != '/')
		buf_addc(b, '\\');
	buf_adds(b, name);
}

static void walk_dir(struct walkq *q, const char *p, int depth)
{
	const struct walk_opts *wo = q->wo;
	struct stat dst;
	bool need_id = wo->follow_symlinks || wo->one_file_system;
	if (need_id && stat(p, &dst) < 0) {
		walkq_dir_error(q, p, errno);
		return;
	}
	if (need_id && !walkq_enter(q, p, &dst))
		return;
	if (depth > 256) {
		walkq_skip(q, p, "directory nesting deeper than 256 levels%s", NULL);
		return;
	}
	if (!wo->scan_backups && backup_tag_in(p)) {
		walkq_skip(q, p, BACKUP_TAG_SKIP_REASON "%s", NULL);
		return;
	}
	wchar_t *pat = l4s_wlist_pattern(p);
	if (!pat) {
		walkq_dir_error(q, p, errno);
		return;
	}
	WIN32_FIND_DATAW fd;
	HANDLE h = FindFirstFileExW(pat, FindExInfoBasic, &fd, FindExSearchNameMatch, NULL,
				    FIND_FIRST_EX_LARGE_FETCH);
	free(pat);
	if (h == INVALID_HANDLE_VALUE) {
		DWORD e = GetLastError();
		if (e != ERROR_FILE_NOT_FOUND) /* an empty drive root */
			walkq_dir_error(q, p, e == ERROR_DIRECTORY ? ENOTDIR : l4s_errno_from_win32(e));
		return;
	}
	if (wo->on_dir)
		wo->on_dir(wo->on_dir_ctx, p);
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
		unsigned char type = l4s_dtype(a, fd.dwReserved0);
		if (type == DT_LNK && wo->follow_symlinks) {
			struct stat st;
			if (stat(fp, &st) < 0) {
				if (errno != ENOENT)
					walkq_error(q, fp, errno);
				type = DT_UNKNOWN;
			} else {
				type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_CHR;
			}
		}
		if (!walkq_wanted(q, fp, type)) {
			/* excluded, or neither a directory nor a file */
		} else if (type == DT_DIR) {
			if (!strcmp(name, "org"))
				saw_org = true;
			subdirs = xrealloc(subdirs, (nsub + 1) * sizeof *subdirs);
			subdirs[nsub++] = xstrdup(fp);
		} else if (a & (FILE_ATTRIBUTE_OFFLINE | FILE_ATTRIBUTE_RECALL_ON_OPEN |
				FILE_ATTRIBUTE_RECALL_ON_DATA_ACCESS)) {
			walkq_skip(q, fp, "file data not on this disk (cloud or offline placeholder): "
					  "not read, reading would fetch it%s", NULL);
		} else {
			walkq_push(q, JOB_FILE_LOOKUP, xstrdup(fp));
		}
	} while (FindNextFileW(h, &fd));
	FindClose(h);
	buf_free(&full);
	if (saw_org) {
		int dfd = open(p, O_RDONLY | O_DIRECTORY);
		if (dfd >= 0) {
			if (scan_is_class_root(dfd))
				walkq_push(q, JOB_CLASSDIR, xstrdup(p));
			close(dfd);
		}
	}
	walkq_flush(q);
	governor_pace(wo->gov);
	for (size_t i = 0; i < nsub; i++) {
		if (governor_expired(wo->gov))
			walkq_skip(q, subdirs[i], "time budget exhausted (--time-budget)%s", NULL);
		else
			walk_dir(q, subdirs[i], depth + 1);
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

static void list_root(void *arg, const char *root)
{
	walk_dir(arg, root, 0);
}

int walk_run(const char *const *roots, size_t nroots, const struct walk_opts *wo,
	     const struct rules *r, const struct scan_opts *so, struct scan_stats *st,
	     walk_emit_fn emit, void *ctx, struct walk_result *res)
{
	struct walkq *q = xcalloc(1, sizeof *q);
	struct found_emit fe = {emit, ctx};
	if (walkq_start(q, wo, r, so, st, remember_and_emit, &fe, res) < 0) {
		free(q);
		return -1;
	}
	pthread_mutex_lock(&found_lock);
	walked = true;
	pthread_mutex_unlock(&found_lock);

	if (wo->whole_host) {
		/* Every fixed drive; the others are listed with their type. */
		wchar_t drives[512];
		DWORD n = GetLogicalDriveStringsW(512, drives);
		size_t ndrives = 0;
		for (wchar_t *d = drives; n && n < 512 && *d; d += wcslen(d) + 1) {
			char *root = l4s_utf8(d);
			const char *why = walk_drive_skip_reason(GetDriveTypeW(d));
			if (why)
				walkq_skip(q, root, why, NULL);
			else if (walkq_excluded(q, root))
				walkq_skip(q, root, "excluded by the user%s", NULL);
			else {
				walkq_root(q, root, list_root, q);
				ndrives++;
			}
			free(root);
		}
		if (!ndrives)
			res->roots_failed = nroots ? nroots : 1;
	} else {
		for (size_t i = 0; i < nroots; i++) {
			char *root = norm_root(roots[i]);
			walkq_root(q, root, list_root, q);
			free(root);
		}
	}
	walkq_finish(q);
	free(q);
	return 0;
}
