/* fix.h - remediation in place: remove the classes that make a Log4j copy
 * exploitable from the archives that hold it, at any nesting depth, with a
 * byte-exact backup and an undo.
 *
 * Which classes: taken from the rules, never from code.  A log4j-core
 * finding whose CVEs name `mitigated-if-absent` classes loses the first
 * such class of each CVE (for the default rules: lookup/JndiLookup, the
 * mitigation Apache documents), relative to the finding's package root, so
 * a relocated (shaded) copy is handled the same way.  With fix_log4j1, a
 * Log4j 1.x finding loses the `requires-class` classes of its CVEs (the
 * JMSAppender, SocketServer, JMSSink, JDBCAppender and the chainsaw
 * package): without them those CVEs do not apply.  That one is off by
 * default because applications do configure JMSAppender, JDBCAppender and
 * SocketServer on purpose; removing them breaks those configurations at
 * startup, so it is a decision for whoever knows the application.
 *
 * How, for one top-level file:
 *   plan    scan the file again through scan's own descent (the same
 *           archives, order and inflation budgets; scan.h "the descent,
 *           watched"), mark the entries to drop and the nested archives
 *           that change;
 *   build   rewrite the innermost archives first, in memory, each one
 *           checked with zipwrite_verify; then the file itself into an unnamed
 *           temporary file in the same directory (O_TMPFILE; a dot-named
 *           one where the filesystem lacks it), with the original's owner,
 *           group, mode, extended attributes and mtime, fsync'd;
 *   verify  re-open it, check every entry against the source (zipwrite_verify),
 *           rescan it: every finding that was fixed must now show none of
 *           the targeted CVEs;
 *   backup  hard-link the original inode into the backup directory (copy
 *           it when that is another filesystem), fsync, and append a line to
 *           the backup manifest (fsync'd) - before anything is replaced;
 *   replace check the path still names the inode that was read, rename the
 *           new file over it, fsync the directory.
 * A failure at any step leaves the original as it was (the temporary file
 * disappears with its descriptor); a crash at any point leaves either the
 * original or the complete, verified new file under the original's name.
 *
 * Signed archives (META-INF/NAME.SF) are skipped unless fix_signed: removing an
 * entry keeps every other entry's signature valid (the JVM checks each
 * entry it reads against the signed manifest; entries listed there but
 * absent are not checked), but a nested archive that changes inside a
 * signed one would no longer match its digest, so that case is refused even
 * with fix_signed.  Signature files are never removed.
 *
 * The backup manifest (manifest.tsv in the backup directory) is plain text,
 * one record a line, fields separated by TABs, with \\ \t \n \r and \xNN
 * escapes in paths:
 *   fix ID TIME PATH BACKUP SHA256-ORIGINAL SHA256-FIXED UID GID MODE MTIME-S MTIME-NS
 *   dir ID TIME DIR BACKUP NFILES                      (an exploded class directory,
 *   dirfile ID REL SHA256 SIZE UID GID MODE MTIME-S MTIME-NS   then one line per class moved)
 *   restored|abandoned|forgotten|pruned ID TIME
 * Restore undoes fixes newest first, and only when the file is still the
 * one the fix wrote (its SHA-256), so a file changed since is never
 * overwritten unless asked (--force).
 *
 * An exploded class directory (fix_dir.c) is fixed by moving the classes
 * into BACKUP/ID/ under their relative names, recorded before they move. */
#ifndef L4S_FIX_H
#define L4S_FIX_H

#include <stdbool.h>
#include <stddef.h>

#include "detect/detect.h"
#include "rules/rules.h"
#include "scan/scan.h"
#include "util/buf.h"

#define FIX_DEFAULT_BACKUP_DIR "/var/backups/log4scan"

struct fix_opts {
	const struct rules *rules;
	const struct scan_opts *so;  /* limits for reading nested archives */
	struct scan_stats *run_stats; /* the run's walk: planning and rescanning inflate
				      * against its --max-inflate-total too (NULL: each
				      * file's own) */
	const char *backup_dir;      /* needed unless dry_run */
	bool dry_run;
	bool fix_log4j1;
	bool fix_signed;
	bool keep_mtime;             /* false: the fixed file gets the current time */
};

enum fix_action {
	FIX_NOTHING,   /* nothing to remove (any more) */
	FIX_WOULD_FIX, /* dry run */
	FIX_FIXED,
	FIX_SKIPPED,   /* by policy: signed archive */
	FIX_FAILED,    /* error; the original is untouched */
};
const char *fix_action_name(enum fix_action a);

