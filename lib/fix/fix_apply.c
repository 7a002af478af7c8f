/* fix_apply.c - fix one top-level file: plan (fix_plan.c), build the
 * rewrite into a temporary file beside it, verify it entry by entry and by
 * rescanning, back the original up (fix_backup.c), replace it atomically.
 *
 * Building writes the leaves of the plan first into memory and hands each
 * one to its parent as a replacement entry; the root goes to a temporary
 * file beside the original.  Every archive written is checked with
 * zipwrite_verify before its parent uses it, the root again after fsync through
 * a fresh descriptor, and the root is rescanned. */
#include "fix/fix_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "walk/backup_tag.h"

const char *fix_action_name(enum fix_action a)
{
	static const char *n[] = {"nothing", "would-fix", "fixed", "skipped", "failed"};
	return n[a];
}

void fix_result_free(struct fix_result *r)
{
	for (size_t i = 0; i < r->nremoved; i++)
		free(r->removed[i]);
	free(r->removed);
	free(r->path);
	free(r->status);
	free(r->backup);
	free(r->message);
	free(r->pids);
	memset(r, 0, sizeof *r);
}


/* ---- building */

bool fix_build(struct node *n, struct zipwrite_sink *s, struct buf *err)
{
	n->rep = xcalloc(n->nkids ? n->nkids : 1, sizeof *n->rep);
	for (size_t i = 0; i < n->nkids; i++) {
		struct node *k = n->kids[i].n;
		struct zipwrite_sink ks;
		zipwrite_sink_mem(&ks, &k->out);
		bool ok = fix_build(k, &ks, err);
		zipwrite_sink_finish(&ks);
		if (!ok)
			return false;
		struct zsrc ms = {.fd = -1, .mem = (const unsigned char *)k->out.data, .off = 0,
				  .size = k->out.len};
		struct buf why = BUF_INIT;
		if (!zipwrite_verify(&k->z, &k->ed, &ms, &why)) {
			buf_printf(err, "%s: %s", k->path, buf_cstr(&why));
			buf_free(&why);
			return false;
		}
		buf_free(&why);
		n->rep[i] = (struct zipwrite_replace){n->kids[i].index, ms.mem, k->out.len};
	}
	n->ed = (struct zipwrite_edit){n->drop, n->rep, n->nkids, 0};
	struct buf why = BUF_INIT;
	bool ok = zipwrite_write(&n->z, &n->ed, s, &why);
	if (!ok)
		buf_printf(err, "%s: %s", n->path, buf_cstr(&why));
	buf_free(&why);
	return ok;
}


/* ---- verification by rescanning */

bool fix_check_rescan(const struct plan *p, const struct scan_batch *b, struct fix_result *res, struct buf *err)
{
	bool ok = true;
	enum status worst = ST_SAFE;
	/* Nothing a class removal would mitigate may remain anywhere in it (a
	 * copy in a nested archive the plan could not follow, say). */
	for (size_t i = 0; i < b->n && ok; i++)
		if (b->rec[i].kind == REC_FINDING && fix_wanted(&p->fx->o, &b->rec[i].f, NULL)) {
			buf_printf(err, "rescan: %s is still vulnerable%s%s", b->rec[i].f.path,
				   p->nunfollowed ? "; not rewritable: " : "", p->nunfollowed ? p->unfollowed.data : "");
			ok = false;
		}
	for (size_t t = 0; t < p->nt && ok; t++) {
		const struct target *tg = &p->t[t];
		bool found = false;
		for (size_t i = 0; i < b->n && ok; i++) {
			const struct finding *f = &b->rec[i].f;
			if (b->rec[i].kind != REC_FINDING || f->comp != tg->comp || strcmp(f->path, tg->path) ||
			    strcmp(f->root ? f->root : "", tg->root))
				continue;
			found = true;
			if (f->status > worst)
				worst = f->status;
			for (size_t c = 0; c < f->ncves && ok; c++)
				for (size_t k = 0; k < tg->ncves && ok; k++)
					if (f->cves[c] == tg->cves[k]) {
						buf_printf(err, "rescan: %s is still affected by %s", tg->path,
							   tg->cves[k]->id);
						ok = false;
					}
		}
		if (!found && ok) {
			buf_printf(err, "rescan: the fixed copy no longer shows the %s finding at %s",
				   rules_component_name(tg->comp), tg->path);
			ok = false;
		}
	}
	if (ok) {
		free(res->status);
		res->status = xstrdup(finding_status_name(worst));
	}
	return ok;
}

