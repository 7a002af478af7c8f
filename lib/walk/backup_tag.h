/* backup_tag.h - the mark on a log4scan backup directory.
 *
 * `log4scan fix` keeps the vulnerable originals it replaced in a backup
 * directory, so that `restore` can put them back.  A scan that reported
 * them would keep a fixed host "vulnerable" for ever, so every backup
 * directory holds a tag file, in the spirit of CACHEDIR.TAG
 * (https://bford.info/cachedir/): a file named BACKUP_TAG_NAME whose first
 * line is exactly BACKUP_TAG_SIGNATURE.  The walk checks each directory it
 * enters for it (an openat, only when the directory's listing names it, or
 * is too long to have been read whole first: lib/walk/walk_linux.c) and passes a
 * tagged directory over, listed in `skipped` with the reason,
 * unless --scan-backups.  The signature is the MD5 of ".IsLog4scanBackup",
 * so a file of that name written for another purpose does not hide a
 * directory by accident.  fix also never changes a file below a tagged
 * directory. */
#ifndef L4S_BACKUP_TAG_H
#define L4S_BACKUP_TAG_H

#include <stdbool.h>

#include "util/buf.h"

#define BACKUP_TAG_NAME "LOG4SCAN-BACKUP.TAG"
#define BACKUP_TAG_SIGNATURE "Signature: f871a864224b0b7e31b161feb5b99318"
/* the reason a walk gives in `skipped` */
#define BACKUP_TAG_SKIP_REASON "log4scan backup directory (" BACKUP_TAG_NAME "; --scan-backups includes it)"

/* Does the directory open as dirfd (or at path dir) hold a valid tag? */
bool backup_tag_at(int dirfd);
bool backup_tag_in(const char *dir);
/* Is path, or a directory above it, tagged?  (fix never changes a file in
 * a backup directory.) */
bool backup_tag_above(const char *path);

/* Tag the directory open as dirfd, unless it is already: a new file,
 * fsync'd, then renamed into place.  false with the reason in err. */
bool backup_tag_write(int dirfd, struct buf *err);

#endif
