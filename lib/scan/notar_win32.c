/* notar_win32.c - tarballs and container images on Windows: absent.
 *
 * Reading tar streams and images needs libarchive and jansson, which are not
 * built for mingw-w64 in Debian.  On Windows no file is taken for a tarball:
 * tarscan_probe() says no, so a .tar.gz is passed over like any other file that
 * is not a zip (and reported when its name claims a zip).  The README lists
 * this under "Windows".  A tarball inside a zip is passed over the same way. */
#include "scan/image.h"
#include "scan/tarscan.h"

bool tarscan_probe(const unsigned char *head, size_t n)
{
	(void)head, (void)n;
	return false;
}

bool tarscan_name(const char *name, size_t len)
{
	(void)name, (void)len;
	return false;
}

bool image_scan_fd(struct scanner *s, int fd, const unsigned char *head, size_t hn, const char *path,
		 struct scan_batch *out)
{
	(void)s, (void)fd, (void)head, (void)hn, (void)path, (void)out;
	return false;
}

bool image_scan_mem(struct scanner *s, const unsigned char *data, size_t len, const char *path,
		  struct scan_batch *out)
{
	(void)s, (void)data, (void)len, (void)path, (void)out;
	return false;
}

bool image_is_layout(int dirfd)
{
	(void)dirfd;
	return false;
}

void image_scan_dir(struct scanner *s, const char *dir, struct scan_batch *out)
{
	(void)s, (void)dir, (void)out;
}

bool tarscan_header_block(const unsigned char *h)
{
	(void)h;
	return false;
}

bool tarscan_reader(struct scanner *s, byte_read_fn rd, void *ctx, const char *path, int depth, bool named,
		     struct scan_batch *out)
{
	(void)s, (void)rd, (void)ctx, (void)path, (void)depth, (void)named, (void)out;
	return false;
}

bool tarscan_buffer(struct scanner *s, const unsigned char *data, size_t len, const char *path, int depth,
		     bool named, struct scan_batch *out)
{
	(void)s, (void)data, (void)len, (void)path, (void)depth, (void)named, (void)out;
	return false;
}

bool tarscan_head_plausible(const unsigned char *head, size_t hn)
{
	(void)head, (void)hn;
	return false;
}
