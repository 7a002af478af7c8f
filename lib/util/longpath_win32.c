/* longpath_win32.c - longpath.h on Windows: the paths are passed to the
 * POSIX seam (lib/win32/os.c) as they are; a path beyond what Windows
 * takes gets an error record, as any unreadable path does. */
#include "util/longpath.h"

#include <fcntl.h>

int longpath_open(const char *path, int flags)
{
	return open(path, flags);
}

int longpath_stat(const char *path, struct stat *st, bool follow)
{
	return follow ? stat(path, st) : lstat(path, st);
}

DIR *longpath_opendir(const char *path)
{
	return opendir(path);
}
