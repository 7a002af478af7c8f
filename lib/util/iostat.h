/* iostat.h - the process-wide count of bytes the scanner has read from
 * files: added to by the zip reader (zip_src_read, zip.c), read by the --max-io
 * budget (govern.c).  A leaf, so the format reader needs no budget policy. */
#ifndef L4S_IOSTAT_H
#define L4S_IOSTAT_H

#include <stdatomic.h>

extern atomic_ullong iostat_bytes_read;

#endif
