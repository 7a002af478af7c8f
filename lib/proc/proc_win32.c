/* proc_win32.c - proc.h on Windows: processes found from files.
 *
 * Windows gives no /proc, and the usual ways to see what another process
 * has loaded (OpenProcess + module or handle enumeration, duplicating its
 * handles, NtQuerySystemInformation's handle table) are exactly what EDR
 * tamper protection watches for.  So the question is turned around: for
 * each archive on disk that holds Log4j (found by the ordinary scan), the
 * Restart Manager is asked which processes have that file open
 * (lib/proc/holders.c, lib/proc/holders_win32.c).  Each such process becomes one
 * "process" record - pid, command (its image name), start time, the
 * service it runs, the Log4j-bearing jars it holds - followed by the
 * findings of those jars with its pid, in the same JSON as on Linux.
 *
 * Which files: those the current run's scan found (a whole-host `scan`),
 * else those under the roots given to `ps`, else every fixed drive, walked
 * now.  Limits, said in the README: only processes that hold the file open
 * are seen (a JVM keeps its classpath jars open; one that read a jar and
 * closed it is not), and user names and listening ports are not looked up
 * (both would need a handle to the process). */
#include <windows.h>

#include <stdatomic.h>

#include "proc/holders.h"
#include "proc/proc.h"
#include "proc/proc_win32.h"
#include "walk/walk.h"
#include "walk/walk_win32.h"

static void ignore_batch(void *ctx, struct scan_batch *b)
{
	(void)ctx, (void)b;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void iso_time(uint64_t ft, char out[32])
{
	out[0] = 0;
	if (!ft)
		return;
	time_t t = (time_t)((int64_t)(ft - 116444736000000000ULL) / 10000000);
	struct tm tm;
	if (gmtime_r(&t, &tm))
		strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static struct proc_jvm *jvm_for(struct proc_jvm **v, size_t *n, const struct holder *h)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].pid == h->pid)
			return &(*v)[i];
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	struct proc_jvm *j = &(*v)[(*n)++];
	memset(j, 0, sizeof *j);
	j->pid = h->pid;
	j->command = xstrdup(h->image ? h->image : h->app ? h->app : "");
	iso_time(h->start, j->start_time);
	if (h->service) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "service %s", h->service);
		strv_add(&j->notes, &j->nnotes, buf_cstr(&b));
		buf_free(&b);
	}
	if (h->app && *h->app && (!h->image || strcmp(h->app, h->image))) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "application %s", h->app);
		strv_add(&j->notes, &j->nnotes, buf_cstr(&b));
		buf_free(&b);
	}
	strv_add(&j->notes, &j->nnotes, "found by the Restart Manager (processes holding the jar open); "
					 "user and listening ports not looked up on Windows");
	j->status = PST_SAFE;
	return j;
}

