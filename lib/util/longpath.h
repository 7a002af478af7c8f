/* longpath.h - open, stat and list paths of any length.
 *
 * A directory tree may be deeper than PATH_MAX (4096 bytes on Linux):
 * open(2) then fails with ENAMETOOLONG.  These calls take the full path
 * (what records show) and, when it is that long, walk it in pieces shorter
 * than PATH_MAX with openat(2) relative to the directory reached so far,
 * which resolves each piece as open(2) would resolve the whole (symbolic
 * links in the leading pieces are followed, the last component only as
 * `flags` say).  Shorter paths go straight to open/stat/opendir.  The
 * Windows build has its own (lib/util/longpath_win32.c). */
#ifndef L4S_LONGPATH_H
#define L4S_LONGPATH_H

#include <dirent.h>
#include <stdbool.h>
#include <sys/stat.h>

int longpath_open(const char *path, int flags);
/* stat (follow) or lstat (!follow). */
int longpath_stat(const char *path, struct stat *st, bool follow);
DIR *longpath_opendir(const char *path);

#endif