struct scanner *fix_scanner(struct fixer *fx, struct scan_opts *so, struct scan_stats *stats, struct buf *err)
{
	memset(stats, 0, sizeof *stats);
	if (fx->o.run_stats)
		atomic_store(&stats->inflated, atomic_load(&fx->o.run_stats->inflated));
	*so = *fx->o.so;
	so->sha256 = SHA_NONE;
	struct scanner *sc = scanner_new(fx->o.rules, so, stats);
	if (!sc)
		buf_adds(err, "cannot allocate a scanner");
	return sc;
}

void fix_scanner_free(struct fixer *fx, struct scanner *sc, struct scan_stats *stats)
{
	/* fixes run one at a time, after the walk: nothing else counts meanwhile */
	if (fx->o.run_stats)
		atomic_store(&fx->o.run_stats->inflated, atomic_load(&stats->inflated));
	scanner_free(sc);
}

static bool rescan(struct fixer *fx, int fd, const struct stat *st, const char *path,
		   const struct plan *p, struct fix_result *res, struct buf *err)
{
	struct scan_stats stats;
	struct scan_opts so;
	struct scanner *sc = fix_scanner(fx, &so, &stats, err);
	if (!sc)
		return false;
	struct scan_batch b = {0};
	scan_fd(sc, fd, st, path, true, &b);
	bool total = scanner_total_exhausted(sc);
	fix_scanner_free(fx, sc, &stats);
	bool ok = !total && fix_check_rescan(p, &b, res, err);
	if (total)
		buf_adds(err, "rescan incomplete: the run's inflation budget (--max-inflate-total) ran out");
	scan_batch_free(&b);
	return ok;
}

/* ---- one file */

void fix_set_msg(struct fix_result *res, enum fix_action a, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	if (res->message)
		buf_printf(&b, "%s; ", res->message);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(res->message);
	res->message = buf_detach(&b);
	res->action = a;
}


/* Write, verify, back up and install the planned rewrite of the file open
 * as fd (stat st) at path. */
static void apply(struct fixer *fx, struct plan *p, struct node *top, int dfd, const char *dir,
		  const char *base, int fd, const struct stat *st, const char *path, const char *abs,
		  struct fix_result *res)
{
	char tmpname[64], id[256] = "";
	snprintf(tmpname, sizeof tmpname, ".l4s-fix-%ld-%u.tmp", (long)getpid(), ++fx->seq);
	int tfd = -1, vfd = -1;
	bool named = false, backed_up = false;
	struct buf err = BUF_INIT, note = BUF_INIT, who = BUF_INIT;
	tfd = fix_make_temp(dfd, tmpname, &named);
	if (tfd < 0) {
		fix_set_msg(res, FIX_FAILED, "cannot create the fixed copy in %s: %s; original untouched", dir,
			fix_errtext(errno));
		goto out;
	}
	struct zipwrite_sink s;
	zipwrite_sink_fd(&s, tfd);
	bool ok = fix_build(top, &s, &err);
	int werr = s.err;
	zipwrite_sink_finish(&s);
	if (!ok || werr) {
		if (werr)
			fix_set_msg(res, FIX_FAILED, "cannot write the fixed copy: %s; original untouched",
				fix_errtext(werr));
		else
			fix_set_msg(res, FIX_FAILED, "%s; original untouched", buf_cstr(&err));
		goto out;
	}
	/* Owner first (it clears set-id bits), then mode, attributes, times. */
	if (fchown(tfd, st->st_uid, st->st_gid) < 0) {
		fix_set_msg(res, FIX_FAILED, "cannot give the fixed copy the original's owner: %s; original untouched",
			strerror(errno));
		goto out;
	}
	if (fchmod(tfd, st->st_mode & 07777) < 0) {
		fix_set_msg(res, FIX_FAILED, "cannot set the mode of the fixed copy: %s; original untouched",
			strerror(errno));
		goto out;
	}
	fix_copy_xattrs(fd, tfd, &note);
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	if (!fx->o.keep_mtime)
		ts[1].tv_nsec = UTIME_NOW;
	if (futimens(tfd, ts) < 0 || fsync(tfd) < 0) {
		fix_set_msg(res, FIX_FAILED, "cannot write the fixed copy: %s; original untouched", fix_errtext(errno));
		goto out;
	}

