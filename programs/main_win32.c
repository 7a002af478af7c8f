/* main_win32.c - the Windows entry point: wmain receives the command
 * line in UTF-16; it is converted to UTF-8 here, once, and handed to the
 * agent's ordinary main (programs/log4scan.c, compiled as l4s_main), so
 * every path inside the program is UTF-8 as on Linux.  Standard streams are
 * binary (reports end lines with \n on every platform) and the console
 * shows UTF-8. */
#include <windows.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/buf.h"

int l4s_main(int argc, char **argv);

int wmain(int argc, wchar_t **wargv)
{
	_setmode(0, _O_BINARY);
	_setmode(1, _O_BINARY);
	_setmode(2, _O_BINARY);
	_fmode = _O_BINARY;
	SetConsoleOutputCP(CP_UTF8);
	/* No "insert a disk" or "application error" boxes from a scan. */
	SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOOPENFILEERRORBOX);
	char **argv = xcalloc((size_t)argc + 1, sizeof *argv);
	for (int i = 0; i < argc; i++) {
		int n = WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, NULL, 0, NULL, NULL);
		argv[i] = xmalloc(n > 0 ? (size_t)n : 1);
		argv[i][0] = 0;
		if (n > 0)
			WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, argv[i], n, NULL, NULL);
	}
	int rc = l4s_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	return rc;
}
