/* cache.c - the incremental-scan cache (see cache.h for the design). */
#include "walk/cache.h"
#include "walk/cache_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAGIC "L4SCACH3" /* version 3: facts */
#define HEADER_LEN 32

struct entry {
	uint64_t key;
	uint64_t stamp;
	uint32_t off;
	uint32_t len;
};

struct cache {
	char *path;
	uint64_t digest;
	/* the previous run's cache, mapped */
	const unsigned char *map;
	size_t map_len;
	const struct entry *old;
	uint64_t nold;
	const char *old_records;
	size_t old_records_len;
	/* this run's */
	pthread_mutex_t lock;
	struct entry *cur;
	size_t ncur, capcur;
	struct buf records;
	bool overflow; /* records exceeded 4 GiB: do not write a cache */
	_Atomic uint64_t hits;
};

uint64_t cache_hash64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t cache_digest(const struct rules *r, const char *agent_version, const struct scan_opts *o)
{
	uint64_t h = cache_hash64(HASH64_INIT, &r->digest, sizeof r->digest);
	h = cache_hash64(h, agent_version, strlen(agent_version));
	uint64_t key[SCAN_OPTS_KEY_MAX];
	size_t n = scan_opts_key(o, key);
	return cache_hash64(h, key, n * sizeof key[0]);
}

static uint64_t key_of(const char *path, const struct stat *st)
{
	uint64_t h = HASH64_INIT;
	uint64_t dev = (uint64_t)st->st_dev, ino = (uint64_t)st->st_ino;
	h = cache_hash64(h, &dev, sizeof dev);
	h = cache_hash64(h, &ino, sizeof ino);
	return cache_hash64(h, path, strlen(path));
}

static uint64_t stamp_of(const struct stat *st)
{
	uint64_t v[5] = {(uint64_t)st->st_size, (uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec,
			 (uint64_t)st->st_ctim.tv_sec, (uint64_t)st->st_ctim.tv_nsec};
	return cache_hash64(HASH64_INIT, v, sizeof v);
}

static uint64_t rd64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

bool cache_header_ok(const unsigned char *p, size_t len, uint64_t digest, uint64_t *n, uint64_t *roff)
{
	if (len < HEADER_LEN)
		return false;
	*n = rd64(p + 16);
	*roff = rd64(p + 24);
	return !memcmp(p, MAGIC, 8) && rd64(p + 8) == digest &&
	       *n <= ((uint64_t)len - HEADER_LEN) / sizeof(struct entry) &&
	       *roff == HEADER_LEN + *n * sizeof(struct entry) && *roff <= (uint64_t)len;
}

struct cache *cache_open(const char *path, uint64_t config_digest, struct buf *err)
{
	struct cache *c = xcalloc(1, sizeof *c);
	c->path = xstrdup(path);
	c->digest = config_digest;
	pthread_mutex_init(&c->lock, NULL);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			buf_printf(err, "cannot open cache %s: %s (starting empty)", path, strerror(errno));
		return c;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= HEADER_LEN) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			const unsigned char *p = m;
			uint64_t n, roff;
			if (cache_header_ok(p, (size_t)st.st_size, config_digest, &n, &roff)) {
				c->map = p;
				c->map_len = (size_t)st.st_size;
				c->old = (const struct entry *)(p + HEADER_LEN);
				c->nold = n;
				c->old_records = (const char *)p + roff;
				c->old_records_len = (size_t)st.st_size - roff;
			} else {
				munmap(m, (size_t)st.st_size);
			}
		}
	}
	close(fd);
	return c;
}

/* ---- record text: fields separated by TAB, one record a line */

static void put_field(struct buf *b, const char *s)
{
	buf_addc(b, '\t');
	for (; s && *s; s++) {
		switch (*s) {
		case '\\': buf_adds(b, "\\\\"); break;
		case '\t': buf_adds(b, "\\t"); break;
		case '\n': buf_adds(b, "\\n"); break;
		case '\r': buf_adds(b, "\\r"); break;
		default: buf_addc(b, *s);
		}
	}
}

/* Split a line into unescaped fields (in place into `store`). */
static size_t split_fields(const char *line, size_t len, char **fields, size_t max, struct buf *store)
{
	buf_reset(store);
	buf_reserve(store, len + max + 1);
	size_t n = 0;
	size_t starts[512];
	starts[n++] = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = line[i];
		if (ch == '\t') {
			buf_addc(store, 0);
			if (n < max && n < 512)
				starts[n++] = store->len;
			continue;
		}
		if (ch == '\\' && i + 1 < len) {
			char e = line[++i];
			ch = e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e;
		}
		buf_addc(store, ch);
	}
	buf_addc(store, 0);
	for (size_t i = 0; i < n; i++)
		fields[i] = store->data + starts[i];
	return n;
}

static const char *static_source(const char *s)
{
	static const char *known[] = {"pom.properties", "manifest", "bytecode", VS_BYTECODE_OVER_METADATA,
				      "unknown"};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (!strcmp(s, known[i]))
			return known[i];
	return "unknown";
}