static int by_pid(const void *a, const void *b)
{
	const struct proc_jvm *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* The processes holding each file, grouped by process. */
int proc_scan_files(const struct holders_api *api, char **files, size_t nfiles, const struct rules *r,
		    const struct scan_opts *so, struct scan_stats *st, proc_emit_fn emit, void *ctx,
		    struct proc_summary *sum)
{
	struct proc_jvm *v = NULL;
	size_t nv = 0;
	/* Archive work is counted in st; findings once per record emitted. */
	struct scan_stats lst = {0};
	struct scanner *sc = scanner_new(r, so, &lst);
	if (!sc)
		return -1;
	for (size_t i = 0; i < nfiles; i++) {
		if (i && !strcmp(files[i], files[i - 1]))
			continue;
		struct holder *h = NULL;
		struct buf err = BUF_INIT;
		long nh = holders_query(api, files[i], &h, &err);
		buf_free(&err);
		if (nh < 0) {
			sum->denied++;
			continue;
		}
		if (!nh)
			continue;
		struct scan_batch b = {0};
		scan_path(sc, files[i], true, &b);
		for (long k = 0; k < nh; k++) {
			struct proc_jvm *j = jvm_for(&v, &nv, &h[k]);
			bool any = false;
			for (size_t x = 0; x < b.n; x++) {
				const struct scan_record *s = &b.rec[x];
				struct scan_batch *jb = &j->batch;
				jb->rec = xrealloc(jb->rec, (jb->n + 1) * sizeof *jb->rec);
				struct scan_record *d = &jb->rec[jb->n++];
				memset(d, 0, sizeof *d);
				d->kind = s->kind;
				if (s->kind == REC_FINDING) {
					finding_copy(&d->f, &s->f);
					d->f.pid = j->pid;
					any = true;
					enum proc_status ps = s->f.status == ST_VULNERABLE ? PST_VULNERABLE
							      : s->f.status == ST_MITIGATED ? PST_MITIGATED
											      : PST_SAFE;
					if (ps > j->status)
						j->status = ps;
				} else {
					d->path = xstrdup(s->path);
					d->msg = xstrdup(s->msg);
				}
			}
			if (any)
				strv_add(&j->jars, &j->njars, files[i]);
		}
		scan_batch_free(&b);
		holders_free(h, (size_t)nh);
	}
	scanner_free(sc);
	atomic_fetch_add(&st->files, atomic_load(&lst.files));
	atomic_fetch_add(&st->archives, atomic_load(&lst.archives));
	atomic_fetch_add(&st->bytes, atomic_load(&lst.bytes));
	atomic_fetch_add(&st->errors, atomic_load(&lst.errors));
	if (nv > 1)
		qsort(v, nv, sizeof *v, by_pid);
	for (size_t i = 0; i < nv; i++) {
		struct proc_jvm *j = &v[i];
		sum->processes++;
		sum->jvms++;
		sum->status[j->status]++;
		for (size_t x = 0; x < j->batch.n; x++)
			if (j->batch.rec[x].kind == REC_FINDING) {
				sum->findings[j->batch.rec[x].f.status]++;
				atomic_fetch_add(&st->findings[j->batch.rec[x].f.status], 1);
			}
		emit(ctx, j);
		scan_batch_free(&j->batch);
		free(j->command);
		strv_free(j->jars, j->njars);
		strv_free(j->notes, j->nnotes);
		strv_free(j->mitigations, j->nmitigations);
	}
	free(v);
	return 0;
}

int proc_scan_all(const struct rules *r, const struct scan_opts *so, const struct proc_opts *po,
		  struct scan_stats *st, proc_emit_fn emit, void *ctx, struct proc_summary *sum)
{
	char **found = NULL;
	size_t nfound = 0;
	bool walked = walk_win32_found(&found, &nfound);
	if (po->nroots || !walked) {
		struct walk_opts wo = {0};
		wo.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
		wo.whole_host = po->nroots == 0;
		struct walk_result wr;
		struct scan_stats wst = {0};
		if (walk_run(po->roots, po->nroots, &wo, r, so, &wst, ignore_batch, NULL, &wr) < 0)
			return -1;
		walk_result_free(&wr);
		/* the search for jars is part of this view's work */
		atomic_fetch_add(&st->files, atomic_load(&wst.files));
		atomic_fetch_add(&st->archives, atomic_load(&wst.archives));
		atomic_fetch_add(&st->bytes, atomic_load(&wst.bytes));
		atomic_fetch_add(&st->errors, atomic_load(&wst.errors));
		walk_win32_found(&found, &nfound);
	}
	char **files = xcalloc(nfound ? nfound : 1, sizeof *files);
	memcpy(files, found, nfound * sizeof *files);
	qsort(files, nfound, sizeof *files, cmp_str);
	int rc = proc_scan_files(holders_system(), files, nfound, r, so, st, emit, ctx, sum);
	free(files);
	return rc;
}

int proc_scan_one(long pid, const struct rules *r, const struct scan_opts *so, const struct proc_opts *po,
		  struct scan_stats *st, proc_emit_fn emit, void *ctx, struct proc_summary *sum)
{
	(void)pid, (void)r, (void)so, (void)po, (void)st, (void)emit, (void)ctx, (void)sum;
	return -1; /* processes are found from files on Windows, never by pid */
}

char *proc_container_id(const char *cgroup_text)
{
	(void)cgroup_text;
	return NULL;
}
