/* lib/win32/posix.h - the platform seam on Windows: the small POSIX subset
 * log4scan's shared code is written against, implemented over Win32.
 *
 * The shared code (detector, zip reader and writer, scan engine, fix, log
 * hunter, report writers) talks to the operating system through a handful
 * of POSIX calls: open/pread/fstat/close on files, opendir/readdir on
 * directories, a few *at() calls, rename, fsync, flock.  On Linux those are
 * libc.  On Windows this header is force-included (-include) before every
 * translation unit and maps each of them onto l4s_* functions in
 * lib/win32/os.c, which:
 *   - take and return UTF-8 paths and convert them to UTF-16 at the API
 *     boundary only (MultiByteToWideChar / WideCharToMultiByte), adding the
 *     \\?\ long-path prefix internally (never shown to users);
 *   - open every file with CreateFileW sharing read, write and delete, so a
 *     scan never stands in the way of the programs it looks at;
 *   - report file identity as (volume serial number, 64-bit file index)
 *     in st_dev/st_ino, which is what fix and the cache compare;
 *   - read with positional ReadFile (OVERLAPPED offsets): pread is
 *     thread-safe as on Linux;
 *   - replace files with ReplaceFileW / MoveFileExW(MOVEFILE_REPLACE_EXISTING
 *     | MOVEFILE_WRITE_THROUGH), never forcing a file that is in use.
 * Nothing else is included here (no windows.h), so the shared code sees no
 * Win32 names. */
#ifndef L4S_WIN32_POSIX_H
#define L4S_WIN32_POSIX_H

#ifndef _POSIX_THREAD_SAFE_FUNCTIONS
#define _POSIX_THREAD_SAFE_FUNCTIONS 200112L /* gmtime_r, localtime_r */
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define L4S_PATH_SEP '\\'

/* ---- types */
typedef uint64_t l4s_dev_t;
typedef uint64_t l4s_ino_t;
typedef uint32_t l4s_mode_t;
typedef unsigned l4s_uid_t;
#define dev_t l4s_dev_t
#define ino_t l4s_ino_t
#define mode_t l4s_mode_t
#define uid_t l4s_uid_t
#define gid_t l4s_uid_t
typedef unsigned long nlink_t;

#undef stat
#undef fstat
#undef lstat
struct l4s_stat {
	dev_t st_dev;   /* volume serial number */
	ino_t st_ino;   /* file index on that volume */
	mode_t st_mode;
	nlink_t st_nlink;
	uid_t st_uid, st_gid; /* always 0: Windows has SIDs and ACLs instead */
	int64_t st_size;
	struct timespec st_atim, st_mtim, st_ctim;
};
#define stat l4s_stat
int l4s_stat(const char *path, struct l4s_stat *st);
int l4s_lstat(const char *path, struct l4s_stat *st);
int l4s_fstat(int fd, struct l4s_stat *st);
#define lstat l4s_lstat
#define fstat l4s_fstat

#ifndef S_IFLNK
#define S_IFLNK 0xA000
#endif
#ifndef S_IFSOCK
#define S_IFSOCK 0xC000
#endif
#undef S_IFBLK
#define S_IFBLK 0x6000
#ifndef S_ISLNK
#define S_ISLNK(m) (((m) & S_IFMT) == S_IFLNK)
#endif
#ifndef S_ISSOCK
#define S_ISSOCK(m) (((m) & S_IFMT) == S_IFSOCK)
#endif
#undef S_ISBLK
#define S_ISBLK(m) (((m) & S_IFMT) == S_IFBLK)

/* ---- open flags the CRT lacks (stripped by l4s_open) */
#define O_CLOEXEC   0x01000000
#define O_NOFOLLOW  0x02000000 /* FILE_FLAG_OPEN_REPARSE_POINT */
#define O_NOCTTY    0
#define O_NONBLOCK  0
#define O_DIRECTORY 0x04000000
#define O_TMPFILE   0x08000000 /* refused with EOPNOTSUPP: callers fall back to a named file */
#ifndef EOPNOTSUPP
#define EOPNOTSUPP 130
#endif
#ifndef ELOOP
#define ELOOP 114
#endif

int l4s_open(const char *path, int flags, ...);
int l4s_close(int fd);
ssize_t l4s_pread(int fd, void *buf, size_t n, int64_t off);
ssize_t l4s_pwrite(int fd, const void *buf, size_t n, int64_t off);
ssize_t l4s_read(int fd, void *buf, size_t n);
ssize_t l4s_write(int fd, const void *buf, size_t n);
int l4s_fsync(int fd);
int l4s_dup(int fd);
int l4s_isatty(int fd);
#define open l4s_open
#define close l4s_close
#define pread l4s_pread
#define pwrite l4s_pwrite
#define read l4s_read
#define write l4s_write
#define fsync l4s_fsync
#define dup l4s_dup
#define isatty l4s_isatty

/* ---- *at(): a directory descriptor remembers its path */
#define AT_FDCWD (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_SYMLINK_FOLLOW 0x400
#define AT_EMPTY_PATH 0x1000
#define AT_REMOVEDIR 0x200
int l4s_openat(int dirfd, const char *name, int flags, ...);
int l4s_fstatat(int dirfd, const char *name, struct l4s_stat *st, int flags);
int l4s_unlinkat(int dirfd, const char *name, int flags);
int l4s_renameat(int olddir, const char *oldname, int newdir, const char *newname);
int l4s_linkat(int olddir, const char *oldname, int newdir, const char *newname, int flags);
#define openat l4s_openat
#define fstatat l4s_fstatat
#define unlinkat l4s_unlinkat
#define renameat l4s_renameat
#define linkat l4s_linkat

