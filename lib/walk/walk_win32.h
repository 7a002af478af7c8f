/* walk_win32.h - what the Windows walk (lib/walk/walk_win32.c) shares
 * with the Windows process view (lib/proc/proc_win32.c). */
#ifndef L4S_WALK_WIN32_H
#define L4S_WALK_WIN32_H

#include <stdbool.h>
#include <stddef.h>

/* Why a drive of this GetDriveTypeW type is not scanned in a whole-host
 * scan, or NULL (fixed and RAM drives are scanned). */
const char *walk_drive_skip_reason(unsigned type);

/* The top-level files that held findings in this process's walks so far
 * (owned by the walk; valid until exit).  False when no walk ran. */
bool walk_win32_found(char ***paths, size_t *n);

#endif
