/* lib/win32/include/sys/file.h - flock() is LockFileEx (lib/win32/posix.h). */
