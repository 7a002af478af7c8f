/* image.h - container images at rest: `docker save` tarballs (manifest.json,
 * legacy or OCI-shaped), OCI image layouts in a tarball or a directory
 * (oci-layout + index.json + blobs/).
 *
 * An image is a list of layers, each a (possibly compressed) tar applied
 * over the ones below it.  Every layer is scanned once, with the tar entry
 * scanner, as a stream; its findings are then reported for each image that
 * uses it, in manifest order, with the image name, tag and layer digest,
 * and paths of the form  image.tar!/sha256:LAYER!/opt/app/lib/x.jar .
 * Whiteouts are applied: a file deleted (.wh.NAME), hidden (.wh..wh..opq in
 * a directory above it) or replaced (same path) by a later layer of the
 * same image is reported with in_final_image false and a note saying which
 * layer removed it -- it is still in the image's bytes, but not in the
 * filesystem a container of that image sees.
 *
 * A tarball is read in two passes over the same bytes: the first scans it
 * as an ordinary tarball, keeping the small JSON documents (manifest.json,
 * index.json, configs, OCI manifests) and setting aside the entries that
 * may be layers (NAME/layer.tar, blobs/ALG/HEX); the second scans only
 * those, as layers of the images the documents describe (or as ordinary
 * entries when they are not).  Layers are scanned in the order the stream
 * has them; only the reporting follows manifest order. */
#ifndef L4S_IMAGE_H
#define L4S_IMAGE_H

#include <stdbool.h>

#include "scan/scan.h"
#include "scan/tarscan.h"

/* Scan a tarball (regular file, any offset: it is read from the start),
 * images and all.  head holds its first hn bytes (what tarscan_probe() was
 * given).  The caller has started the input (scan_fd does).  False, with
 * nothing reported, when the bytes turn out not to hold a tar and the name
 * does not claim one (a .gz of a log file): the caller may try other
 * readers. */
bool image_scan_fd(struct scanner *s, int fd, const unsigned char *head, size_t hn, const char *path,
		 struct scan_batch *out);
/* The same for a tarball in memory. */
bool image_scan_mem(struct scanner *s, const unsigned char *data, size_t len, const char *path,
		  struct scan_batch *out);

/* Scan a top-level tarball that may hold images.  `named` says the file's
 * name claims a tarball.  False when it is no tar (see image_scan_fd). */
bool image_scan_tar(struct scanner *s, const struct tarscan_src *src, const char *path, bool named,
		    struct scan_batch *out);
/* Is the open directory an OCI image layout (oci-layout, index.json, blobs/)? */
bool image_is_layout(int dirfd);
/* Scan an OCI image layout directory as one job (a new top-level input). */
void image_scan_dir(struct scanner *s, const char *dir, struct scan_batch *out);

#endif
