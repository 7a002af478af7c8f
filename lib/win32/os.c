/* lib/win32/os.c - the POSIX subset of lib/win32/posix.h over Win32.
 *
 * Paths cross this boundary as UTF-8 and are converted to UTF-16 here, and
 * only here (l4s_wpath / l4s_utf8); absolute paths get the \\?\ prefix so
 * that paths longer than MAX_PATH work, and '/' is turned into '\' (the
 * prefix disables the API's own normalisation).  File descriptors are CRT
 * descriptors wrapping Win32 handles (_open_osfhandle), so the shared code's
 * `int fd` works unchanged; all I/O on them goes straight to ReadFile /
 * WriteFile, pread with an OVERLAPPED offset.  Each descriptor remembers the
 * path it was opened with, which is what the *at() calls and the
 * "/proc/self/fd/N" idiom of fix_io.c and fix_backup.c resolve against.
 * System facts, the libc gaps and the mmap/ioctl stand-ins are os_libc.c. */
#include "win32/os_internal.h"

/* ---- UTF-8 <-> UTF-16 */

char *l4s_utf8(const wchar_t *w)
{
	if (!wcsncmp(w, L"\\\\?\\UNC\\", 8)) {
		/* \\?\UNC\server\share -> \\server\share */
		char *rest = l4s_utf8(w + 7);
		if (rest)
			rest[0] = '\\';
		size_t n = strlen(rest);
		char *o = xmalloc(n + 2);
		o[0] = '\\';
		memcpy(o + 1, rest, n + 1);
		free(rest);
		return o;
	}
	if (!wcsncmp(w, L"\\\\?\\", 4))
		w += 4;
	int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
	if (n <= 0)
		return xstrdup("");
	char *s = xmalloc((size_t)n);
	WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
	return s;
}

static wchar_t *widen(const char *s)
{
	int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
	if (n <= 0) {
		errno = EINVAL;
		return NULL;
	}
	wchar_t *w = xmalloc((size_t)n * sizeof *w);
	MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
	return w;
}

wchar_t *l4s_wpath(const char *path)
{
	if (!*path) {
		errno = ENOENT;
		return NULL;
	}
	wchar_t *w = widen(path);
	if (!w)
		return NULL;
	for (wchar_t *p = w; *p; p++)
		if (*p == L'/')
			*p = L'\\';
	if (!wcsncmp(w, L"\\\\?\\", 4) || !wcsncmp(w, L"\\\\.\\", 4))
		return w;
	/* Relative paths and drive-relative ones: made absolute first (the
	 * prefix turns off the API's own resolution of ".", ".." and cwd). */
	DWORD n = GetFullPathNameW(w, 0, NULL, NULL);
	if (!n) {
		free(w);
		errno = ENOENT;
		return NULL;
	}
	wchar_t *full = xmalloc(((size_t)n + 8) * sizeof *full);
	GetFullPathNameW(w, n, full + 8, NULL);
	free(w);
	wchar_t *p = full + 8;
	if (p[0] == L'\\' && p[1] == L'\\') { /* \\server\share -> \\?\UNC\server\share */
		memcpy(full + 2, L"\\\\?\\UNC", 7 * sizeof *full);
		memmove(full + 9, p + 2, (wcslen(p + 2) + 1) * sizeof *full);
		return full;
	}
	memcpy(full + 4, L"\\\\?\\", 4 * sizeof *full);
	memmove(full, full + 4, (wcslen(full + 4) + 1) * sizeof *full);
	return full;
}

