/* scan_top.c - the scan engine's entry points (scan.h): a path, an open
 * file, bytes in memory, each a top-level input with a fresh inflation
 * budget handed to the recursion in scan.c (a tarball first to
 * tarscan.c); and the accessors readers of other formats use. */
#include "scan/scan.h"
#include "scan/scan_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/sniff.h"
#include "archive/zentry.h"
#include "archive/zip.h"
#include "archive/zipstream.h"
#include "detect/classroot.h"
#include "scan/image.h"
#include "scan/tarscan.h"
#include "util/longpath.h"

/* ---- top level */

/* A file that is a tarball may be a zip as well: a self-extracting
 * installer (a tar.gz, then a jar the JVM loads from the tail) is scanned
 * both ways.  A plain tar whose last member is a jar also ends in that
 * jar's end record (`java -cp x.tar` loads from it), but that zip is the
 * member, reported already at its own path: its local headers start right
 * after a tar header block. */
static bool zip_is_tar_member(const struct zsrc *src, const struct zip_limits *lim)
{
	struct zip z;
	struct buf err = BUF_INIT;
	bool member = true; /* no readable zip: nothing more to scan */
	if (zip_open_quick(&z, src, lim, false, &err) == ZIP_OK) {
		uint64_t start = UINT64_MAX;
		for (size_t i = 0; i < z.nentries; i++)
			if (z.entries[i].local_off < start)
				start = z.entries[i].local_off;
		unsigned char h[512];
		member = z.nentries == 0 ||
			 (start >= 512 && start != UINT64_MAX && zip_src_read(src, h, 512, start - 512) == 0 &&
			  tarscan_header_block(h));
		zip_close(&z);
	}
	buf_free(&err);
	return member;
}

static void scan_top(struct scanner *s, const struct zsrc *src, const unsigned char *head, size_t hn,
		     const char *path, bool named_archive, bool is_tar, struct scan_batch *out)
{
	enum sniff_kind k = sniff(head, hn, src->size);
	struct zip_limits lim = {s->o->max_cd_bytes, s->o->max_entries};
	if (is_tar && zip_is_tar_member(src, &lim))
		return;
	enum open_mode mode = named_archive && !is_tar ? OPEN_LOUD
			      : is_tar || sniff_zip_behind(k) ? OPEN_QUIET
							      : OPEN_QUICK;
	struct buf p = BUF_INIT;
	buf_adds(&p, path);
	if (scan_archive(s, src, &p, 0, NULL, mode, out) == ZIP_NOT_ZIP && mode == OPEN_LOUD)
		scan_count_error(s, out, path, "not a zip archive (no end-of-central-directory record)");
	buf_free(&p);
}

void scan_fd(struct scanner *s, int fd, const struct stat *st, const char *path, bool named_archive,
	     struct scan_batch *out)
{
	atomic_fetch_add(&s->st->files, 1);
	atomic_fetch_add(&s->st->bytes, (unsigned long long)st->st_size);
	scan_budget_start(s);
	/* A tarball (plain or compressed) is told by its first bytes, and is
	 * read as one before the zip reader looks at its tail. */
	/* A file no longer than a head and a tail is read whole in one pread
	 * and scanned from memory: one system call instead of two. */
	unsigned char head[SNIFF_HEAD + ZIP_TAIL_FIRST];
	bool whole = st->st_size <= (off_t)sizeof head;
	ssize_t got = pread(fd, head, whole ? sizeof head : SNIFF_HEAD, 0);
	if (got < 0)
		got = 0;
	whole = whole && got == st->st_size;
	size_t hn = (size_t)got < SNIFF_HEAD ? (size_t)got : SNIFF_HEAD;
	bool is_tar = tarscan_probe(head, hn) && image_scan_fd(s, fd, head, hn, path, out);
	struct zsrc src = {.fd = whole ? -1 : fd, .mem = whole ? head : NULL, .off = 0, .size = (uint64_t)st->st_size};
	scan_top(s, &src, head, hn, path, named_archive, is_tar, out);
	scan_budget_finish(s, out, path);
}

bool scan_is_tarball(const unsigned char *head, size_t n)
{
	return tarscan_probe(head, n);
}

void scan_mem(struct scanner *s, const unsigned char *data, size_t len, const char *path,
	      bool named_archive, struct scan_batch *out)
{
	atomic_fetch_add(&s->st->files, 1);
	atomic_fetch_add(&s->st->bytes, (unsigned long long)len);
	scan_budget_start(s);
	bool is_tar = tarscan_probe(data, len) && image_scan_mem(s, data, len, path, out);
	struct zsrc src = {.fd = -1, .mem = data, .off = 0, .size = len};
	scan_top(s, &src, data, len < SNIFF_HEAD ? len : SNIFF_HEAD, path, named_archive, is_tar, out);
	scan_budget_finish(s, out, path);
}

void scanner_begin(struct scanner *s, uint64_t bytes)
{
	atomic_fetch_add(&s->st->files, 1);
	atomic_fetch_add(&s->st->bytes, (unsigned long long)bytes);
	scan_budget_start(s);
}

const struct scan_opts *scanner_opts(const struct scanner *s)
{
	return s->o;
}

struct scan_stats *scanner_stats(struct scanner *s)
{
	return s->st;
}

const struct classroots *scanner_classroots(const struct scanner *s)
{
	return s->roots;
}

bool scanner_charge(struct scanner *s, uint64_t n)
{
	if (n > scan_budget_left(s)) {
		scan_budget_refuse(s, n);
		return false;
	}
	scan_budget_charge(s, n);
	return true;
}

bool scan_mem_nested(struct scanner *s, const unsigned char *data, size_t len, const char *path,
		     int depth, bool loud, struct scan_batch *out)
{
	struct zsrc src = {.fd = -1, .mem = data, .off = 0, .size = len};
	struct buf p = BUF_INIT;
	buf_adds(&p, path);
	enum zip_status st = scan_archive(s, &src, &p, depth, NULL, loud ? OPEN_LOUD : OPEN_QUIET, out);
	buf_free(&p);
	return st != ZIP_NOT_ZIP;
}

static const char *file_type(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISLNK(m))
		return "a symbolic link";
	return "not a regular file";
}

void scan_path(struct scanner *s, const char *path, bool follow, struct scan_batch *out)
{
	struct stat st;
	if (longpath_stat(path, &st, follow) < 0) {
		scan_count_error(s, out, path, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		struct buf m = BUF_INIT;
		buf_printf(&m, "skipped: %s", file_type(st.st_mode));
		scan_count_error(s, out, path, buf_cstr(&m));
		buf_free(&m);
		return;
	}
	int fd = longpath_open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0) {
		scan_count_error(s, out, path, strerror(errno));
		return;
	}
	struct stat st2;
	if (fstat(fd, &st2) < 0 || !S_ISREG(st2.st_mode) || st2.st_ino != st.st_ino ||
	    st2.st_dev != st.st_dev) {
		scan_count_error(s, out, path, "file changed while being opened; skipped");
		close(fd);
		return;
	}
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	scan_fd(s, fd, &st2, path, scan_archive_name(base, strlen(base)), out);
	close(fd);
}

bool scan_regular(struct scanner *s, const char *path, bool follow, struct stat *st,
		  struct scan_batch *out)
{
	int fd = longpath_open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0) {
		scan_count_error(s, out, path, strerror(errno));
		return false;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		scan_count_error(s, out, path, "no longer a regular file; skipped");
		close(fd);
		return false;
	}
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	scan_fd(s, fd, st, path, scan_archive_name(base, strlen(base)), out);
	close(fd);
	return true;
}
