/* fix_backup.c - the fixer and its backup directory: the directory is
 * created and proven writable before anything changes; each original is
 * kept there (a hard link on the same filesystem, else a verified copy)
 * with a line in manifest.tsv (format in fix.h), fsync'd, before the file
 * it backs up is replaced. */
#include "fix/fix_internal.h"

#include "walk/backup_tag.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

int fix_open_manifest(int bdir, int flags, struct buf *err)
{
	int fd = openat(bdir, FIX_MANIFEST, flags | O_CLOEXEC, 0600);
	if (fd < 0) {
		buf_printf(err, "cannot open the backup manifest: %s", strerror(errno));
		return -1;
	}
	return fd;
}

/* The backup directory is marked, and scans then pass it over: so it must
 * be log4scan's own (a manifest or a tag in it) or empty, never a
 * directory that holds something else. */
static bool backup_dir_ours(const char *path, struct buf *err)
{
	DIR *d = opendir(path);
	if (!d) {
		buf_printf(err, "cannot read backup directory %s: %s", path, strerror(errno));
		return false;
	}
	bool ours = false, other = false;
	for (struct dirent *de; !ours && (de = readdir(d));) {
		const char *n = de->d_name;
		if (!strcmp(n, FIX_MANIFEST) || !strcmp(n, BACKUP_TAG_NAME))
			ours = true;
		else if (strcmp(n, ".") && strcmp(n, "..") && strncmp(n, ".probe-", 7))
			other = true;
	}
	closedir(d);
	if (other && !ours)
		buf_printf(err, "backup directory %s is not empty and holds no log4scan backup: give a new or "
			   "empty directory (it is marked with " BACKUP_TAG_NAME ", and scans pass it over)", path);
	return ours || !other;
}

struct fixer *fixer_new(const struct fix_opts *o, struct buf *err)
{
	struct fixer *fx = xcalloc(1, sizeof *fx);
	fx->o = *o;
	fx->bdir = fx->mfd = -1;
	fx->d = libdeflate_alloc_decompressor();
	if (!fx->d) {
		buf_adds(err, "cannot allocate a decompressor");
		free(fx);
		return NULL;
	}
	if (o->dry_run)
		return fx;
	if (!o->backup_dir || !*o->backup_dir) {
		buf_adds(err, "no backup directory");
		goto fail;
	}
	if (!fix_mkdir_p(o->backup_dir, err)) {
		buf_adds(err, " (for the backup directory)");
		goto fail;
	}
	fx->bdir = open(o->backup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fx->bdir < 0) {
		buf_printf(err, "cannot open backup directory %s: %s", o->backup_dir, strerror(errno));
		goto fail;
	}
	/* Prove that backups can be written before anything is changed. */
	char probe[64];
	snprintf(probe, sizeof probe, ".probe-%ld", (long)getpid());
	int pfd = openat(fx->bdir, probe, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (pfd < 0) {
		buf_printf(err, "cannot write in backup directory %s: %s", o->backup_dir, strerror(errno));
		goto fail;
	}
	close(pfd);
	unlinkat(fx->bdir, probe, 0);
	if (!backup_dir_ours(o->backup_dir, err) || !backup_tag_write(fx->bdir, err))
		goto fail;
	fx->mfd = fix_open_manifest(fx->bdir, O_RDWR | O_APPEND | O_CREAT, err);
	if (fx->mfd < 0)
		goto fail;
	struct stat st;
	flock(fx->mfd, LOCK_EX);
	if (fstat(fx->mfd, &st) == 0 && st.st_size == 0 &&
	    (!fix_write_all(fx->mfd, FIX_MANIFEST_HEADER, strlen(FIX_MANIFEST_HEADER)) || fsync(fx->mfd) < 0)) {
		buf_printf(err, "cannot write the backup manifest: %s", strerror(errno));
		flock(fx->mfd, LOCK_UN);
		goto fail;
	}
	flock(fx->mfd, LOCK_UN);
	return fx;
fail:
	fixer_free(fx);
	return NULL;
}

void fixer_free(struct fixer *fx)
{
	if (!fx)
		return;
	libdeflate_free_decompressor(fx->d);
	if (fx->bdir >= 0)
		close(fx->bdir);
	if (fx->mfd >= 0)
		close(fx->mfd);
	free(fx->holders);
	for (size_t i = 0; i < fx->njvms; i++) {
		struct fix_jvm *j = &fx->jvms[i];
		free(j->cwd);
		free(j->cmdline);
		for (size_t k = 0; k < j->nfiles; k++)
			free(j->files[k]);
		free(j->files);
	}
	free(fx->jvms);
	free(fx);
}


/* ---- backup manifest */

void fix_esc(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\\')
			buf_adds(b, "\\\\");
		else if (c == '\t')
			buf_adds(b, "\\t");
		else if (c == '\n')
			buf_adds(b, "\\n");
		else if (c == '\r')
			buf_adds(b, "\\r");
		else if (c < 0x20 || c == 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_addc(b, (char)c);
	}
}

char *fix_unesc(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 >= n) {
			buf_addc(&b, s[i]);
			continue;
		}
		char c = s[++i];
		if (c == 't')
			buf_addc(&b, '\t');
		else if (c == 'n')
			buf_addc(&b, '\n');
		else if (c == 'r')
			buf_addc(&b, '\r');
		else if (c == 'x' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
			 isxdigit((unsigned char)s[i + 2])) {
			char h[3] = {s[i + 1], s[i + 2], 0};
			buf_addc(&b, (char)strtol(h, NULL, 16));
			i += 2;
		} else
			buf_addc(&b, c);
	}
	if (!b.len)
		return xstrdup("");
	return buf_detach(&b);
}