int l4s_errno_from_win32(unsigned long e)
{
	switch (e) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_INVALID_DRIVE:
	case ERROR_BAD_NETPATH:
	case ERROR_BAD_NET_NAME:
	case ERROR_INVALID_NAME:
	case ERROR_DIRECTORY:
		return ENOENT;
	case ERROR_ACCESS_DENIED:
	case ERROR_PRIVILEGE_NOT_HELD:
		return EACCES;
	case ERROR_SHARING_VIOLATION:
	case ERROR_LOCK_VIOLATION:
	case ERROR_USER_MAPPED_FILE:
	case ERROR_UNABLE_TO_REMOVE_REPLACED:
	case ERROR_UNABLE_TO_MOVE_REPLACEMENT:
	case ERROR_UNABLE_TO_MOVE_REPLACEMENT_2:
		return EBUSY;
	case ERROR_FILE_EXISTS:
	case ERROR_ALREADY_EXISTS:
		return EEXIST;
	case ERROR_DISK_FULL:
	case ERROR_HANDLE_DISK_FULL:
		return ENOSPC;
	case ERROR_WRITE_PROTECT:
		return EROFS;
	case ERROR_NOT_SAME_DEVICE:
		return EXDEV;
	case ERROR_CANT_RESOLVE_FILENAME:
		return ELOOP;
	case ERROR_FILENAME_EXCED_RANGE:
		return ENAMETOOLONG;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		return ENOMEM;
	case ERROR_DIR_NOT_EMPTY:
		return ENOTEMPTY;
	case ERROR_NOT_SUPPORTED:
	case ERROR_INVALID_FUNCTION:
		return EOPNOTSUPP;
	default:
		return EIO;
	}
}

static int fail(void)
{
	errno = l4s_errno_from_win32(GetLastError());
	return -1;
}

/* ---- descriptor table: the path each descriptor was opened with */

static pthread_mutex_t fdlock = PTHREAD_MUTEX_INITIALIZER;
static char **fdpath;
static bool *fdappend;
static size_t nfdpath;

static void fd_remember(int fd, const char *path, bool append)
{
	if (fd < 0)
		return;
	pthread_mutex_lock(&fdlock);
	if ((size_t)fd >= nfdpath) {
		size_t n = (size_t)fd + 64;
		fdpath = xrealloc(fdpath, n * sizeof *fdpath);
		fdappend = xrealloc(fdappend, n * sizeof *fdappend);
		memset(fdpath + nfdpath, 0, (n - nfdpath) * sizeof *fdpath);
		memset(fdappend + nfdpath, 0, (n - nfdpath) * sizeof *fdappend);
		nfdpath = n;
	}
	free(fdpath[fd]);
	fdpath[fd] = path ? xstrdup(path) : NULL;
	fdappend[fd] = append;
	pthread_mutex_unlock(&fdlock);
}

static bool fd_append(int fd)
{
	pthread_mutex_lock(&fdlock);
	bool a = fd >= 0 && (size_t)fd < nfdpath && fdappend[fd];
	pthread_mutex_unlock(&fdlock);
	return a;
}

/* The path a descriptor was opened with (a copy), or NULL. */
static char *fd_path(int fd)
{
	char *p = NULL;
	pthread_mutex_lock(&fdlock);
	if (fd >= 0 && (size_t)fd < nfdpath && fdpath[fd])
		p = xstrdup(fdpath[fd]);
	pthread_mutex_unlock(&fdlock);
	return p;
}

static HANDLE fd_handle(int fd)
{
	return (HANDLE)_get_osfhandle(fd);
}

/* dirfd + name -> a path, or NULL (errno set). */
static char *at_path(int dirfd, const char *name)
{
	if (dirfd == AT_FDCWD || (name[0] && (name[0] == '/' || name[0] == '\\' || name[1] == ':')))
		return xstrdup(name);
	char *d = fd_path(dirfd);
	if (!d) {
		errno = EBADF;
		return NULL;
	}
	struct buf b = BUF_INIT;
	buf_adds(&b, d);
	free(d);
	if (strcmp(name, ".")) {
		if (b.len && b.data[b.len - 1] != '\\' && b.data[b.len - 1] != '/')
			buf_addc(&b, '\\');
		buf_adds(&b, name);
	}
	return buf_detach(&b);
}

/* ---- open */

