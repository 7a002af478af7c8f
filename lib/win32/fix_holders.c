/* lib/win32/fix_holders.c - for fix on Windows: which processes hold the
 * file about to be replaced, from the Restart Manager (lib/holders.c).
 * Their pids go in the fix record ("restart required"), and their
 * description ("pid 4242 (java.exe, service Tomcat9)") in the message when
 * the file cannot be replaced because one of them has it open. */
#include "holders.h"

void fix_holders_win32(const char *path, long **pids, size_t *npids, struct buf *who);

void fix_holders_win32(const char *path, long **pids, size_t *npids, struct buf *who)
{
	struct holder *h = NULL;
	struct buf err = BUF_INIT;
	long n = holders_query(holders_system(), path, &h, &err);
	buf_free(&err);
	if (n <= 0)
		return;
	*pids = xrealloc(*pids, (*npids + (size_t)n) * sizeof **pids);
	for (long i = 0; i < n; i++)
		(*pids)[(*npids)++] = h[i].pid;
	holders_describe(who, h, (size_t)n);
	holders_free(h, (size_t)n);
}
