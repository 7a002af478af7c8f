/* sniff.h - what the first bytes of a file or of an archive member say it
 * is, so that archives are recognised by content at every level, never by
 * name alone.
 *
 * Kinds, from the head (SNIFF_HEAD bytes, fewer when the data is shorter):
 *   SNIFF_ZIP     a local header "PK\3\4" (or an empty zip's end record);
 *   SNIFF_JMOD    "JM" 0x01 0x00 then a zip (a JDK module file);
 *   SNIFF_TAR     gzip, xz, zstd or bzip2 magic, or "ustar" at offset 257
 *                 (a tarball, plain or compressed, or a compressed file
 *                 that libarchive will tell is no tarball);
 *   SNIFF_SCRIPT  "#!": a launch script, possibly in front of a zip
 *                 (Spring Boot's fully executable jars, installers);
 *   SNIFF_EXEC    an ELF or PE executable with bytes after its own image
 *                 (the end of its last section, its certificate table):
 *                 a self-extracting archive or a wrapped jar (launch4j);
 *   SNIFF_NONE    anything else.
 * A zip or tarball may still hide behind SNIFF_NONE (a zip after arbitrary
 * bytes is found only from its end record, which the callers look for at
 * the top level). */
#ifndef L4S_SNIFF_H
#define L4S_SNIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNIFF_HEAD 1024

enum sniff_kind { SNIFF_NONE, SNIFF_ZIP, SNIFF_JMOD, SNIFF_TAR, SNIFF_SCRIPT, SNIFF_EXEC };

/* size is the whole file's or member's size (for SNIFF_EXEC). */
enum sniff_kind sniff(const unsigned char *head, size_t n, uint64_t size);
/* Bytes enough to tell most heads apart (every magic, and "ustar" at 257),
 * and whether those first n >= SNIFF_EARLY bytes already say SNIFF_NONE
 * whatever follows them: no kind's magic begins them, and they are no
 * executable (whose tables may lie further).  A head reader may stop
 * there (zentry_head). */
#define SNIFF_EARLY 264
bool sniff_none_early(const unsigned char *head, size_t n);
/* The compression magics and the tar header alone (tarscan_probe). */
bool sniff_tar(const unsigned char *head, size_t n);
/* May this kind hold a zip whose end record is not where a plain zip's
 * is (so the whole 64 KiB tail is searched)? */
bool sniff_zip_behind(enum sniff_kind k);

#endif