struct fix_result {
	char *path;
	enum fix_action action;
	char **removed;            /* "PATH!/entry" of each entry removed */
	size_t nremoved;
	const char *cves[MAX_CVES]; /* CVE ids mitigated by the removal */
	size_t ncves;
	char *status;              /* rescan of the new file: "mitigated" (or "safe") */
	char *backup;              /* the original's backup */
	char *message;             /* why skipped or failed; notes */
	long *pids;                /* processes that have the replaced file open */
	size_t npids;
};
void fix_result_free(struct fix_result *r);

struct fixer;

/* Prepare: unless dry_run, create the backup directory (mode 0700) and open
 * its manifest; refuse (NULL, reason in err) when they cannot be written. */
struct fixer *fixer_new(const struct fix_opts *o, struct buf *err);
void fixer_free(struct fixer *fx);

/* Does a finding call for a fix?  True when removing classes would mitigate
 * some of its CVEs under these options.  False otherwise; for a vulnerable
 * finding, why says what stands in the way (to upgrade, or --fix-log4j1). */
bool fix_wanted(const struct fix_opts *o, const struct finding *f, struct buf *why);

/* What fix_file() is given for a finding: the top-level file that holds
 * it - the shortest prefix of its path, ending where a "!/" separator
 * starts, that is a regular file on disk (a directory may itself be named
 * "x!") - or, for an exploded class directory, the directory itself; NULL
 * when there is none. */
char *fix_top_path(const char *finding_path);

/* Plan, rewrite, verify, back up and replace one top-level file; or move
 * the mitigating classes of an exploded class directory into the backup. */
void fix_file(struct fixer *fx, const char *path, struct fix_result *res);

enum restore_action {
	RESTORE_DONE, RESTORE_WOULD, RESTORE_ALREADY, RESTORE_REFUSED, RESTORE_FAILED,
	RESTORE_FORGOTTEN, RESTORE_WOULD_FORGET, RESTORE_PRUNED, RESTORE_WOULD_PRUNE, RESTORE_KEPT,
	RESTORE_LISTED,
};
const char *fix_restore_action_name(enum restore_action a);

enum restore_mode {
	RESTORE_PUT_BACK, /* the originals back */
	RESTORE_LIST,     /* every fix the manifest records, with its state */
	RESTORE_FORGET,   /* drop the entries (the backups stay on disk) */
	RESTORE_PRUNE,    /* remove the backups no longer needed */
};

struct restore_opts {
	const char *backup_dir;
	const char *const *only;  /* paths (exact, or below a listed directory); nonly 0: all */
	size_t nonly;
	enum restore_mode mode;
	bool dry_run;
	bool force;               /* put back over a file changed since the fix (kept as PATH.replaced) */
	long long prune_before;   /* RESTORE_PRUNE: fixes made before this time (seconds since 1970) */
};

struct restore_result {
	const char *path;         /* the fixed file or class directory */
	const char *backup;       /* its backup (a file, or a directory of classes) */
	enum restore_action action;
	const char *message;
	const char *id;
	bool dir;                 /* an exploded class directory */
	size_t nfiles;            /* dir: class files moved */
	long long time;           /* of the fix */
	const char *state;        /* active, restored, abandoned, forgotten, pruned */
};

/* fix_restore(): the backup directory has no manifest and nothing else:
 * no fix got as far as backing up a file. */
#define FIX_RESTORE_NOTHING (-2)

/* Act on the fixes recorded in a backup directory, newest first (LIST:
 * oldest first), each only when selected by o->only.  Calls cb once per
 * record acted on.
 *
 * PUT_BACK puts an original back only while the file is still the one the
 * fix wrote (SHA-256) - for a directory, while the classes are still absent
 * or already back - unless force, which keeps the current file as
 * PATH.replaced.  PRUNE removes the backups of fixes made before
 * prune_before whose file is still the one fix wrote (or, once restored,
 * still the original), and marks them pruned.
 *
 * Returns the number of refusals and failures; -1 (reason in err) when the
 * manifest cannot be read; FIX_RESTORE_NOTHING (the reason in err) when
 * there is nothing to restore. */
int fix_restore(const struct restore_opts *o, void (*cb)(void *ctx, const struct restore_result *r), void *ctx,
		struct buf *err);

#endif
