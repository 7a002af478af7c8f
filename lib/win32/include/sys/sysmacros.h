/* lib/win32/include/sys/sysmacros.h - makedev/major/minor for code that
 * compiles on Windows but only runs these on Linux (/proc/PID/maps). */
#ifndef L4S_WIN32_SYSMACROS_H
#define L4S_WIN32_SYSMACROS_H
#define makedev(ma, mi) (((unsigned long long)(ma) << 32) | (unsigned)(mi))
#define major(d) ((unsigned)((d) >> 32))
#define minor(d) ((unsigned)(d))
#endif
