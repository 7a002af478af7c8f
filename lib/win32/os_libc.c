/* lib/win32/os_libc.c - the rest of lib/win32/posix.h's POSIX subset over
 * Win32: system facts (CPUs, host name, random bytes), the libc functions
 * the CRT lacks (memmem, getline, memrchr, strcasestr, strndup, fnmatch,
 * open_memstream with its fclose), and the sys/mman.h and sys/ioctl.h
 * stand-ins.  Files, descriptors, paths and directories are os.c. */
#include "win32/os_internal.h"

/* errno from the last Win32 error, -1 (as os.c's) */
static int fail(void)
{
	errno = l4s_errno_from_win32(GetLastError());
	return -1;
}

static HANDLE fd_handle(int fd)
{
	return (HANDLE)_get_osfhandle(fd);
}

/* ---- system */

long l4s_sysconf(int name)
{
	if (name != _SC_NPROCESSORS_ONLN)
		return -1;
	SYSTEM_INFO si;
	GetSystemInfo(&si);
	return si.dwNumberOfProcessors ? (long)si.dwNumberOfProcessors : 1;
}

int l4s_gethostname(char *name, int n)
{
	wchar_t w[256];
	DWORD len = 256;
	if (!GetComputerNameExW(ComputerNameDnsHostname, w, &len))
		return fail();
	if (!WideCharToMultiByte(CP_UTF8, 0, w, -1, name, n, NULL, NULL))
		return fail();
	return 0;
}

ssize_t l4s_getrandom(void *buf, size_t n, unsigned flags)
{
	(void)flags;
	if (BCryptGenRandom(NULL, buf, (ULONG)n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) {
		errno = EIO;
		return -1;
	}
	return (ssize_t)n;
}

/* ---- libc gaps */

void *l4s_memmem(const void *h, size_t hl, const void *n, size_t nl)
{
	if (!nl)
		return (void *)h;
	const unsigned char *p = h, *e = p + hl;
	while (hl >= nl) {
		const unsigned char *q = memchr(p, *(const unsigned char *)n, hl - nl + 1);
		if (!q)
			return NULL;
		if (!memcmp(q, n, nl))
			return (void *)q;
		hl = (size_t)(e - q - 1);
		p = q + 1;
	}
	return NULL;
}

ssize_t l4s_getline(char **line, size_t *cap, FILE *f)
{
	size_t n = 0;
	int c;
	while ((c = getc(f)) != EOF) {
		if (n + 2 > *cap) {
			*cap = *cap ? *cap * 2 : 256;
			*line = xrealloc(*line, *cap);
		}
		(*line)[n++] = (char)c;
		if (c == '\n')
			break;
	}
	if (!n)
		return -1;
	(*line)[n] = 0;
	return (ssize_t)n;
}

void *l4s_memrchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;
	while (n--)
		if (p[n] == (unsigned char)c)
			return (void *)(p + n);
	return NULL;
}

char *l4s_strcasestr(const char *h, const char *n)
{
	size_t nl = strlen(n);
	for (; *h; h++)
		if (!_strnicmp(h, n, nl))
			return (char *)h;
	return nl ? NULL : (char *)h;
}

char *l4s_strndup(const char *s, size_t n)
{
	return xstrndup(s, strnlen(s, n));
}

/* fnmatch(3) without flags: * ? [...] and \ escapes; '*' also matches
 * separators, as fnmatch without FNM_PATHNAME does.  Case-insensitive, as
 * Windows file names are. */
static int lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c == '/' ? '\\' : c;
}

int l4s_fnmatch(const char *p, const char *s, int flags)
{
	(void)flags;
	for (;; p++, s++) {
		switch (*p) {
		case 0:
			return *s ? FNM_NOMATCH : 0;
		case '?':
			if (!*s)
				return FNM_NOMATCH;
			break;
		case '*':
			while (*p == '*')
				p++;
			if (!*p)
				return 0;
			for (; *s; s++)
				if (!l4s_fnmatch(p, s, flags))
					return 0;
			return FNM_NOMATCH;
		case '[': {
			if (!*s)
				return FNM_NOMATCH;
			const char *q = p + 1;
			bool neg = *q == '!' || *q == '^', hit = false;
			if (neg)
				q++;
			for (bool first = true; *q && (first || *q != ']'); q++, first = false) {
				if (q[1] == '-' && q[2] && q[2] != ']') {
					if (lc((unsigned char)*s) >= lc((unsigned char)q[0]) &&
					    lc((unsigned char)*s) <= lc((unsigned char)q[2]))
						hit = true;
					q += 2;
				} else if (lc((unsigned char)*q) == lc((unsigned char)*s)) {
					hit = true;
				}
			}
			if (!*q) { /* no closing bracket: a literal '[' */
				if (*s != '[')
					return FNM_NOMATCH;
				break;
			}
			if (hit == neg)
				return FNM_NOMATCH;
			p = q;
			break;
		}
		case '\\':
			/* on Windows a backslash is a separator, not an escape */
		default:
			if (lc((unsigned char)*p) != lc((unsigned char)*s))
				return FNM_NOMATCH;
		}
	}
}

