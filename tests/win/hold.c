/* tests/win/hold.c - a stand-in for a JVM on Windows, for t_windows: opens
 * a file the way java.exe opens a jar on its classpath (read, shared for
 * reading and writing but not for deletion, so it cannot be replaced), says
 * "holding" on stdout, and keeps it open until its stdin is closed. */
#include <windows.h>
#include <stdio.h>

int wmain(int argc, wchar_t **argv)
{
	if (argc != 2)
		return 2;
	HANDLE h = CreateFileW(argv[1], GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
			       FILE_ATTRIBUTE_NORMAL, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		printf("cannot open: %lu\n", GetLastError());
		return 1;
	}
	printf("holding\n");
	fflush(stdout);
	char b[16];
	DWORD n;
	while (ReadFile(GetStdHandle(STD_INPUT_HANDLE), b, sizeof b, &n, NULL) && n)
		;
	CloseHandle(h);
	return 0;
}