static int open_mode(const char *path, int flags)
{
	if (flags & O_TMPFILE) {
		errno = EOPNOTSUPP;
		return -1;
	}
	wchar_t *w = l4s_wpath(path);
	if (!w)
		return -1;
	DWORD access = 0;
	switch (flags & (O_RDONLY | O_WRONLY | O_RDWR)) {
	case O_WRONLY: access = GENERIC_WRITE; break;
	case O_RDWR: access = GENERIC_READ | GENERIC_WRITE; break;
	default: access = GENERIC_READ; break;
	}
	DWORD disp = OPEN_EXISTING;
	if ((flags & O_CREAT) && (flags & O_EXCL))
		disp = CREATE_NEW;
	else if ((flags & O_CREAT) && (flags & O_TRUNC))
		disp = CREATE_ALWAYS;
	else if (flags & O_CREAT)
		disp = OPEN_ALWAYS;
	else if (flags & O_TRUNC)
		disp = TRUNCATE_EXISTING;
	DWORD fl = FILE_FLAG_BACKUP_SEMANTICS; /* lets directories be opened too */
	if (flags & O_NOFOLLOW)
		fl |= FILE_FLAG_OPEN_REPARSE_POINT;
	HANDLE h = CreateFileW(w, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, disp,
			       fl, NULL);
	free(w);
	if (h == INVALID_HANDLE_VALUE)
		return fail();
	BY_HANDLE_FILE_INFORMATION bi;
	if (GetFileInformationByHandle(h, &bi)) {
		bool isdir = bi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY;
		if ((flags & O_DIRECTORY) && !isdir) {
			CloseHandle(h);
			errno = ENOTDIR;
			return -1;
		}
		if (isdir && (flags & (O_WRONLY | O_RDWR))) {
			CloseHandle(h);
			errno = EISDIR;
			return -1;
		}
	}
	int crt = _O_BINARY | (flags & O_APPEND ? _O_APPEND : 0) | ((flags & 3) == O_RDONLY ? _O_RDONLY : 0);
	int fd = _open_osfhandle((intptr_t)h, crt);
	if (fd < 0) {
		CloseHandle(h);
		errno = EMFILE;
		return -1;
	}
	fd_remember(fd, path, flags & O_APPEND);
	return fd;
}

int l4s_open(const char *path, int flags, ...)
{
	/* fix_io.c reopens a descriptor through /proc/self/fd/N to see what a new
	 * reader sees: here the descriptor's own path is opened again (and a
	 * path under /proc is never looked up, which Wine would map to Linux's). */
	if (!strncmp(path, "/proc/self/fd/", 14)) {
		char *p = fd_path(atoi(path + 14));
		if (!p) {
			errno = ENOENT;
			return -1;
		}
		int fd = open_mode(p, flags);
		free(p);
		return fd;
	}
	return open_mode(path, flags);
}

int l4s_openat(int dirfd, const char *name, int flags, ...)
{
	char *p = at_path(dirfd, name);
	if (!p)
		return -1;
	int fd = open_mode(p, flags);
	free(p);
	return fd;
}

int l4s_close(int fd)
{
	fd_remember(fd, NULL, false);
	return _close(fd);
}

int l4s_dup(int fd)
{
	char *p = fd_path(fd);
	int r = _dup(fd);
	if (r >= 0)
		fd_remember(r, p, fd_append(fd));
	free(p);
	return r;
}

int l4s_isatty(int fd)
{
	DWORD m;
	HANDLE h = fd_handle(fd);
	return h != INVALID_HANDLE_VALUE && GetFileType(h) == FILE_TYPE_CHAR && GetConsoleMode(h, &m);
}

/* ---- I/O */

ssize_t l4s_pread(int fd, void *buf, size_t n, int64_t off)
{
	HANDLE h = fd_handle(fd);
	if (h == INVALID_HANDLE_VALUE) {
		errno = EBADF;
		return -1;
	}
	size_t got = 0;
	while (got < n) {
		DWORD want = n - got > (1u << 30) ? (1u << 30) : (DWORD)(n - got), r = 0;
		OVERLAPPED ov = {0};
		uint64_t at = (uint64_t)off + got;
		ov.Offset = (DWORD)at;
		ov.OffsetHigh = (DWORD)(at >> 32);
		if (!ReadFile(h, (char *)buf + got, want, &r, &ov)) {
			DWORD e = GetLastError();
			if (e == ERROR_HANDLE_EOF)
				break;
			if (got)
				break;
			errno = l4s_errno_from_win32(e);
			return -1;
		}
		if (!r)
			break;
		got += r;
	}
	return (ssize_t)got;
}

