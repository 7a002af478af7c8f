/* fix_internal.h - what the files of the fixer share; for lib/fix_*.c and
 * lib/win32/fix_holders.c only (the API is fix.h).
 *
 *   fix_plan.c     which findings, which classes; the tree of archives that
 *                  change (struct node) for one top-level file
 *   fix_apply.c    build, verify, rescan, back up and replace one file
 *   fix_io.c       file helpers: hashing, copying, temporary files, paths
 *   fix_backup.c   the fixer, its backup directory and manifest, backup()
 *   fix_restore.c  reading the manifest back; restore
 *   fix_holders.c  which processes hold a file (Linux: /proc through
 *                  procfs.c; Windows: lib/win32/fix_holders.c) */
#ifndef L4S_FIX_INTERNAL_H
#define L4S_FIX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "buf.h"
#include "fix.h"
#include "zip.h"
#include "zipwrite.h"

#define FIX_MANIFEST "manifest.tsv"
#define FIX_MANIFEST_HEADER "# log4scan backup manifest 1 (see `log4scan restore --help`)\n"

/* One process holding one file open or mapped (Linux; read once per run). */
struct fix_holder {
	dev_t dev;
	ino_t ino;
	long pid;
};

struct fixer {
	struct fix_opts o;
	struct libdeflate_decompressor *d;
	int bdir, mfd;
	unsigned seq;
	struct fix_holder *holders;
	size_t nholders;
	bool holders_read;
};

/* ---- planning (fix_plan.c) */

struct target {
	char *path; /* the archive holding the finding, as the scanner names it */
	char *root;
	enum component comp;
	const struct rule_cve *cves[MAX_CVES];
	size_t ncves;
};

struct node;
struct chain; /* fix_plan.c: the archives above one, to refuse a quine */
struct kid {
	size_t index;
	struct node *n;
};

/* An archive that changes: entries dropped from it, or nested archives in
 * it (kids) that change. */
struct node {
	struct zip z;
	unsigned char *own; /* the bytes z reads, when inflated */
	bool *drop;
	size_t ndrop;
	struct kid *kids;
	size_t nkids;
	char *path;
	char *signer;       /* the META-INF/NAME.SF entry of a signed archive */
	struct buf out;     /* built (nested archives) */
	struct zw_replace *rep;
	struct zw_edit ed;
};

struct plan {
	struct fixer *fx;
	uint64_t inflated;
	struct target *t;
	size_t nt;
	char **removed;
	size_t nremoved;
	struct buf err;
	bool not_zip;       /* the top-level file is not a zip (a tar, an image) */
};

/* Does removing classes mitigate this CVE of a finding of this component? */
bool fix_targetable(const struct fix_opts *o, enum component comp, const struct rule_cve *cve);
/* The archive read from src (named path), and the nested archives in it,
 * that change; NULL when nothing does (or on an error: p->err at depth 0). */
struct node *fix_plan_archive(struct plan *p, const struct zsrc *src, struct buf *path, int depth,
			      const struct chain *chain);
/* The first signed archive that changes, or NULL. */
const struct node *fix_signed_node(const struct node *n);
void fix_node_free(struct node *n);
void fix_plan_free(struct plan *p);

/* ---- file helpers (fix_io.c) */

/* Path separators: '/', and also '\' on Windows (L4S_PATH_SEP, buf.h). */
bool fix_is_sep(char c);
const char *fix_last_sep(const char *p);
bool fix_mkdir_p(const char *path, struct buf *err);
bool fix_write_all(int fd, const void *p, size_t n);
bool fix_sha256_fd(int fd, char out[65]);
/* Copy all of src (from offset 0) to dst (at its current position). */
bool fix_copy_fd(int src, int dst);
/* Extended attributes of src onto dst; those not kept are listed in note. */
void fix_copy_xattrs(int src, int dst, struct buf *note);
/* A new file in dfd: unnamed (O_TMPFILE) where possible, else tmpname
 * (*named set). */
int fix_make_temp(int dfd, const char *tmpname, bool *named);
/* Name the temporary file tmpname if needed, rename it over base, fsync dfd. */
bool fix_install(int tfd, bool named, int dfd, const char *tmpname, const char *base);
void fix_split_path(const char *path, char **dir, const char **base);
/* Reopen fd as a new reader would see it. */
int fix_reopen(int fd);
/* strerror, with "read-only filesystem" for EROFS */
const char *fix_errtext(int e);

/* ---- backup directory and manifest (fix_backup.c) */

int fix_open_manifest(int bdir, int flags, struct buf *err);
/* Manifest field escaping: \\ \t \n \r and \xNN. */
void fix_esc(struct buf *b, const char *s);
char *fix_unesc(const char *s, size_t n);
/* Append "WHAT\tID\tTIME" (restored, abandoned). */
void fix_manifest_mark(int mfd, const char *what, const char *id);
/* Back up the file open as fd and record it; its id goes in id. */
bool fix_backup_file(struct fixer *fx, int fd, const struct stat *st, const char *path, const char *sha_o,
		     const char *sha_n, char *id, size_t idlen, struct buf *err);

/* ---- processes holding a file (fix_holders.c, lib/win32/fix_holders.c) */

/* Add to res->pids the processes that hold the file (st, path); on Windows
 * who gets their description. */
void fix_holders_of(struct fixer *fx, const struct stat *st, const char *path, struct fix_result *res,
		    struct buf *who);

#endif