bool fix_manifest_append(int mfd, const char *line, struct buf *err)
{
	flock(mfd, LOCK_EX);
	/* A line cut short by a crash is ended first, so it cannot swallow
	 * this one (restore ignores it: too few fields). */
	struct stat st;
	char last = '\n';
	if (fstat(mfd, &st) == 0 && st.st_size > 0 && pread(mfd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	bool ok = (last == '\n' || fix_write_all(mfd, "\n", 1)) && fix_write_all(mfd, line, strlen(line)) &&
		  fsync(mfd) == 0;
	if (!ok)
		buf_printf(err, "cannot write the backup manifest: %s", strerror(errno));
	flock(mfd, LOCK_UN);
	return ok;
}

void fix_manifest_mark(int mfd, const char *what, const char *id)
{
	struct buf l = BUF_INIT, e = BUF_INIT;
	buf_printf(&l, "%s\t", what);
	fix_esc(&l, id);
	buf_printf(&l, "\t%lld\n", (long long)time(NULL));
	fix_manifest_append(mfd, buf_cstr(&l), &e);
	buf_free(&l);
	buf_free(&e);
}

void fix_backup_id(struct fixer *fx, const char *path, char *id, size_t idlen)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	const char *base = fix_last_sep(path);
	base = base ? base + 1 : path;
	int k = snprintf(id, idlen, "%s-%ld-%u-", stamp, (long)getpid(), ++fx->seq);
	for (size_t i = 0; base[i] && (size_t)k + 1 < idlen && i < 100; i++, k++)
		id[k] = isalnum((unsigned char)base[i]) || strchr("._-+", base[i]) ? base[i] : '_';
	id[k] = 0;
}

bool fix_copy_verified(int fd, int dirfd, const char *name, const char *sha, struct buf *err)
{
	int bfd = openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (bfd < 0) {
		buf_printf(err, "cannot write the backup: %s", fix_errtext(errno));
		return false;
	}
	char sha_b[65];
	bool ok = fix_copy_fd(fd, bfd) && fsync(bfd) == 0;
	int e = errno;
	close(bfd);
	if (ok) {
		bfd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
		ok = bfd >= 0 && fix_sha256_fd(bfd, sha_b) && !strcmp(sha_b, sha);
		e = ok ? 0 : errno ? errno : EIO;
		if (bfd >= 0)
			close(bfd);
	}
	if (!ok) {
		unlinkat(dirfd, name, 0);
		buf_printf(err, "cannot write the backup: %s", fix_errtext(e));
	}
	return ok;
}

/* Back up the file open as fd: a hard link to the same inode when the
 * backup directory is on the same filesystem, else a verified copy. */
bool fix_backup_file(struct fixer *fx, int fd, const struct stat *st, const char *path,
		     const char *sha_o, const char *sha_n, char *id, size_t idlen, struct buf *err)
{
	fix_backup_id(fx, path, id, idlen);
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, fx->bdir, id, AT_SYMLINK_FOLLOW) < 0 &&
	    !fix_copy_verified(fd, fx->bdir, id, sha_o, err))
		return false;
	if (fsync(fx->bdir) < 0) {
		buf_printf(err, "cannot sync the backup directory: %s", strerror(errno));
		unlinkat(fx->bdir, id, 0);
		return false;
	}
	struct buf l = BUF_INIT;
	fix_record_head(&l, "fix", id, path);
	buf_printf(&l, "\t%s\t%s\t", sha_o, sha_n);
	fix_meta_fields(&l, st);
	buf_addc(&l, '\n');
	bool ok = fix_manifest_append(fx->mfd, buf_cstr(&l), err);
	buf_free(&l);
	if (!ok)
		unlinkat(fx->bdir, id, 0);
	return ok;
}

void fix_record_head(struct buf *l, const char *kind, const char *id, const char *path)
{
	buf_printf(l, "%s\t", kind);
	fix_esc(l, id);
	buf_printf(l, "\t%lld\t", (long long)time(NULL));
	fix_esc(l, path);
	buf_addc(l, '\t');
	fix_esc(l, id); /* the backup's name in the backup directory */
}

void fix_meta_fields(struct buf *l, const struct stat *st)
{
	buf_printf(l, "%lu\t%lu\t%o\t%lld\t%ld", (unsigned long)st->st_uid, (unsigned long)st->st_gid,
		   (unsigned)(st->st_mode & 07777), (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec);
}

