/* fix_internal.h - what the files of the fixer share; for lib/fix_*.c and
 * lib/fix/fix_holders_win32.c only (the API is fix.h).
 *
 *   fix_plan.c     which findings, which classes; the tree of archives that
 *                  change (struct node) for one top-level file, planned by
 *                  watching scan's own descent (scan.h) with its budgets
 *   fix_apply.c    build, verify, rescan, back up and replace one file
 *   fix_io.c       file helpers: hashing, copying, temporary files, paths
 *   fix_backup.c   the fixer, its backup directory and manifest, backup()
 *   fix_restore.c  reading the manifest back; restore
 *   fix_holders.c  which processes hold a file (Linux: /proc through
 *                  procfs.c; Windows: lib/fix/fix_holders_win32.c) */
#ifndef L4S_FIX_INTERNAL_H
#define L4S_FIX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "archive/zip.h"
#include "archive/zipwrite.h"
#include "fix/fix.h"
#include "util/buf.h"

#define FIX_MANIFEST "manifest.tsv"
#define FIX_MANIFEST_HEADER "# log4scan backup manifest 1 (see `log4scan restore --help`)\n"

/* One process holding one file open or mapped (Linux; read once per run). */
struct fix_holder {
	dev_t dev;
	ino_t ino;
	long pid;
};

/* One running JVM, for the holders of exploded class directories (Linux). */
struct fix_jvm {
	long pid;
	char *cwd;
	char *cmdline;      /* NUL-separated arguments */
	size_t cmdlen;
	char **files;       /* the files it has open or mapped */
	size_t nfiles;
};

struct fixer {
	struct fix_opts o;
	struct libdeflate_decompressor *d;
	int bdir, mfd;
	unsigned seq;
	struct fix_holder *holders;
	size_t nholders;
	bool holders_read;
	struct fix_jvm *jvms;
	size_t njvms;
	bool jvms_read;
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
	struct zipwrite_replace *rep;
	struct zipwrite_edit ed;
};

struct plan {
	struct fixer *fx;
	struct target *t;
	size_t nt;
	char **removed;
	size_t nremoved;
	struct buf err;
	bool not_zip;       /* the top-level file is not a zip (a tar, an image) */
	struct buf unfollowed; /* copies in nested archives the plan cannot rewrite, and why (the first 3) */
	size_t nunfollowed;
	struct { char *path, *why; } *passed; /* nested archives scan read other than whole (scan_watch) */
	size_t npassed;
	char **planned;     /* the archives the plan could rewrite (read whole, not in a stream) */
	size_t nplanned;
	bool total_out;     /* --max-inflate-total refused a read while planning */
};

/* Does removing classes mitigate this CVE of a finding of this component? */
bool fix_targetable(const struct fix_opts *o, enum component comp, const struct rule_cve *cve);
/* Run the detector over c (the archive or directory named path), add a
 * target for each finding a removal mitigates, and mark in drop (c->n
 * flags) the entries to remove; returns how many were newly marked. */
size_t fix_plan_drops(struct plan *p, const struct container *c, const char *path, bool *drop);
/* The top-level file open as fd (stat st, named path), and the nested
 * archives in it, that change, found by scanning it as `scan` does (same
 * descent, same budgets); NULL when nothing does, p->not_zip when it is no
 * zip, p->err when it cannot be read. */
struct node *fix_plan_file(struct plan *p, int fd, const struct stat *st, const char *path);
/* The first signed archive that changes, or NULL. */
const struct node *fix_signed_node(const struct node *n);
void fix_node_free(struct node *n);
void fix_plan_free(struct plan *p);

/* ---- one file (fix_apply.c) */

/* Write the plan's tree into s: the innermost archives first, in memory,
 * each checked with zipwrite_verify before its parent takes it; n->ed is then
 * the edit of n (for the caller's zipwrite_verify of what s received). */
bool fix_build(struct node *n, struct zipwrite_sink *s, struct buf *err);

