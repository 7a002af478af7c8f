/* lib/win32/include/fnmatch.h - fnmatch() is l4s_fnmatch (lib/win32/posix.h). */