static const struct rule_cve *cve_by_id(const struct rules *r, const char *id)
{
	for (size_t i = 0; i < r->ncves; i++)
		if (!strcmp(r->cves[i].id, id))
			return &r->cves[i];
	return NULL;
}

static void parse_cves(const struct rules *r, char *list, const struct rule_cve **out, size_t *n)
{
	*n = 0;
	for (char *save, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		const struct rule_cve *c = cve_by_id(r, t);
		if (c && *n < MAX_CVES)
			out[(*n)++] = c;
	}
}

bool cache_restore_records(const struct rules *r, const char *p, size_t len, struct scan_batch *out)
{
	struct buf store = BUF_INIT;
	char *f[512];
	bool ok = true;
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(p + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (p + pos)) : len - pos;
		size_t n = split_fields(p + pos, ll, f, 512, &store);
		pos += ll + 1;
		if (n >= 3 && !strcmp(f[0], "X")) {
			scan_batch_add_error(out, f[1], "%s", f[2]);
		} else if (n >= 19 && !strcmp(f[0], "F")) {
			struct finding fd;
			memset(&fd, 0, sizeof fd);
			fd.path = xstrdup(f[1]);
			fd.comp = !strcmp(f[2], "log4j-1.x") ? COMP_LOG4J1 : COMP_CORE;
			fd.root = xstrdup(f[3]);
			snprintf(fd.version, sizeof fd.version, "%s", f[4]);
			fd.version_source = static_source(f[5]);
			fd.status = (enum status)atoi(f[6]);
			if (fd.status > ST_VULNERABLE)
				fd.status = ST_VULNERABLE;
			parse_cves(r, f[7], fd.cves, &fd.ncves);
			parse_cves(r, f[8], fd.mitigated, &fd.nmitigated);
			snprintf(fd.fixed_in, sizeof fd.fixed_in, "%s", f[9]);
			snprintf(fd.sha256, sizeof fd.sha256, "%s", f[10]);
			snprintf(fd.cd_sha256, sizeof fd.cd_sha256, "%s", f[11]);
			fd.hash_note = f[12][0] ? xstrdup(f[12]) : NULL;
			static const char *sev[] = {"none", "low", "medium", "high", "critical"};
			int worst = 0;
			for (size_t i = 0; i < fd.ncves; i++) {
				int k = rules_severity_rank(rules_severity_of(fd.cves[i]->cvss));
				worst = k > worst ? k : worst;
			}
			fd.severity = sev[worst];
			fd.advice = r->advice[fd.comp];
			/* image fields: empty when the finding is not from an image */
			fd.image = f[13][0] ? xstrdup(f[13]) : NULL;
			fd.tag = f[14][0] ? xstrdup(f[14]) : NULL;
			fd.layer = f[15][0] ? xstrdup(f[15]) : NULL;
			fd.note = f[16][0] ? xstrdup(f[16]) : NULL;
			fd.removed = f[17][0] == '1';
			fd.facts = f[18][0] ? xstrdup(f[18]) : NULL;
			for (size_t i = 19; i < n; i++)
				finding_add_evidence(&fd, "%s", f[i]);
			out->rec = xrealloc(out->rec, (out->n + 1) * sizeof *out->rec);
			memset(&out->rec[out->n], 0, sizeof out->rec[out->n]);
			out->rec[out->n].kind = REC_FINDING;
			out->rec[out->n].f = fd;
			out->n++;
		} else if (ll) {
			ok = false;
		}
	}
	buf_free(&store);
	return ok;
}