void fix_set_msg(struct fix_result *res, enum fix_action a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The CVEs the plan's targets are fixed for, into res->cves. */
void fix_result_cves(struct fix_result *res, const struct plan *p);
/* The path with its directory made absolute (the manifest's form). */
char *fix_absolute(const char *path);

/* A scanner with the fixer's options (no hashing), kept in *so, which must
 * outlive it; its inflation counts against the run's --max-inflate-total
 * (fix_opts.run_stats), handed back by fix_scanner_free. */
struct scanner *fix_scanner(struct fixer *fx, struct scan_opts *so, struct scan_stats *stats, struct buf *err);
void fix_scanner_free(struct fixer *fx, struct scanner *sc, struct scan_stats *stats);
/* Every target of the plan is in the batch (a rescan of what was written)
 * and shows none of the CVEs it was fixed for; res->status gets the worst
 * status seen.  false with the reason in err. */
bool fix_check_rescan(const struct plan *p, const struct scan_batch *b, struct fix_result *res, struct buf *err);

/* ---- exploded class directories (fix_dir.c) */

/* What the manifest says of a file besides its hash: owner, mode, mtime. */
struct fix_attrs {
	unsigned long uid, gid;
	unsigned mode;
	long long mtime_s;
	long mtime_ns;
};

/* Fix the class directory dir (abs: its absolute form, for the manifest). */
void fix_dir(struct fixer *fx, const char *dir, const char *abs, struct fix_result *res);
/* The directory holding rel (a '/'-separated path below rootfd), each
 * component opened with O_NOFOLLOW; *base is rel's last component. */
int fix_open_parent(int rootfd, const char *rel, const char **base);
/* Put rel back from the backup bname in bfd, once that is checked against
 * sha: a hard link to it (same filesystem), else a copy with the attributes
 * a; never over an existing file ("a file is in its place").  The backup's
 * name is removed unless keep_backup. */
bool fix_dir_put_back(int rootfd, const char *rel, int bfd, const char *bname, const struct fix_attrs *a,
		      const char *sha, bool keep_backup, struct buf *err);

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
/* The same, but never over an existing file: EEXIST if base exists. */
bool fix_install_new(int tfd, bool named, int dfd, const char *tmpname, const char *base);
void fix_split_path(const char *path, char **dir, const char **base);
/* Reopen fd as a new reader would see it. */
int fix_reopen(int fd);
/* A copy of the file open as sfd in a new temporary file in dfd, with the
 * attributes a, fsync'd and checked against sha: its descriptor, or -1
 * (reason in err, nothing left behind). */
int fix_restored_copy(int sfd, int dfd, const char *tmpname, bool *named, const struct fix_attrs *a, const char *sha,
		      struct buf *err);
/* Remove path and, when it is a directory, everything below it (links
 * are removed, never followed). */
bool fix_remove_tree(const char *path, int depth);
/* strerror, with "read-only filesystem" for EROFS */
const char *fix_errtext(int e);

/* ---- backup directory and manifest (fix_backup.c) */

int fix_open_manifest(int bdir, int flags, struct buf *err);
/* Manifest field escaping: \\ \t \n \r and \xNN. */
void fix_esc(struct buf *b, const char *s);
char *fix_unesc(const char *s, size_t n);
/* Append a line (or lines) to the manifest under its lock, fsync'd. */
bool fix_manifest_append(int mfd, const char *line, struct buf *err);
/* Append "WHAT\tID\tTIME" (restored, abandoned, forgotten, pruned). */
void fix_manifest_mark(int mfd, const char *what, const char *id);
/* A new backup id: time, pid, sequence number and the file name of path. */
void fix_backup_id(struct fixer *fx, const char *path, char *id, size_t idlen);
/* Copy the file open as fd into a new file name in dirfd, fsync it and
 * check its SHA-256 against sha; on failure nothing is left. */
bool fix_copy_verified(int fd, int dirfd, const char *name, const char *sha, struct buf *err);
/* A fix or dir line's first fields: KIND ID TIME PATH BACKUP (= ID). */
void fix_record_head(struct buf *l, const char *kind, const char *id, const char *path);
/* The manifest's UID GID MODE MTIME-S MTIME-NS fields of st. */
void fix_meta_fields(struct buf *l, const struct stat *st);
/* Back up the file open as fd and record it; its id goes in id. */
bool fix_backup_file(struct fixer *fx, int fd, const struct stat *st, const char *path, const char *sha_o,
		     const char *sha_n, char *id, size_t idlen, struct buf *err);

/* ---- the manifest read back (fix_manifest.c) */

enum mstate { M_ACTIVE, M_RESTORED, M_ABANDONED, M_FORGOTTEN, M_PRUNED };

struct mfile {          /* a class file moved out of a directory */
	char *rel;          /* '/'-separated, below the directory */
	char sha[65];
	long long size;
	struct fix_attrs a;
};

struct mrec {           /* one fix: a file (`fix` line) or a directory (`dir`) */
	char *id, *path, *backup;
	bool dir;
	long long time;
	char sha_o[65], sha_n[65]; /* file */
	struct fix_attrs a;        /* file */
	struct mfile *files;       /* directory */
	size_t nfiles, nexpected;
	enum mstate state;         /* from the restored/abandoned/forgotten/pruned lines */
	long long state_time;
};

struct manifest {
	struct mrec *r;     /* in the order written */
	size_t n;
	size_t bad_lines;   /* not understood, ignored */
};

void fix_manifest_parse(const char *text, size_t len, struct manifest *m);
void fix_manifest_free(struct manifest *m);
const char *fix_manifest_state_name(enum mstate s);

/* ---- processes holding a file (fix_holders.c, lib/fix/fix_holders_win32.c) */

/* Add to res->pids the processes that hold the file (st, path); on Windows
 * who gets their description. */
void fix_holders_of(struct fixer *fx, const struct stat *st, const char *path, struct fix_result *res,
		    struct buf *who);
/* Add to res->pids the JVMs that hold the exploded class directory dir
 * (absolute): see fix_holders.c for what counts; none on Windows. */
void fix_holders_of_dir(struct fixer *fx, const char *dir, struct fix_result *res);

#endif
