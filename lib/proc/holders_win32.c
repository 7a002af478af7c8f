/* holders_win32.c - holders.h's system side on Windows: the Restart
 * Manager (rstrtmgr.dll).
 *
 * For one file: RmStartSession, RmRegisterResources with that file only,
 * RmGetList (which answers ERROR_MORE_DATA with the number needed when the
 * buffer is too small: lib/proc/holders.c retries), RmEndSession.  The Restart
 * Manager finds the processes by asking the file system which sessions have
 * the file open, and the service control manager which service each runs;
 * log4scan opens no process, duplicates no handle and never enumerates the
 * system handle table.  The image name of each pid comes from one process
 * list snapshot (CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS): the list Task
 * Manager shows, names and pids only - no process is opened to take it).
 *
 * Strings cross here from UTF-16 to UTF-8.  Under Wine the Restart Manager
 * is a stub, so this file is exercised on real Windows only; the logic
 * around it is unit-tested with a fake (tests/unit/test_holders.c). */
#include <windows.h>
#include <restartmanager.h>
#include <tlhelp32.h>

#include "proc/holders.h"

static int rm_start(void *ctx, void **session)
{
	(void)ctx;
	DWORD h = 0;
	WCHAR key[CCH_RM_SESSION_KEY + 1] = {0};
	DWORD rc = RmStartSession(&h, 0, key);
	*session = (void *)(uintptr_t)h;
	return (int)rc;
}

static int rm_register(void *ctx, void *session, const char *const *paths, size_t n)
{
	(void)ctx;
	LPCWSTR *w = xcalloc(n ? n : 1, sizeof *w);
	DWORD rc = ERROR_SUCCESS;
	for (size_t i = 0; i < n; i++) {
		wchar_t *full = l4s_wpath(paths[i]);
		if (!full) {
			rc = ERROR_INVALID_NAME;
			break;
		}
		/* The Restart Manager takes ordinary full paths; the \\?\ form
		 * only when the path needs it. */
		if (wcslen(full) < MAX_PATH + 4 && !wcsncmp(full, L"\\\\?\\", 4) && full[5] == L':')
			memmove(full, full + 4, (wcslen(full + 4) + 1) * sizeof *full);
		w[i] = full;
	}
	if (rc == ERROR_SUCCESS)
		rc = RmRegisterResources((DWORD)(uintptr_t)session, (UINT)n, w, 0, NULL, 0, NULL);
	for (size_t i = 0; i < n; i++)
		free((void *)w[i]);
	free(w);
	return (int)rc;
}

/* Image names by pid, from one snapshot of the process list. */
static void image_names(struct holder_info *out, size_t n)
{
	HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
	if (snap == INVALID_HANDLE_VALUE)
		return;
	PROCESSENTRY32W pe;
	pe.dwSize = sizeof pe;
	for (BOOL ok = Process32FirstW(snap, &pe); ok; ok = Process32NextW(snap, &pe))
		for (size_t i = 0; i < n; i++)
			if ((DWORD)out[i].pid == pe.th32ProcessID)
				WideCharToMultiByte(CP_UTF8, 0, pe.szExeFile, -1, out[i].image, sizeof out[i].image,
						    NULL, NULL);
	CloseHandle(snap);
}

static int rm_list(void *ctx, void *session, struct holder_info *out, size_t *n, size_t *needed)
{
	(void)ctx;
	UINT need = 0, have = (UINT)*n;
	DWORD reasons = 0;
	RM_PROCESS_INFO *pi = xcalloc(have ? have : 1, sizeof *pi);
	DWORD rc = RmGetList((DWORD)(uintptr_t)session, &need, &have, pi, &reasons);
	*needed = need;
	if (rc == ERROR_MORE_DATA) {
		free(pi);
		*n = 0;
		return HOLDERS_MORE_DATA;
	}
	if (rc != ERROR_SUCCESS) {
		free(pi);
		*n = 0;
		return (int)rc;
	}
	for (UINT i = 0; i < have; i++) {
		struct holder_info *h = &out[i];
		memset(h, 0, sizeof *h);
		h->pid = (long)pi[i].Process.dwProcessId;
		h->start = ((uint64_t)pi[i].Process.ProcessStartTime.dwHighDateTime << 32) |
			   pi[i].Process.ProcessStartTime.dwLowDateTime;
		WideCharToMultiByte(CP_UTF8, 0, pi[i].strAppName, -1, h->app, sizeof h->app, NULL, NULL);
		WideCharToMultiByte(CP_UTF8, 0, pi[i].strServiceShortName, -1, h->service, sizeof h->service,
				    NULL, NULL);
		switch (pi[i].ApplicationType) {
		case RmMainWindow: h->kind = HK_WINDOW; break;
		case RmOtherWindow: h->kind = HK_OTHER_WINDOW; break;
		case RmService: h->kind = HK_SERVICE; break;
		case RmExplorer: h->kind = HK_EXPLORER; break;
		case RmConsole: h->kind = HK_CONSOLE; break;
		case RmCritical: h->kind = HK_CRITICAL; break;
		default: h->kind = HK_UNKNOWN; break;
		}
		h->restartable = pi[i].bRestartable;
	}
	*n = have;
	free(pi);
	image_names(out, have);
	return HOLDERS_OK;
}

static void rm_end(void *ctx, void *session)
{
	(void)ctx;
	RmEndSession((DWORD)(uintptr_t)session);
}

const struct holders_api *holders_system(void)
{
	static struct holders_api api = {rm_start, rm_register, rm_list, rm_end, NULL, 0};
	api.self_pid = (long)GetCurrentProcessId();
	return &api;
}
