/* cdfloor.c - the central-directory floor for bench/run.sh (not part of
 * log4scan).
 *
 * Walks a tree (nftw, not following symlinks, one thread) and, for every
 * regular file, does the least a tail-first ZIP scanner must do: pread the
 * tail (up to 64 KiB + 22 bytes), find the end-of-central-directory record,
 * and pread the central directory when the tail does not already hold it
 * (following the ZIP64 locator when there is one).  No parsing beyond that,
 * no inflation, no nested archives.  Its time is a lower bound for any
 * scanner of this kind on the same tree.
 *
 *   cdfloor DIR...
 *   -> files N bytes N archives N archive_bytes N bytes_read N cd_bytes N
 * (an archive is a file with an end record whose central directory fits)
 *
 * Built by bench/run.sh with `cc -O2`. */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EOCD_LEN 22
#define TAIL_MAX (65535 + EOCD_LEN)

static unsigned long long nfiles, narchives, nread, ncd, nbytes, narchbytes;
static unsigned char tail[TAIL_MAX];
static unsigned char *cdbuf;
static size_t cdcap;

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const unsigned char *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static ssize_t rd(int fd, void *b, size_t n, off_t at)
{
	ssize_t r = pread(fd, b, n, at);
	if (r > 0)
		nread += (unsigned long long)r;
	return r;
}

static void one(int fd, off_t size)
{
	size_t tlen = size < TAIL_MAX ? (size_t)size : TAIL_MAX;
	off_t tat = size - (off_t)tlen;
	if (tlen < EOCD_LEN || rd(fd, tail, tlen, tat) != (ssize_t)tlen)
		return;
	long i;
	for (i = (long)(tlen - EOCD_LEN); i >= 0; i--)
		if (tail[i] == 'P' && tail[i + 1] == 'K' && tail[i + 2] == 5 && tail[i + 3] == 6)
			break;
	if (i < 0)
		return;
	uint64_t eocd = (uint64_t)tat + (uint64_t)i;
	uint64_t cdsize = le32(tail + i + 12), cdend = eocd;
	if (i >= 20 && le32(tail + i - 20) == 0x07064b50) { /* ZIP64 locator */
		unsigned char r[56];
		uint64_t at = le64(tail + i - 20 + 8);
		if (at + 56 <= eocd && rd(fd, r, 56, (off_t)at) == 56 && le32(r) == 0x06064b50) {
			cdsize = le64(r + 40);
			cdend = at;
		}
	}
	if (cdsize > cdend)
		return;
	narchives++;
	narchbytes += (unsigned long long)size;
	ncd += cdsize;
	uint64_t cdoff = cdend - cdsize;
	if (cdoff >= (uint64_t)tat)
		return; /* already in the tail */
	if (cdsize > cdcap) {
		free(cdbuf);
		cdcap = cdsize;
		cdbuf = malloc(cdcap);
		if (!cdbuf) {
			cdcap = 0;
			return;
		}
	}
	rd(fd, cdbuf, cdsize, (off_t)cdoff);
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)f;
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	nfiles++;
	nbytes += (unsigned long long)st->st_size;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return 0;
	one(fd, st->st_size);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: cdfloor DIR...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (nftw(argv[i], visit, 64, FTW_PHYS) < 0) {
			perror(argv[i]);
			return 2;
		}
	printf("files %llu bytes %llu archives %llu archive_bytes %llu bytes_read %llu cd_bytes %llu\n",
	       nfiles, nbytes, narchives, narchbytes, nread, ncd);
	return 0;
}