	/* Check what a new reader of the file sees. */
	vfd = fix_reopen(tfd);
	struct stat vst;
	if (vfd < 0 || fstat(vfd, &vst) < 0) {
		fix_set_msg(res, FIX_FAILED, "cannot reopen the fixed copy: %s; original untouched", strerror(errno));
		goto out;
	}
	struct zsrc vs = {.fd = vfd, .mem = NULL, .off = 0, .size = (uint64_t)vst.st_size};
	if (!zipwrite_verify(&top->z, &top->ed, &vs, &err) || !rescan(fx, vfd, &vst, path, p, res, &err)) {
		fix_set_msg(res, FIX_FAILED, "the fixed copy failed verification (%s); original untouched",
			buf_cstr(&err));
		goto out;
	}
	char sha_o[65], sha_n[65];
	if (!fix_sha256_fd(fd, sha_o) || !fix_sha256_fd(vfd, sha_n)) {
		fix_set_msg(res, FIX_FAILED, "read error while hashing: %s; original untouched", strerror(errno));
		goto out;
	}
	fix_holders_of(fx, st, path, res, &who);

	if (!fix_backup_file(fx, fd, st, abs, sha_o, sha_n, id, sizeof id, &err)) {
		fix_set_msg(res, FIX_FAILED, "%s; original untouched", buf_cstr(&err));
		goto out;
	}
	backed_up = true;
	struct stat now;
	if (fstatat(dfd, base, &now, AT_SYMLINK_NOFOLLOW) < 0 || now.st_dev != st->st_dev ||
	    now.st_ino != st->st_ino || now.st_size != st->st_size ||
	    now.st_mtim.tv_sec != st->st_mtim.tv_sec || now.st_mtim.tv_nsec != st->st_mtim.tv_nsec) {
		fix_set_msg(res, FIX_FAILED, "the file changed while it was being fixed; not replaced");
		goto out;
	}
	if (!fix_install(tfd, named, dfd, tmpname, base)) {
#ifdef _WIN32
		/* Windows: a file a running program holds open (a JVM's jar) cannot
		 * be replaced, and is never forced. */
		if (errno == EBUSY)
			fix_set_msg(res, FIX_SKIPPED, "in use by %s: not replaced, original untouched; restart "
				"required: stop it, then run fix again", who.len ? buf_cstr(&who) : "another process");
		else
#endif
			fix_set_msg(res, FIX_FAILED, "cannot replace the original: %s; original untouched",
				fix_errtext(errno));
		goto out;
	}
	named = false; /* the temporary name is gone */
	backed_up = false;
	struct buf bp = BUF_INIT;
	buf_printf(&bp, "%s%c%s", fx->o.backup_dir, L4S_PATH_SEP, id);
	res->backup = buf_detach(&bp);
	res->action = FIX_FIXED;
	if (st->st_nlink > 1)
		fix_set_msg(res, FIX_FIXED, "the original had %lu hard links: the other names still hold the old copy",
			(unsigned long)st->st_nlink);
	if (note.len)
		fix_set_msg(res, FIX_FIXED, "%s", buf_cstr(&note));
out:
	if (backed_up) {
		/* Not replaced: the backup and its record are withdrawn. */
		unlinkat(fx->bdir, id, 0);
		fix_manifest_mark(fx->mfd, "abandoned", id);
	}
	if (named && tfd >= 0)
		unlinkat(dfd, tmpname, 0);
	if (vfd >= 0)
		close(vfd);
	if (tfd >= 0)
		close(tfd);
	if (res->action == FIX_FAILED) {
		free(res->pids);
		res->pids = NULL;
		res->npids = 0;
	}
	buf_free(&err);
	buf_free(&note);
	buf_free(&who);
}

/* The path with its directory made absolute (symbolic links in the
 * directory resolved, the file name itself kept), so that the manifest
 * names the file whatever the working directory of `restore`. */
char *fix_absolute(const char *path)
{
	char *dir;
	const char *base;
	fix_split_path(path, &dir, &base);
	char *real = realpath(dir, NULL);
	free(dir);
	if (!real)
		return xstrdup(path);
	struct buf b = BUF_INIT;
	size_t rl = strlen(real);
	buf_printf(&b, "%s%s%s", real, rl && fix_is_sep(real[rl - 1]) ? "" : (char[]){L4S_PATH_SEP, 0}, base);
	free(real);
	return buf_detach(&b);
}

void fix_result_cves(struct fix_result *res, const struct plan *p)
{
	for (size_t t = 0; t < p->nt; t++)
		for (size_t k = 0; k < p->t[t].ncves; k++) {
			bool dup = false;
			for (size_t j = 0; j < res->ncves && !dup; j++)
				dup = !strcmp(res->cves[j], p->t[t].cves[k]->id);
			if (!dup && res->ncves < MAX_CVES)
				res->cves[res->ncves++] = p->t[t].cves[k]->id;
		}
}

