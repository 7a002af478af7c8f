/* os_internal.h - what os.c and os_libc.c, the two halves of lib/win32's
 * POSIX subset, share: the Win32 headers and the real CRT names that
 * posix.h's macros hide from the shared code.  For lib/win32/ only. */
#ifndef L4S_WIN32_OS_INTERNAL_H
#define L4S_WIN32_OS_INTERNAL_H

#undef gethostname /* winsock declares the real one */
#include <windows.h>
#include <bcrypt.h>
#include <winioctl.h>

#include <pthread.h>
#include <stdarg.h>
#include <wchar.h>

#include "util/buf.h"

/* The shared code's names are macros; here the real CRT ones are needed. */
#undef open
#undef close
#undef read
#undef write
#undef dup
#undef isatty
#undef fopen
#undef mkdir
#undef unlink
#undef rename
#undef access

#endif