/* open_memstream: a temporary file (in %TEMP%, deleted when closed) whose
 * content is copied into *ptr and *size when the stream is closed, by
 * l4s_fclose, which stands for fclose everywhere in the program.  The few
 * open memstreams (one per --submit run) are kept in a short list. */
static pthread_mutex_t memlock = PTHREAD_MUTEX_INITIALIZER;
static struct memstream {
	FILE *f;
	char **ptr;
	size_t *size;
} mems[8];

FILE *l4s_open_memstream(char **ptr, size_t *size)
{
	*ptr = NULL;
	*size = 0;
	wchar_t dir[MAX_PATH + 1], name[MAX_PATH + 1];
	if (!GetTempPathW(MAX_PATH + 1, dir) || !GetTempFileNameW(dir, L"l4s", 0, name)) {
		fail();
		return NULL;
	}
	HANDLE h = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
			       FILE_ATTRIBUTE_TEMPORARY | FILE_FLAG_DELETE_ON_CLOSE, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		fail();
		DeleteFileW(name);
		return NULL;
	}
	int fd = _open_osfhandle((intptr_t)h, _O_RDWR | _O_BINARY);
	FILE *f = fd < 0 ? NULL : _fdopen(fd, "w+b");
	if (!f) {
		if (fd >= 0)
			_close(fd);
		else
			CloseHandle(h);
		errno = EIO;
		return NULL;
	}
	pthread_mutex_lock(&memlock);
	size_t i = 0;
	while (i < sizeof mems / sizeof mems[0] && mems[i].f)
		i++;
	if (i < sizeof mems / sizeof mems[0])
		mems[i] = (struct memstream){f, ptr, size};
	pthread_mutex_unlock(&memlock);
	if (i == sizeof mems / sizeof mems[0]) {
		fclose(f);
		errno = EMFILE;
		return NULL;
	}
	return f;
}

#undef fclose
int l4s_fclose(FILE *f)
{
	struct memstream m = {0};
	pthread_mutex_lock(&memlock);
	for (size_t i = 0; i < sizeof mems / sizeof mems[0]; i++)
		if (f && mems[i].f == f) {
			m = mems[i];
			mems[i].f = NULL;
		}
	pthread_mutex_unlock(&memlock);
	if (m.f) {
		/* copy the content out, as a memstream's reader expects */
		struct buf b = BUF_INIT;
		char chunk[65536];
		size_t n;
		bool ok = fflush(f) == 0 && fseek(f, 0, SEEK_SET) == 0;
		while (ok && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
			buf_add(&b, chunk, n);
		ok &= !ferror(f);
		*m.size = b.len;
		buf_addc(&b, 0);
		*m.ptr = buf_detach(&b);
		int rc = fclose(f);
		return ok ? rc : EOF;
	}
	return fclose(f);
}

/* ---- sys/mman.h and sys/ioctl.h stand-ins */

void *l4s_mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)
{
	(void)addr, (void)prot, (void)flags;
	void *p = malloc(len ? len : 1);
	if (!p)
		return (void *)-1;
	if (l4s_pread(fd, p, len, off) != (ssize_t)len) {
		free(p);
		errno = EIO;
		return (void *)-1;
	}
	return p;
}

int l4s_munmap(void *addr, size_t len)
{
	(void)len;
	free(addr);
	return 0;
}

int l4s_ioctl(int fd, unsigned long req, ...)
{
	struct winsize {
		unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel;
	};
	va_list ap;
	va_start(ap, req);
	struct winsize *ws = va_arg(ap, struct winsize *);
	va_end(ap);
	CONSOLE_SCREEN_BUFFER_INFO ci;
	if (req != 0x5413 || !GetConsoleScreenBufferInfo(fd_handle(fd), &ci)) {
		errno = ENOTTY;
		return -1;
	}
	ws->ws_col = (unsigned short)(ci.srWindow.Right - ci.srWindow.Left + 1);
	ws->ws_row = (unsigned short)(ci.srWindow.Bottom - ci.srWindow.Top + 1);
	ws->ws_xpixel = ws->ws_ypixel = 0;
	return 0;
}