static void fix_one_file(struct fixer *fx, const char *path, const char *abs, int dfd, const char *dir,
			 const char *base, int fd, const struct stat *st, struct fix_result *res);

void fix_file(struct fixer *fx, const char *path, struct fix_result *res)
{
	memset(res, 0, sizeof *res);
	res->path = xstrdup(path);
	/* The directory first, then the file in it: the name that is replaced
	 * is the one in the directory that was read, whatever happens to the
	 * path's other components meanwhile. */
	char *dir;
	const char *base;
	fix_split_path(path, &dir, &base);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd = -1;
	struct stat st;
	if (dfd < 0 || (fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0) {
		fix_set_msg(res, FIX_FAILED, "cannot open: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		if (dfd >= 0)
			close(dfd);
		free(dir);
		return;
	}
	struct stat bst, dst;
	char *abs = NULL;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		fix_set_msg(res, FIX_FAILED, "not a regular file");
	} else if (fx->bdir >= 0 && fstat(fx->bdir, &bst) == 0 && fstat(dfd, &dst) == 0 &&
		   bst.st_dev == dst.st_dev && bst.st_ino == dst.st_ino) {
		fix_set_msg(res, FIX_NOTHING, "an original kept in the backup directory; left alone");
	} else if (backup_tag_above((abs = fix_absolute(path)))) {
		fix_set_msg(res, FIX_NOTHING, "in a log4scan backup directory (" BACKUP_TAG_NAME "); left alone");
	} else if (S_ISDIR(st.st_mode)) {
		fix_dir(fx, path, abs, res);
	} else {
		fix_one_file(fx, path, abs, dfd, dir, base, fd, &st, res);
	}
	free(abs);
	close(fd);
	close(dfd);
	free(dir);
}

/* Plan and, unless a dry run, apply the fix of the regular file open as fd. */
static void fix_one_file(struct fixer *fx, const char *path, const char *abs, int dfd, const char *dir,
			 const char *base, int fd, const struct stat *st, struct fix_result *res)
{
	struct plan p = {.fx = fx};
	/* The scanner reads a tarball as a tarball even when its last member is
	 * a jar whose end record sits in the tar's tail; so does the fixer. */
	unsigned char head[SCAN_TAR_PROBE_LEN];
	ssize_t hn = pread(fd, head, sizeof head, 0);
	p.not_zip = hn > 0 && scan_is_tarball(head, (size_t)hn);
	struct node *top = p.not_zip ? NULL : fix_plan_file(&p, fd, st, path);
	if (p.total_out) {
		/* what the plan saw is incomplete: nothing is changed on its word */
		fix_node_free(top);
		top = NULL;
		fix_set_msg(res, FIX_SKIPPED, "the run's inflation budget (--max-inflate-total) ran out while "
			    "planning the fix; not changed");
		goto out;
	}
	if (!top) {
		if (p.not_zip)
			fix_set_msg(res, FIX_SKIPPED, "not a zip archive: fix rewrites zip, jar, war and ear files only "
				"(tar archives and container images are left as they are)");
		else if (p.err.len)
			fix_set_msg(res, FIX_FAILED, "%s", buf_cstr(&p.err));
		else if (p.nunfollowed)
			fix_set_msg(res, FIX_SKIPPED, "%zu cop%s in nested archives it cannot rewrite, nothing changed: %s",
				    p.nunfollowed, p.nunfollowed == 1 ? "y" : "ies", buf_cstr(&p.unfollowed));
		else
			fix_set_msg(res, FIX_NOTHING, "nothing to remove");
		goto out;
	}
	res->removed = p.removed;
	res->nremoved = p.nremoved;
	p.removed = NULL;
	p.nremoved = 0;
	fix_result_cves(res, &p);
	const struct node *sg = fix_signed_node(top);
	if (sg && !fx->o.fix_signed) {
		fix_set_msg(res, FIX_SKIPPED,
			"signed archive %s (%s): not changed; --fix-signed removes the classes and keeps "
			"the other entries' signatures valid", sg->path, sg->signer);
	} else if (sg && sg->nkids) {
		fix_set_msg(res, FIX_SKIPPED,
			"signed archive %s holds a nested archive that would change (%s): its signed digest "
			"would no longer match; not changed", sg->path, sg->kids[0].n->path);
	} else if (fx->o.dry_run) {
		res->action = FIX_WOULD_FIX;
	} else {
		apply(fx, &p, top, dfd, dir, base, fd, st, path, abs, res);
	}
	fix_node_free(top);
out:
	fix_plan_free(&p);
}