ssize_t l4s_pwrite(int fd, const void *buf, size_t n, int64_t off)
{
	HANDLE h = fd_handle(fd);
	DWORD want = n > (1u << 30) ? (1u << 30) : (DWORD)n, w = 0;
	OVERLAPPED ov = {0};
	ov.Offset = (DWORD)(uint64_t)off;
	ov.OffsetHigh = (DWORD)((uint64_t)off >> 32);
	if (!WriteFile(h, buf, want, &w, &ov))
		return fail();
	return (ssize_t)w;
}

ssize_t l4s_read(int fd, void *buf, size_t n)
{
	HANDLE h = fd_handle(fd);
	if (h == INVALID_HANDLE_VALUE) {
		errno = EBADF;
		return -1;
	}
	DWORD want = n > (1u << 30) ? (1u << 30) : (DWORD)n, r = 0;
	if (!ReadFile(h, buf, want, &r, NULL)) {
		DWORD e = GetLastError();
		if (e == ERROR_BROKEN_PIPE || e == ERROR_HANDLE_EOF)
			return 0;
		errno = l4s_errno_from_win32(e);
		return -1;
	}
	return (ssize_t)r;
}

ssize_t l4s_write(int fd, const void *buf, size_t n)
{
	HANDLE h = fd_handle(fd);
	if (h == INVALID_HANDLE_VALUE) {
		errno = EBADF;
		return -1;
	}
	DWORD want = n > (1u << 30) ? (1u << 30) : (DWORD)n, w = 0;
	/* O_APPEND (the backup manifest): offset all ones writes at the end. */
	OVERLAPPED ov = {0};
	ov.Offset = ov.OffsetHigh = 0xFFFFFFFF;
	if (!WriteFile(h, buf, want, &w, fd_append(fd) ? &ov : NULL))
		return fail();
	return (ssize_t)w;
}

int l4s_fsync(int fd)
{
	HANDLE h = fd_handle(fd);
	BY_HANDLE_FILE_INFORMATION bi;
	/* A directory: its entries are made durable by MOVEFILE_WRITE_THROUGH
	 * and ReplaceFileW; directories cannot be flushed on Windows. */
	if (GetFileInformationByHandle(h, &bi) && (bi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY))
		return 0;
	if (!FlushFileBuffers(h)) {
		DWORD e = GetLastError();
		if (e == ERROR_ACCESS_DENIED || e == ERROR_INVALID_HANDLE)
			return 0; /* a read-only handle: nothing of ours to flush */
		errno = l4s_errno_from_win32(e);
		return -1;
	}
	return 0;
}

/* ---- stat */

static struct timespec ft_ts(LARGE_INTEGER t)
{
	/* 100 ns ticks since 1601 -> Unix time */
	int64_t v = t.QuadPart - 116444736000000000LL;
	struct timespec ts;
	ts.tv_sec = (time_t)(v / 10000000);
	ts.tv_nsec = (long)(v % 10000000) * 100;
	if (ts.tv_nsec < 0) {
		ts.tv_nsec += 1000000000L;
		ts.tv_sec--;
	}
	return ts;
}

