/* lib/win32/include/sys/xattr.h - no extended attributes are copied on
 * Windows (ReplaceFileW keeps the replaced file's); see lib/win32/posix.h. */
