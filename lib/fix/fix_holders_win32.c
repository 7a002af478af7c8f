/* fix_holders_win32.c - for fix on Windows: which processes hold the
 * file about to be replaced, from the Restart Manager (lib/proc/holders.c).
 * Their pids go in the fix record ("restart required"), and their
 * description ("pid 4242 (java.exe, service Tomcat9)") in the message when
 * the file cannot be replaced because one of them has it open.  The Linux
 * counterpart is lib/fix/fix_holders_linux.c. */
#include "fix/fix_internal.h"
#include "proc/holders.h"

void fix_holders_of(struct fixer *fx, const struct stat *st, const char *path, struct fix_result *res,
		    struct buf *who)
{
	(void)fx, (void)st;
	struct holder *h = NULL;
	struct buf err = BUF_INIT;
	long n = holders_query(holders_system(), path, &h, &err);
	buf_free(&err);
	if (n <= 0)
		return;
	res->pids = xrealloc(res->pids, (res->npids + (size_t)n) * sizeof *res->pids);
	for (long i = 0; i < n; i++)
		res->pids[res->npids++] = h[i].pid;
	holders_describe(who, h, (size_t)n);
	holders_free(h, (size_t)n);
}

/* A JVM keeps no class file of an exploded directory open, and the Restart
 * Manager answers only for files that are open: on Windows no holder of a
 * class directory is seen (the README says so). */
void fix_holders_of_dir(struct fixer *fx, const char *dir, struct fix_result *res)
{
	(void)fx, (void)dir, (void)res;
}