bool cache_lookup(struct cache *c, const struct rules *r, const char *path, const struct stat *st,
		  struct scan_batch *out)
{
	if (!c || !c->nold)
		return false;
	uint64_t key = key_of(path, st);
	uint64_t lo = 0, hi = c->nold;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (c->old[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == c->nold || c->old[lo].key != key || c->old[lo].stamp != stamp_of(st))
		return false;
	const struct entry *e = &c->old[lo];
	if ((uint64_t)e->off + e->len > c->old_records_len)
		return false;
	size_t before = out->n;
	if (!cache_restore_records(r, c->old_records + e->off, e->len, out)) {
		/* a damaged entry: forget what was restored and rescan */
		struct scan_batch tail = {out->rec + before, out->n - before};
		for (size_t i = 0; i < tail.n; i++) {
			if (tail.rec[i].kind == REC_FINDING)
				finding_free(&tail.rec[i].f);
			free(tail.rec[i].path);
			free(tail.rec[i].msg);
		}
		out->n = before;
		return false;
	}
	c->hits++;
	/* carry the entry over into this run's cache as it is */
	pthread_mutex_lock(&c->lock);
	if (c->records.len + e->len > UINT32_MAX) {
		c->overflow = true;
	} else {
		if (c->ncur == c->capcur) {
			c->capcur = c->capcur ? c->capcur * 2 : 4096;
			c->cur = xrealloc(c->cur, c->capcur * sizeof *c->cur);
		}
		c->cur[c->ncur] = *e;
		c->cur[c->ncur++].off = (uint32_t)c->records.len;
		buf_add(&c->records, c->old_records + e->off, e->len);
	}
	pthread_mutex_unlock(&c->lock);
	return true;
}

void cache_store(struct cache *c, const char *path, const struct stat *st, const struct scan_batch *b)
{
	struct buf rec = BUF_INIT;
	for (size_t i = 0; i < b->n; i++) {
		const struct scan_record *r = &b->rec[i];
		if (r->kind == REC_ERROR) {
			buf_addc(&rec, 'X');
			put_field(&rec, r->path);
			put_field(&rec, r->msg);
		} else {
			const struct finding *f = &r->f;
			char num[8];
			snprintf(num, sizeof num, "%d", (int)f->status);
			buf_addc(&rec, 'F');
			put_field(&rec, f->path);
			put_field(&rec, rules_component_name(f->comp));
			put_field(&rec, f->root);
			put_field(&rec, f->version);
			put_field(&rec, f->version_source ? f->version_source : "unknown");
			put_field(&rec, num);
			struct buf ids = BUF_INIT;
			for (size_t k = 0; k < f->ncves; k++)
				buf_printf(&ids, "%s%s", k ? "," : "", f->cves[k]->id);
			put_field(&rec, buf_cstr(&ids));
			buf_reset(&ids);
			for (size_t k = 0; k < f->nmitigated; k++)
				buf_printf(&ids, "%s%s", k ? "," : "", f->mitigated[k]->id);
			put_field(&rec, buf_cstr(&ids));
			buf_free(&ids);
			put_field(&rec, f->fixed_in);
			put_field(&rec, f->sha256);
			put_field(&rec, f->cd_sha256);
			put_field(&rec, f->hash_note ? f->hash_note : "");
			put_field(&rec, f->image ? f->image : "");
			put_field(&rec, f->tag ? f->tag : "");
			put_field(&rec, f->layer ? f->layer : "");
			put_field(&rec, f->note ? f->note : "");
			put_field(&rec, f->removed ? "1" : "0");
			put_field(&rec, f->facts ? f->facts : "");
			for (size_t k = 0; k < f->nevidence && k < 500; k++)
				put_field(&rec, f->evidence[k]);
		}
		buf_addc(&rec, '\n');
	}
	struct entry e = {key_of(path, st), stamp_of(st), 0, (uint32_t)rec.len};
	pthread_mutex_lock(&c->lock);
	if (c->records.len + rec.len > UINT32_MAX) {
		c->overflow = true;
	} else {
		e.off = (uint32_t)c->records.len;
		buf_add(&c->records, rec.data ? rec.data : "", rec.len);
		if (c->ncur == c->capcur) {
			c->capcur = c->capcur ? c->capcur * 2 : 4096;
			c->cur = xrealloc(c->cur, c->capcur * sizeof *c->cur);
		}
		c->cur[c->ncur++] = e;
	}
	pthread_mutex_unlock(&c->lock);
	buf_free(&rec);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	return x->key < y->key ? -1 : x->key > y->key;
}

static bool write_all(int fd, const void *p, size_t n)
{
	const unsigned char *b = p;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		b += w;
		n -= (size_t)w;
	}
	return true;
}

bool cache_commit(struct cache *c, struct buf *err)
{
	if (c->overflow) {
		buf_adds(err, "cache would exceed 4 GiB of records; not written");
		return false;
	}
	qsort(c->cur, c->ncur, sizeof *c->cur, cmp_entry);
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s.tmp.%d", c->path, (int)getpid());
	int fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		buf_printf(err, "cannot write cache %s: %s", buf_cstr(&tmp), strerror(errno));
		buf_free(&tmp);
		return false;
	}
	unsigned char h[HEADER_LEN];
	uint64_t n = c->ncur, roff = HEADER_LEN + n * sizeof(struct entry);
	memcpy(h, MAGIC, 8);
	memcpy(h + 8, &c->digest, 8);
	memcpy(h + 16, &n, 8);
	memcpy(h + 24, &roff, 8);
	bool ok = write_all(fd, h, sizeof h) && write_all(fd, c->cur, c->ncur * sizeof *c->cur) &&
		  write_all(fd, c->records.data ? c->records.data : "", c->records.len);
	ok = close(fd) == 0 && ok;
	if (!ok || rename(buf_cstr(&tmp), c->path) < 0) {
		buf_printf(err, "cannot write cache %s: %s", c->path, strerror(errno));
		unlink(buf_cstr(&tmp));
		ok = false;
	}
	buf_free(&tmp);
	return ok;
}

uint64_t cache_hits(const struct cache *c)
{
	return c ? c->hits : 0;
}

void cache_close(struct cache *c)
{
	if (!c)
		return;
	if (c->map)
		munmap((void *)c->map, c->map_len);
	free(c->cur);
	buf_free(&c->records);
	pthread_mutex_destroy(&c->lock);
	free(c->path);
	free(c);
}