/* ---- paths */
int l4s_mkdir(const char *path, mode_t mode);
int l4s_unlink(const char *path);
int l4s_rename(const char *from, const char *to);
int l4s_access(const char *path, int mode);
char *l4s_realpath(const char *path, char *resolved);
FILE *l4s_fopen(const char *path, const char *mode);
#define mkdir l4s_mkdir
#define unlink l4s_unlink
#define rename l4s_rename
#define access l4s_access
#define realpath l4s_realpath
#define fopen l4s_fopen

/* ---- ownership, modes, times, attributes: kept by ReplaceFileW on Windows */
int l4s_fchown(int fd, uid_t u, gid_t g);
int l4s_fchmod(int fd, mode_t m);
#define UTIME_NOW  ((1L << 30) - 1L)
#define UTIME_OMIT ((1L << 30) - 2L)
int l4s_futimens(int fd, const struct timespec ts[2]);
#define fchown l4s_fchown
#define fchmod l4s_fchmod
#define futimens l4s_futimens
#define flistxattr(fd, list, n) ((void)(fd), (void)(list), (void)(n), (ssize_t)0)
#define fgetxattr(fd, nm, v, n) ((void)(fd), (void)(nm), (void)(v), (void)(n), (ssize_t)-1)
#define fsetxattr(fd, nm, v, n, f) ((void)(fd), (void)(nm), (void)(v), (void)(n), (void)(f), -1)

/* ---- locks: LockFileEx on the whole file */
#define LOCK_SH 1
#define LOCK_EX 2
#define LOCK_NB 4
#define LOCK_UN 8
int l4s_flock(int fd, int op);
#define flock l4s_flock

/* ---- directories: FindFirstFileExW (large fetch); d_type from attributes */
#undef DT_UNKNOWN
#define DT_UNKNOWN 0
#define DT_FIFO 1
#define DT_CHR 2
#define DT_DIR 4
#define DT_REG 8
#define DT_LNK 10
struct l4s_dirent {
	unsigned char d_type;
	char d_name[1024]; /* UTF-8; a 255-unit UTF-16 name fits */
};
typedef struct l4s_dir l4s_DIR;
l4s_DIR *l4s_opendir(const char *path);
struct l4s_dirent *l4s_readdir(l4s_DIR *d);
int l4s_closedir(l4s_DIR *d);
#define DIR l4s_DIR
#define dirent l4s_dirent
#define opendir l4s_opendir
#define readdir l4s_readdir
#define closedir l4s_closedir

/* ---- processes, system */
#define _SC_NPROCESSORS_ONLN 84
long l4s_sysconf(int name);
#define sysconf l4s_sysconf
#define geteuid() 1u
#define getuid() 1u
static inline int l4s_posix_fadvise(int fd, int64_t off, int64_t len, int adv)
{
	(void)fd, (void)off, (void)len, (void)adv;
	return 0; /* no such advice on Windows */
}
#define posix_fadvise l4s_posix_fadvise
#define POSIX_FADV_DONTNEED 4
int l4s_gethostname(char *name, int n);
#define gethostname l4s_gethostname
ssize_t l4s_getrandom(void *buf, size_t n, unsigned flags);
#define getrandom l4s_getrandom

/* ---- libc functions mingw-w64 lacks */
void *l4s_memmem(const void *h, size_t hl, const void *n, size_t nl);
#define memmem l4s_memmem
ssize_t l4s_getline(char **line, size_t *cap, FILE *f);
#define getline l4s_getline
char *l4s_strndup(const char *s, size_t n);
#define strndup l4s_strndup
void *l4s_memrchr(const void *s, int c, size_t n);
#define memrchr l4s_memrchr
char *l4s_strcasestr(const char *h, const char *n);
#define strcasestr l4s_strcasestr
#define FNM_NOMATCH 1
int l4s_fnmatch(const char *pat, const char *s, int flags);
#define fnmatch l4s_fnmatch
FILE *l4s_open_memstream(char **ptr, size_t *size);
#define open_memstream l4s_open_memstream
int l4s_fclose(FILE *f); /* fclose, which also finishes an open_memstream */
#define fclose l4s_fclose

/* ---- used by the Windows-only files */
/* UTF-8 -> UTF-16 with the \\?\ prefix for absolute paths ('/' become '\');
 * NULL (errno EINVAL) for invalid UTF-8.  Caller frees. */
wchar_t *l4s_wpath(const char *path);
/* UTF-16 -> UTF-8 (the \\?\ prefix dropped); caller frees. */
char *l4s_utf8(const wchar_t *w);
/* errno for a Win32 error code. */
int l4s_errno_from_win32(unsigned long e);
/* The FindFirstFileExW pattern listing directory dir ("dir\*", as
 * l4s_wpath makes it); NULL (errno EINVAL) for invalid UTF-8.  Caller frees. */
wchar_t *l4s_wlist_pattern(const char *dir);
/* A listed entry's type (DT_LNK for symbolic links, junctions and volume
 * mount points) from its attributes and reparse tag (dwReserved0). */
unsigned char l4s_dtype(unsigned long attrs, unsigned long reserved0);

#endif