static int stat_handle(HANDLE h, struct l4s_stat *st)
{
	memset(st, 0, sizeof *st);
	DWORD type = GetFileType(h);
	if (type == FILE_TYPE_CHAR || type == FILE_TYPE_PIPE) {
		st->st_mode = type == FILE_TYPE_CHAR ? S_IFCHR : S_IFIFO;
		st->st_nlink = 1;
		return 0;
	}
	BY_HANDLE_FILE_INFORMATION bi;
	FILE_BASIC_INFO basic;
	if (!GetFileInformationByHandle(h, &bi))
		return fail();
	st->st_dev = bi.dwVolumeSerialNumber;
	st->st_ino = ((uint64_t)bi.nFileIndexHigh << 32) | bi.nFileIndexLow;
	st->st_nlink = bi.nNumberOfLinks;
	st->st_size = (int64_t)(((uint64_t)bi.nFileSizeHigh << 32) | bi.nFileSizeLow);
	bool ro = bi.dwFileAttributes & FILE_ATTRIBUTE_READONLY;
	if (bi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) {
		FILE_ATTRIBUTE_TAG_INFO tag;
		if (GetFileInformationByHandleEx(h, FileAttributeTagInfo, &tag, sizeof tag) &&
		    (tag.ReparseTag == IO_REPARSE_TAG_SYMLINK || tag.ReparseTag == IO_REPARSE_TAG_MOUNT_POINT)) {
			st->st_mode = S_IFLNK | 0777;
			st->st_size = 0;
		}
	}
	if (!st->st_mode)
		st->st_mode = (bi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? (S_IFDIR | 0755)
									 : (S_IFREG | (ro ? 0444 : 0644));
	if (GetFileInformationByHandleEx(h, FileBasicInfo, &basic, sizeof basic)) {
		st->st_atim = ft_ts(basic.LastAccessTime);
		st->st_mtim = ft_ts(basic.LastWriteTime);
		st->st_ctim = ft_ts(basic.ChangeTime);
	} else {
		LARGE_INTEGER a, m;
		a.LowPart = bi.ftLastAccessTime.dwLowDateTime;
		a.HighPart = (LONG)bi.ftLastAccessTime.dwHighDateTime;
		m.LowPart = bi.ftLastWriteTime.dwLowDateTime;
		m.HighPart = (LONG)bi.ftLastWriteTime.dwHighDateTime;
		st->st_atim = ft_ts(a);
		st->st_mtim = st->st_ctim = ft_ts(m);
	}
	return 0;
}

int l4s_fstat(int fd, struct l4s_stat *st)
{
	HANDLE h = fd_handle(fd);
	if (h == INVALID_HANDLE_VALUE) {
		errno = EBADF;
		return -1;
	}
	return stat_handle(h, st);
}

static int stat_path(const char *path, struct l4s_stat *st, bool follow)
{
	wchar_t *w = l4s_wpath(path);
	if (!w)
		return -1;
	/* No access asked for: attributes only, whoever has the file open. */
	HANDLE h = CreateFileW(w, FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
			       NULL, OPEN_EXISTING,
			       FILE_FLAG_BACKUP_SEMANTICS | (follow ? 0 : FILE_FLAG_OPEN_REPARSE_POINT), NULL);
	if (h == INVALID_HANDLE_VALUE) {
		DWORD e = GetLastError();
		/* A file opened exclusively (a paging file): its attributes still show. */
		WIN32_FILE_ATTRIBUTE_DATA ad;
		if ((e == ERROR_SHARING_VIOLATION || e == ERROR_ACCESS_DENIED) &&
		    GetFileAttributesExW(w, GetFileExInfoStandard, &ad)) {
			free(w);
			memset(st, 0, sizeof *st);
			st->st_mode = (ad.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? (S_IFDIR | 0755) : (S_IFREG | 0644);
			st->st_nlink = 1;
			st->st_size = (int64_t)(((uint64_t)ad.nFileSizeHigh << 32) | ad.nFileSizeLow);
			return 0;
		}
		free(w);
		errno = l4s_errno_from_win32(e);
		return -1;
	}
	free(w);
	int r = stat_handle(h, st);
	CloseHandle(h);
	return r;
}

int l4s_stat(const char *path, struct l4s_stat *st)
{
	return stat_path(path, st, true);
}

int l4s_lstat(const char *path, struct l4s_stat *st)
{
	return stat_path(path, st, false);
}

int l4s_fstatat(int dirfd, const char *name, struct l4s_stat *st, int flags)
{
	char *p = at_path(dirfd, name);
	if (!p)
		return -1;
	int r = stat_path(p, st, !(flags & AT_SYMLINK_NOFOLLOW));
	free(p);
	return r;
}

/* ---- names */

int l4s_mkdir(const char *path, mode_t mode)
{
	(void)mode; /* the directory inherits its parent's ACL */
	wchar_t *w = l4s_wpath(path);
	if (!w)
		return -1;
	BOOL ok = CreateDirectoryW(w, NULL);
	free(w);
	return ok ? 0 : fail();
}

int l4s_unlink(const char *path)
{
	wchar_t *w = l4s_wpath(path);
	if (!w)
		return -1;
	BOOL ok = DeleteFileW(w);
	free(w);
	return ok ? 0 : fail();
}

int l4s_unlinkat(int dirfd, const char *name, int flags)
{
	char *p = at_path(dirfd, name);
	if (!p)
		return -1;
	int r;
	if (flags & AT_REMOVEDIR) {
		wchar_t *w = l4s_wpath(p);
		r = w && RemoveDirectoryW(w) ? 0 : fail();
		free(w);
	} else {
		r = l4s_unlink(p);
	}
	free(p);
	return r;
}

/* Replace `to` with `from` atomically.  ReplaceFileW keeps the replaced
 * file's ACL, attributes and creation time; when `to` does not exist or
 * ReplaceFileW cannot be used on this volume, MoveFileExW with
 * REPLACE_EXISTING | WRITE_THROUGH.  A file another process has open
 * without FILE_SHARE_DELETE (a JVM running it) is never forced: the call
 * fails with EBUSY and the original stays. */
/* POSIX replaces a file that is open; Windows does not, not even for the
 * process that has it open.  This process's own descriptors on the file
 * being replaced are therefore pointed at NUL first (_dup2): callers never
 * read a file after replacing it (fix_apply.c reads the original before, and
 * only closes it after). */
static void release_own(const wchar_t *wt)
{
	pthread_mutex_lock(&fdlock);
	size_t n = nfdpath;
	pthread_mutex_unlock(&fdlock);
	for (size_t fd = 0; fd < n; fd++) {
		char *p = fd_path((int)fd);
		wchar_t *w = p ? l4s_wpath(p) : NULL;
		if (w && !_wcsicmp(w, wt)) {
			int nul = _open("NUL", _O_RDONLY | _O_BINARY);
			if (nul >= 0) {
				_dup2(nul, (int)fd);
				_close(nul);
				fd_remember((int)fd, NULL, false);
			}
		}
		free(w);
		free(p);
	}
}

/* Is some other program holding the file without sharing deletion? */
static bool held_elsewhere(const wchar_t *wt)
{
	HANDLE h = CreateFileW(wt, DELETE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
			       FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
	if (h != INVALID_HANDLE_VALUE) {
		CloseHandle(h);
		return false;
	}
	return GetLastError() == ERROR_SHARING_VIOLATION;
}

int l4s_rename(const char *from, const char *to)
{
	wchar_t *wf = l4s_wpath(from), *wt = l4s_wpath(to);
	if (!wf || !wt) {
		free(wf);
		free(wt);
		return -1;
	}
	release_own(wt);
	BOOL ok = FALSE;
	DWORD e = 0;
	if (GetFileAttributesW(wt) != INVALID_FILE_ATTRIBUTES) {
		ok = ReplaceFileW(wt, wf, NULL, REPLACEFILE_IGNORE_MERGE_ERRORS, NULL, NULL);
		e = ok ? 0 : GetLastError();
	}
	if (!ok) {
		/* ReplaceFileW refuses while any handle is open on the original,
		 * log4scan's own included; MoveFileExW only when some handle does
		 * not share deletion - a program running the file. */
		ok = MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH);
		e = ok ? 0 : GetLastError();
	}
	free(wf);
	if (!ok) {
		/* in use (sharing violation, mapped): never forced */
		bool busy = e == ERROR_SHARING_VIOLATION || e == ERROR_USER_MAPPED_FILE || e == ERROR_LOCK_VIOLATION ||
			    e == ERROR_UNABLE_TO_REMOVE_REPLACED || (e == ERROR_ACCESS_DENIED && held_elsewhere(wt));
		free(wt);
		errno = busy ? EBUSY : l4s_errno_from_win32(e);
		return -1;
	}
	free(wt);
	return 0;
}

int l4s_renameat(int olddir, const char *oldname, int newdir, const char *newname)
{
	char *a = at_path(olddir, oldname), *b = at_path(newdir, newname);
	int r = a && b ? l4s_rename(a, b) : -1;
	free(a);
	free(b);
	return r;
}

/* linkat(AT_FDCWD, "/proc/self/fd/N", dir, name, AT_SYMLINK_FOLLOW) is how
 * fix.c hard-links an open file into the backup directory: here the
 * descriptor's path is linked with CreateHardLinkW. */
int l4s_linkat(int olddir, const char *oldname, int newdir, const char *newname, int flags)
{
	(void)flags;
	char *src = NULL;
	if (olddir == AT_FDCWD && !strncmp(oldname, "/proc/self/fd/", 14))
		src = fd_path(atoi(oldname + 14));
	else if (*oldname)
		src = at_path(olddir, oldname);
	char *dst = at_path(newdir, newname);
	wchar_t *ws = src ? l4s_wpath(src) : NULL, *wd = dst ? l4s_wpath(dst) : NULL;
	int r;
	if (!ws || !wd) {
		errno = EXDEV;
		r = -1;
	} else {
		r = CreateHardLinkW(wd, ws, NULL) ? 0 : fail();
	}
	free(src);
	free(dst);
	free(ws);
	free(wd);
	return r;
}

int l4s_access(const char *path, int mode)
{
	(void)mode;
	wchar_t *w = l4s_wpath(path);
	if (!w)
		return -1;
	DWORD a = GetFileAttributesW(w);
	free(w);
	return a == INVALID_FILE_ATTRIBUTES ? fail() : 0;
}

char *l4s_realpath(const char *path, char *resolved)
{
	wchar_t *w = l4s_wpath(path);
	if (!w)
		return NULL;
	HANDLE h = CreateFileW(w, 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
			       FILE_FLAG_BACKUP_SEMANTICS, NULL);
	char *out = NULL;
	if (h != INVALID_HANDLE_VALUE) {
		wchar_t fin[32768];
		DWORD n = GetFinalPathNameByHandleW(h, fin, 32768, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
		CloseHandle(h);
		if (n > 0 && n < 32768)
			out = l4s_utf8(fin);
	}
	if (!out) {
		DWORD a = GetFileAttributesW(w);
		if (a == INVALID_FILE_ATTRIBUTES) {
			free(w);
			fail();
			return NULL;
		}
		out = l4s_utf8(w);
	}
	free(w);
	if (resolved) {
		snprintf(resolved, 260, "%s", out);
		free(out);
		return resolved;
	}
	return out;
}

FILE *l4s_fopen(const char *path, const char *mode)
{
	wchar_t *w = l4s_wpath(path), *m = widen(mode);
	FILE *f = NULL;
	if (w && m) {
		/* binary always: reports are written with \n line ends */
		wchar_t mb[16];
		swprintf(mb, 16, L"%ls%ls", m, wcschr(m, L'b') ? L"" : L"b");
		f = _wfopen(w, mb);
	}
	free(w);
	free(m);
	return f;
}

/* ---- ownership, modes, times */

int l4s_fchown(int fd, uid_t u, gid_t g)
{
	(void)fd, (void)u, (void)g;
	return 0; /* the replaced file's owner and ACL are kept by ReplaceFileW */
}

int l4s_fchmod(int fd, mode_t m)
{
	(void)fd, (void)m;
	return 0;
}

int l4s_futimens(int fd, const struct timespec ts[2])
{
	HANDLE h = fd_handle(fd);
	FILETIME ft[2], *p[2] = {NULL, NULL};
	for (int i = 0; i < 2; i++) {
		if (ts[i].tv_nsec == UTIME_OMIT)
			continue;
		int64_t v;
		if (ts[i].tv_nsec == UTIME_NOW) {
			FILETIME now;
			GetSystemTimeAsFileTime(&now);
			ft[i] = now;
		} else {
			v = (int64_t)ts[i].tv_sec * 10000000 + ts[i].tv_nsec / 100 + 116444736000000000LL;
			ft[i].dwLowDateTime = (DWORD)v;
			ft[i].dwHighDateTime = (DWORD)((uint64_t)v >> 32);
		}
		p[i] = &ft[i];
	}
	return SetFileTime(h, NULL, p[0], p[1]) ? 0 : fail();
}

int l4s_flock(int fd, int op)
{
	HANDLE h = fd_handle(fd);
	OVERLAPPED ov = {0};
	if (op & LOCK_UN)
		return UnlockFileEx(h, 0, MAXDWORD, MAXDWORD, &ov) ? 0 : fail();
	DWORD fl = (op & LOCK_EX ? LOCKFILE_EXCLUSIVE_LOCK : 0) | (op & LOCK_NB ? LOCKFILE_FAIL_IMMEDIATELY : 0);
	return LockFileEx(h, fl, 0, MAXDWORD, MAXDWORD, &ov) ? 0 : fail();
}

/* ---- directories */

struct l4s_dir {
	HANDLE h;
	bool first, done;
	WIN32_FIND_DATAW fd;
	struct l4s_dirent de;
};

wchar_t *l4s_wlist_pattern(const char *dir)
{
	wchar_t *w = l4s_wpath(dir);
	if (!w)
		return NULL;
	size_t n = wcslen(w);
	wchar_t *pat = xmalloc((n + 3) * sizeof *pat);
	memcpy(pat, w, n * sizeof *pat);
	if (n && pat[n - 1] != L'\\')
		pat[n++] = L'\\';
	pat[n++] = L'*';
	pat[n] = 0;
	free(w);
	return pat;
}

l4s_DIR *l4s_opendir(const char *path)
{
	wchar_t *pat = l4s_wlist_pattern(path);
	if (!pat)
		return NULL;
	l4s_DIR *d = xcalloc(1, sizeof *d);
	d->h = FindFirstFileExW(pat, FindExInfoBasic, &d->fd, FindExSearchNameMatch, NULL,
				FIND_FIRST_EX_LARGE_FETCH);
	free(pat);
	if (d->h == INVALID_HANDLE_VALUE) {
		DWORD e = GetLastError();
		free(d);
		if (e == ERROR_FILE_NOT_FOUND) { /* an empty root: no "." either */
			d = xcalloc(1, sizeof *d);
			d->h = INVALID_HANDLE_VALUE;
			d->done = true;
			return d;
		}
		errno = e == ERROR_DIRECTORY ? ENOTDIR : l4s_errno_from_win32(e);
		return NULL;
	}
	d->first = true;
	return d;
}

unsigned char l4s_dtype(unsigned long attrs, unsigned long reserved0)
{
	if (attrs & FILE_ATTRIBUTE_REPARSE_POINT &&
	    (reserved0 == IO_REPARSE_TAG_SYMLINK || reserved0 == IO_REPARSE_TAG_MOUNT_POINT))
		return DT_LNK;
	if (attrs & FILE_ATTRIBUTE_DIRECTORY)
		return DT_DIR;
	if (attrs & FILE_ATTRIBUTE_DEVICE)
		return DT_CHR;
	return DT_REG;
}

struct l4s_dirent *l4s_readdir(l4s_DIR *d)
{
	for (;;) {
		if (d->done)
			return NULL;
		if (!d->first && !FindNextFileW(d->h, &d->fd)) {
			d->done = true;
			return NULL;
		}
		d->first = false;
		const wchar_t *n = d->fd.cFileName;
		if (n[0] == L'.' && (!n[1] || (n[1] == L'.' && !n[2])))
			continue;
		if (!WideCharToMultiByte(CP_UTF8, 0, n, -1, d->de.d_name, sizeof d->de.d_name, NULL, NULL))
			continue;
		d->de.d_type = l4s_dtype(d->fd.dwFileAttributes, d->fd.dwReserved0);
		return &d->de;
	}
}

int l4s_closedir(l4s_DIR *d)
{
	if (d->h != INVALID_HANDLE_VALUE)
		FindClose(d->h);
	free(d);
	return 0;
}
