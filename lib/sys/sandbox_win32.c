/* sandbox_win32.c - sandbox.h on Windows.
 *
 * There is no seccomp on Windows: sandbox_install() does nothing and says
 * so only in the README (the Windows agent's guarantees come from its code:
 * it never opens another process, see lib/proc/holders_win32.c).
 * sandbox_priority_lower() enters background processing mode
 * (SetPriorityClass(PROCESS_MODE_BACKGROUND_BEGIN)): low CPU priority and
 * very low I/O and memory priority for this process, the polite mode
 * Windows designed for indexers and scanners.  Where that mode is not
 * available it falls back to IDLE_PRIORITY_CLASS (CPU only). */
#include <windows.h>

#include "sys/sandbox.h"

int sandbox_install(const struct sandbox_opts *o, struct buf *err)
{
	(void)o, (void)err;
	return 0;
}

int sandbox_priority_lower(struct buf *err)
{
	if (SetPriorityClass(GetCurrentProcess(), PROCESS_MODE_BACKGROUND_BEGIN))
		return 0;
	DWORD e = GetLastError();
	if (SetPriorityClass(GetCurrentProcess(), IDLE_PRIORITY_CLASS))
		return 0; /* CPU priority lowered; I/O priority unchanged */
	buf_printf(err, "SetPriorityClass failed (error %lu)", (unsigned long)e);
	return -1;
}
