/* image.c - container images at rest (see image.h for the design).
 *
 * Documents are parsed with jansson.  Layer bookkeeping for whiteouts is
 * three sets of 64-bit path hashes per layer (whiteouts, opaque
 * directories, non-directory entries), so memory grows with the number of
 * entries of a layer, never with its bytes.  The hook given to the tar
 * entry scanner for a layer fills those sets and maps each record the
 * scanner adds back to the layer entry it came from. */
#include "scan/image.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan/scan_internal.h"
#include "util/longpath.h"

#define META_MAX (4u << 20)          /* one JSON document */
#define META_TOTAL (64ull << 20)     /* all documents of one tarball */
#define MAX_LAYERS 4096
#define MAX_IMAGES 4096
#define MAX_LINKS 65536
#define INDEX_DEPTH 4

/* ---- small helpers */

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h ? h : 1;
}

struct hset {
	uint64_t *v;
	size_t cap, n;
};

static bool hset_has(const struct hset *h, uint64_t k)
{
	if (!h->cap)
		return false;
	for (size_t i = (size_t)k & (h->cap - 1);; i = (i + 1) & (h->cap - 1)) {
		if (h->v[i] == k)
			return true;
		if (!h->v[i])
			return false;
	}
}

static void hset_add(struct hset *h, uint64_t k)
{
	if ((h->n + 1) * 2 > h->cap) {
		struct hset g = {xcalloc(h->cap ? h->cap * 2 : 64, sizeof *g.v), h->cap ? h->cap * 2 : 64, 0};
		for (size_t i = 0; i < h->cap; i++)
			if (h->v[i])
				hset_add(&g, h->v[i]);
		free(h->v);
		*h = g;
	}
	size_t i = (size_t)k & (h->cap - 1);
	while (h->v[i] && h->v[i] != k)
		i = (i + 1) & (h->cap - 1);
	if (!h->v[i]) {
		h->v[i] = k;
		h->n++;
	}
}

static void hset_free(struct hset *h)
{
	free(h->v);
	memset(h, 0, sizeof *h);
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !memcmp(s + a - b, suf, b);
}

/* dir + "/" + target, with "." and ".." resolved, no leading '/'. */
static char *resolve(const char *dir, size_t dirlen, const char *target)
{
	struct buf in = BUF_INIT, o = BUF_INIT;
	if (target[0] != '/') {
		buf_add(&in, dir, dirlen);
		buf_addc(&in, '/');
	}
	buf_adds(&in, target);
	const char *p = buf_cstr(&in);
	while (*p) {
		const char *q = strchr(p, '/');
		size_t n = q ? (size_t)(q - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *cut = o.len ? memrchr(o.data, '/', o.len) : NULL;
			o.len = cut ? (size_t)(cut - o.data) : 0;
			if (o.data)
				o.data[o.len] = 0;
		} else {
			if (o.len)
				buf_addc(&o, '/');
			buf_add(&o, p, n);
		}
		p += n;
		if (*p == '/')
			p++;
	}
	buf_free(&in);
	return buf_detach(&o);
}

/* ---- the documents of an image, and where layers are */

struct doc {
	char *name;
	unsigned char *data;
	size_t len;
};

struct link {
	char *name, *target;
};

struct docs {
	struct doc *d;
	size_t n;
	uint64_t bytes;
	struct link *l;
	size_t nl;
	const char *dir; /* layout directory: documents are read from files on demand */
};

static void docs_add(struct docs *ds, const char *name, unsigned char *data, size_t len)
{
	ds->d = xrealloc(ds->d, (ds->n + 1) * sizeof *ds->d);
	ds->d[ds->n++] = (struct doc){xstrdup(name), data, len};
	ds->bytes += len;
}

static const char *follow_links(const struct docs *ds, const char *name)
{
	for (int hop = 0; hop < 8; hop++) {
		const char *next = NULL;
		for (size_t i = 0; i < ds->nl && !next; i++)
			if (!strcmp(ds->l[i].name, name))
				next = ds->l[i].target;
		if (!next)
			break;
		name = next;
	}
	return name;
}

static json_t *doc_json(struct docs *ds, const char *name)
{
	name = follow_links(ds, name);
	for (size_t i = 0; i < ds->n; i++)
		if (!strcmp(ds->d[i].name, name))
			return json_loadb((const char *)ds->d[i].data, ds->d[i].len, 0, NULL);
	if (!ds->dir || strstr(name, "..") || ds->bytes > META_TOTAL)
		return NULL;
	struct buf p = BUF_INIT;
	buf_printf(&p, "%s/%s", ds->dir, name);
	int fd = longpath_open(buf_cstr(&p), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	buf_free(&p);
	struct stat st;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > META_MAX) {
		close(fd);
		return NULL;
	}
	unsigned char *b = xmalloc((size_t)st.st_size + 1);
	ssize_t n = pread(fd, b, (size_t)st.st_size, 0);
	close(fd);
	if (n != st.st_size) {
		free(b);
		return NULL;
	}
	docs_add(ds, name, b, (size_t)n);
	return json_loadb((const char *)b, (size_t)n, 0, NULL);
}

static void docs_free(struct docs *ds)
{
	for (size_t i = 0; i < ds->n; i++) {
		free(ds->d[i].name);
		free(ds->d[i].data);
	}
	free(ds->d);
	for (size_t i = 0; i < ds->nl; i++) {
		free(ds->l[i].name);
		free(ds->l[i].target);
	}
	free(ds->l);
	memset(ds, 0, sizeof *ds);
}

/* ---- images and layers */

struct layer {
	char *entry;         /* entry name in the tarball, file under the layout */
	char *digest;        /* what paths and the layer field show */
	bool scanned;
	struct scan_batch b; /* its records */
	char **from;         /* per record: the layer entry it came from */
	size_t nfrom;
	struct hset wh, opq, files;
};

struct image {
	char *name, *tag;
	size_t *layers;
	size_t n;
};

struct imgset {
	struct layer *l;
	size_t nl;
	struct image *img;
	size_t ni;
	bool truncated;
};

static size_t layer_ref(struct imgset *set, const char *entry, const char *digest)
{
	for (size_t i = 0; i < set->nl; i++)
		if (!strcmp(set->l[i].entry, entry))
			return i;
	if (set->nl >= MAX_LAYERS) {
		set->truncated = true;
		return (size_t)-1;
	}
	set->l = xrealloc(set->l, (set->nl + 1) * sizeof *set->l);
	struct layer *l = &set->l[set->nl];
	memset(l, 0, sizeof *l);
	l->entry = xstrdup(entry);
	l->digest = xstrdup(digest);
	return set->nl++;
}

static struct image *image_new(struct imgset *set)
{
	if (set->ni >= MAX_IMAGES) {
		set->truncated = true;
		return NULL;
	}
	set->img = xrealloc(set->img, (set->ni + 1) * sizeof *set->img);
	struct image *im = &set->img[set->ni++];
	memset(im, 0, sizeof *im);
	return im;
}

static void image_add_layer(struct imgset *set, struct image *im, const char *entry, const char *digest)
{
	size_t k = layer_ref(set, entry, digest);
	if (k == (size_t)-1)
		return;
	im->layers = xrealloc(im->layers, (im->n + 1) * sizeof *im->layers);
	im->layers[im->n++] = k;
}

/* "registry:5000/repo/name:tag" -> name part, tag part (or none); a plain
 * word (an OCI ref.name that is only a tag) is a tag. */
static void parse_ref(struct image *im, const char *ref)
{
	const char *at = strchr(ref, '@');
	size_t end = at ? (size_t)(at - ref) : strlen(ref);
	const char *slash = memrchr(ref, '/', end);
	const char *colon = memrchr(slash ? slash : ref, ':', end - (size_t)((slash ? slash : ref) - ref));
	if (!slash && !colon && !at) {
		im->tag = xstrdup(ref);
		return;
	}
	if (colon) {
		im->name = xstrndup(ref, (size_t)(colon - ref));
		im->tag = xstrndup(colon + 1, end - (size_t)(colon + 1 - ref));
	} else {
		im->name = xstrndup(ref, end);
	}
}

/* "sha256:HEX" -> "blobs/sha256/HEX"; NULL when malformed. */
static char *blob_name(const char *digest)
{
	if (!digest)
		return NULL;
	const char *c = strchr(digest, ':');
	if (!c || c == digest || !c[1])
		return NULL;
	for (const char *p = digest; *p; p++)
		if (p != c && !((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '+' ||
				*p == '-' || *p == '_' || *p == '.' || (*p >= 'A' && *p <= 'F')))
			return NULL;
	if (strstr(digest, ".."))
		return NULL;
	struct buf b = BUF_INIT;
	buf_adds(&b, "blobs/");
	buf_add(&b, digest, (size_t)(c - digest));
	buf_addc(&b, '/');
	buf_adds(&b, c + 1);
	return buf_detach(&b);
}

/* "blobs/ALG/HEX" -> "ALG:HEX"; NULL otherwise. */
static char *digest_of_blob(const char *name)
{
	if (strncmp(name, "blobs/", 6))
		return NULL;
	const char *alg = name + 6, *sl = strchr(alg, '/');
	if (!sl || sl == alg || !sl[1] || strchr(sl + 1, '/'))
		return NULL;
	struct buf b = BUF_INIT;
	buf_add(&b, alg, (size_t)(sl - alg));
	buf_addc(&b, ':');
	buf_adds(&b, sl + 1);
	return buf_detach(&b);
}

/* Image id shown when there is no repository name: the config digest. */
static char *config_id(const char *config)
{
	char *d = digest_of_blob(config);
	if (d)
		return d;
	if (ends_with(config, ".json") && !strchr(config, '/')) {
		struct buf b = BUF_INIT;
		buf_adds(&b, "sha256:");
		buf_add(&b, config, strlen(config) - 5);
		return buf_detach(&b);
	}
	return xstrdup(config);
}

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* docker save: [{"Config":..., "RepoTags":[...], "Layers":[...]}] */
static void parse_docker(struct imgset *set, struct docs *ds, json_t *root)
{
	size_t i;
	json_t *m;
	json_array_foreach(root, i, m)
	{
		json_t *layers = json_object_get(m, "Layers");
		if (!json_is_array(layers))
			continue;
		struct image *im = image_new(set);
		if (!im)
			return;
		const char *config = jstr(m, "Config");
		json_t *tags = json_object_get(m, "RepoTags");
		const char *ref = json_string_value(json_array_get(tags, 0));
		if (ref)
			parse_ref(im, ref);
		if (!im->name)
			im->name = config ? config_id(config) : xstrdup("(unnamed)");
		json_t *cfg = config ? doc_json(ds, config) : NULL;
		json_t *diff = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
		size_t k;
		json_t *l;
		json_array_foreach(layers, k, l)
		{
			const char *name = json_string_value(l);
			if (!name)
				continue;
			char *entry = resolve("", 0, follow_links(ds, name));
			char *d = digest_of_blob(entry);
			const char *di = json_string_value(json_array_get(diff, k));
			image_add_layer(set, im, entry, d ? d : di ? di : entry);
			free(d);
			free(entry);
		}
		json_decref(cfg);
	}
}

/* OCI: an index lists manifests (or further indexes); a manifest lists
 * layers.  Manifests whose blobs are absent (other platforms of a
 * multi-platform index) are passed over. */
static void parse_oci(struct imgset *set, struct docs *ds, json_t *index, const char *ref, int depth)
{
	size_t i;
	json_t *m;
	json_t *list = json_object_get(index, "manifests");
	json_array_foreach(list, i, m)
	{
		json_t *ann = json_object_get(m, "annotations");
		const char *r = jstr(ann, "io.containerd.image.name");
		if (!r)
			r = jstr(ann, "org.opencontainers.image.ref.name");
		if (!r)
			r = ref;
		char *bn = blob_name(jstr(m, "digest"));
		json_t *doc = bn ? doc_json(ds, bn) : NULL;
		free(bn);
		if (!doc)
			continue;
		if (json_is_array(json_object_get(doc, "manifests"))) {
			if (depth < INDEX_DEPTH)
				parse_oci(set, ds, doc, r, depth + 1);
		} else if (json_is_array(json_object_get(doc, "layers"))) {
			struct image *im = image_new(set);
			if (!im) {
				json_decref(doc);
				return;
			}
			if (r)
				parse_ref(im, r);
			if (!im->name) {
				const char *cd = jstr(json_object_get(doc, "config"), "digest");
				im->name = xstrdup(cd ? cd : "(unnamed)");
			}
			size_t k;
			json_t *l;
			json_array_foreach(json_object_get(doc, "layers"), k, l)
			{
				const char *d = jstr(l, "digest");
				char *lb = blob_name(d);
				if (lb)
					image_add_layer(set, im, lb, d);
				free(lb);
			}
		}
		json_decref(doc);
	}
}

static void imgset_free(struct imgset *set)
{
	for (size_t i = 0; i < set->nl; i++) {
		struct layer *l = &set->l[i];
		free(l->entry);
		free(l->digest);
		scan_batch_free(&l->b);
		for (size_t k = 0; k < l->nfrom; k++)
			free(l->from[k]);
		free(l->from);
		hset_free(&l->wh);
		hset_free(&l->opq);
		hset_free(&l->files);
	}
	free(set->l);
	for (size_t i = 0; i < set->ni; i++) {
		free(set->img[i].name);
		free(set->img[i].tag);
		free(set->img[i].layers);
	}
	free(set->img);
	memset(set, 0, sizeof *set);
}

/* Read the documents into images: docker's manifest.json first (it names
 * the tags), else an OCI index.json.  False when there is no image. */
static bool parse_images(struct imgset *set, struct docs *ds)
{
	json_t *root = doc_json(ds, "manifest.json");
	if (json_is_array(root))
		parse_docker(set, ds, root);
	json_decref(root);
	if (!set->ni) {
		root = doc_json(ds, "index.json");
		if (json_is_object(root))
			parse_oci(set, ds, root, NULL, 0);
		json_decref(root);
	}
	return set->ni > 0;
}

/* ---- scanning a layer: whiteouts, entries, and where records came from */

static bool layer_entry(void *ctx, struct archive *a, struct archive_entry *e, const char *name)
{
	struct layer *l = ctx;
	const char *base = strrchr(name, '/');
	size_t dirlen = base ? (size_t)(base - name) : 0;
	base = base ? base + 1 : name;
	if (!strncmp(base, ".wh.", 4)) {
		if (!strcmp(base, ".wh..wh..opq"))
			hset_add(&l->opq, fnv(name, dirlen));
		else if (strncmp(base, ".wh..wh.", 8)) {
			struct buf p = BUF_INIT;
			if (dirlen) {
				buf_add(&p, name, dirlen);
				buf_addc(&p, '/');
			}
			buf_adds(&p, base + 4);
			hset_add(&l->wh, fnv(p.data, p.len));
			buf_free(&p);
		}
		return true; /* whiteouts are markers, never content */
	}
	if (archive_entry_filetype(e) != AE_IFDIR && *name)
		hset_add(&l->files, fnv(name, strlen(name)));
	return false;
}

static void layer_records(void *ctx, const char *name, size_t from, size_t to)
{
	struct layer *l = ctx;
	if (to > l->nfrom) {
		l->from = xrealloc(l->from, to * sizeof *l->from);
		memset(l->from + l->nfrom, 0, (to - l->nfrom) * sizeof *l->from);
		l->nfrom = to;
	}
	for (size_t i = from; i < to; i++) {
		free(l->from[i]);
		l->from[i] = xstrdup(name);
	}
}

/* Which later layer of the image removes entry p of layer k, and how. */
static const struct layer *removed_by(const struct imgset *set, const struct image *im, size_t k,
				      const char *p, const char **how)
{
	size_t plen = strlen(p);
	for (size_t j = k + 1; j < im->n; j++) {
		const struct layer *l = &set->l[im->layers[j]];
		if (l == &set->l[im->layers[k]])
			continue;
		for (size_t i = 1; i <= plen; i++) {
			if (i < plen && p[i] != '/')
				continue;
			uint64_t h = fnv(p, i);
			if (hset_has(&l->wh, h)) {
				*how = "deleted (whiteout)";
				return l;
			}
			if (hset_has(&l->files, h)) {
				*how = "replaced";
				return l;
			}
			if (i < plen && hset_has(&l->opq, h)) {
				*how = "hidden (opaque directory)";
				return l;
			}
		}
	}
	return NULL;
}

/* Hand every image's findings out, layer by layer in manifest order; errors
 * once per layer. */
static void emit_images(struct scanner *s, struct imgset *set, const char *path,
			struct scan_batch *out)
{
	bool *errors_done = xcalloc(set->nl ? set->nl : 1, sizeof *errors_done);
	bool *counted = xcalloc(set->nl ? set->nl : 1, sizeof *counted);
	for (size_t ii = 0; ii < set->ni; ii++) {
		const struct image *im = &set->img[ii];
		for (size_t k = 0; k < im->n; k++) {
			size_t li = im->layers[k];
			struct layer *l = &set->l[li];
			if (!l->scanned) {
				if (!errors_done[li]) {
					struct buf p = BUF_INIT;
					buf_printf(&p, "%s!/%s", path, l->digest);
					scanner_error(s, out, buf_cstr(&p), "layer listed in the image manifest is not in the archive");
					buf_free(&p);
				}
				errors_done[li] = true;
				continue;
			}
			for (size_t i = 0; i < l->b.n; i++) {
				const struct scan_record *r = &l->b.rec[i];
				if (r->kind == REC_ERROR) {
					if (!errors_done[li])
						scan_batch_add_error(out, r->path, "%s", r->msg);
					continue;
				}
				out->rec = xrealloc(out->rec, (out->n + 1) * sizeof *out->rec);
				struct scan_record *d = &out->rec[out->n++];
				memset(d, 0, sizeof *d);
				d->kind = REC_FINDING;
				finding_copy(&d->f, &r->f);
				d->f.image = xstrdup(im->name);
				d->f.tag = im->tag ? xstrdup(im->tag) : NULL;
				d->f.layer = xstrdup(l->digest);
				const char *how = NULL;
				const char *inpath = i < l->nfrom ? l->from[i] : NULL;
				const struct layer *by = inpath ? removed_by(set, im, k, inpath, &how) : NULL;
				if (by) {
					struct buf n = BUF_INIT;
					buf_printf(&n, "present only in layer %s: %s in later layer %s; not in the final image filesystem",
						   l->digest, how, by->digest);
					d->f.note = buf_detach(&n);
					d->f.removed = true;
				}
				/* The scanner counted each finding once; count repeats
				 * (a layer shared by several images) too. */
				if (counted[li])
					atomic_fetch_add(&scanner_stats(s)->findings[d->f.status], 1);
			}
			errors_done[li] = true;
			counted[li] = true;
		}
	}
	free(errors_done);
	free(counted);
}

/* ---- tarballs: pass 1 keeps documents and sets layer candidates aside */

struct pass {
	struct scanner *s;
	const char *path;
	struct scan_batch *out;
	struct docs docs;
	struct hset defer;
	size_t ndefer;
	struct imgset set;
	struct buf ep;
};

static bool layer_candidate(const char *name)
{
	return !strncmp(name, "blobs/", 6) || ends_with(name, "/layer.tar");
}

static bool looks_json(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t')
			continue;
		return p[i] == '{' || p[i] == '[';
	}
	return false;
}

static bool pass1_entry(void *ctx, struct archive *a, struct archive_entry *e, const char *name)
{
	struct pass *p = ctx;
	int type = archive_entry_filetype(e);
	const char *hl = archive_entry_hardlink(e);
	if ((type == AE_IFLNK || hl) && layer_candidate(name) && p->docs.nl < MAX_LINKS) {
		const char *t = hl ? hl : archive_entry_symlink(e);
		if (t) {
			const char *sl = strrchr(name, '/');
			p->docs.l = xrealloc(p->docs.l, (p->docs.nl + 1) * sizeof *p->docs.l);
			p->docs.l[p->docs.nl].name = xstrdup(name);
			/* symlinks are relative to their directory, hard links to the root */
			p->docs.l[p->docs.nl].target = hl ? resolve("", 0, t)
							  : resolve(name, sl ? (size_t)(sl - name) : 0, t);
			p->docs.nl++;
		}
		return false;
	}
	if (type != AE_IFREG || hl)
		return false;
	int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
	bool small = size >= 0 && size <= (int64_t)META_MAX && p->docs.bytes + (uint64_t)size <= META_TOTAL;
	bool top = !strchr(name, '/');
	if (top && small && (ends_with(name, ".json") || !strcmp(name, "oci-layout") || !strcmp(name, "repositories"))) {
		unsigned char *b;
		size_t n;
		struct buf err = BUF_INIT;
		if (tarscan_read_entry(a, e, META_MAX, &b, &n, &err))
			docs_add(&p->docs, name, b, n);
		buf_free(&err);
		return true;
	}
	if (!layer_candidate(name))
		return false;
	if (small && !strncmp(name, "blobs/", 6)) {
		unsigned char *b;
		size_t n;
		struct buf err = BUF_INIT;
		bool ok = tarscan_read_entry(a, e, META_MAX, &b, &n, &err);
		buf_free(&err);
		if (ok && looks_json(b, n)) {
			docs_add(&p->docs, name, b, n);
			return true;
		}
		if (ok)
			free(b);
	}
	hset_add(&p->defer, fnv(name, strlen(name)));
	p->ndefer++;
	return true;
}

static bool pass2_entry(void *ctx, struct archive *a, struct archive_entry *e, const char *name)
{
	struct pass *p = ctx;
	if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) ||
	    !hset_has(&p->defer, fnv(name, strlen(name))))
		return true; /* done in pass 1 */
	for (size_t i = 0; i < p->set.nl; i++) {
		struct layer *l = &p->set.l[i];
		if (strcmp(l->entry, name))
			continue;
		if (!l->scanned) {
			l->scanned = true;
			buf_reset(&p->ep);
			buf_printf(&p->ep, "%s!/%s", p->path, l->digest);
			struct tarscan_hook h = {layer_entry, layer_records, l, false};
			tarscan_nested(p->s, a, buf_cstr(&p->ep), 1, true, &h, &l->b);
		}
		return true;
	}
	buf_reset(&p->ep);
	buf_printf(&p->ep, "%s!/%s", p->path, name);
	tarscan_entry(p->s, a, e, buf_cstr(&p->ep), name, 0, p->out);
	return true;
}

bool image_scan_tar(struct scanner *s, const struct tarscan_src *src, const char *path, bool named,
		    struct scan_batch *out)
{
	struct buf err = BUF_INIT;
	struct archive *a = tarscan_open(src, &err);
	if (!a) {
		if (named)
			scanner_error(s, out, path, "%s", buf_cstr(&err));
		buf_free(&err);
		return named;
	}
	struct pass p = {.s = s, .path = path, .out = out};
	struct tarscan_hook h1 = {pass1_entry, NULL, &p, false};
	bool is_tar = tarscan_stream(s, a, path, 0, named, &h1, out);
	tarscan_close(a);
	if (is_tar && p.ndefer) {
		parse_images(&p.set, &p.docs);
		if (p.set.truncated)
			scanner_error(s, out, path, "more than %d images or layers; the rest not scanned", MAX_IMAGES);
		a = tarscan_open(src, &err);
		if (a) {
			struct tarscan_hook h2 = {pass2_entry, NULL, &p, true};
			tarscan_stream(s, a, path, 0, named, &h2, out);
			tarscan_close(a);
			emit_images(s, &p.set, path, out);
		} else {
			scanner_error(s, out, path, "%s", buf_cstr(&err));
		}
	}
	imgset_free(&p.set);
	docs_free(&p.docs);
	hset_free(&p.defer);
	buf_free(&p.ep);
	buf_free(&err);
	return is_tar;
}

/* ---- OCI layout directories */

bool image_is_layout(int dirfd)
{
	struct stat st;
	return fstatat(dirfd, "oci-layout", &st, 0) == 0 && S_ISREG(st.st_mode) &&
	       fstatat(dirfd, "index.json", &st, 0) == 0 && S_ISREG(st.st_mode) &&
	       fstatat(dirfd, "blobs", &st, 0) == 0 && S_ISDIR(st.st_mode);
}

void image_scan_dir(struct scanner *s, const char *dir, struct scan_batch *out)
{
	scanner_begin(s, 0);
	struct docs ds = {.dir = dir};
	struct imgset set = {0};
	if (!parse_images(&set, &ds)) {
		scanner_error(s, out, dir, "OCI image layout without a readable image (index.json, manifests)");
		goto done;
	}
	if (set.truncated)
		scanner_error(s, out, dir, "more than %d images or layers; the rest not scanned", MAX_IMAGES);
	for (size_t i = 0; i < set.nl; i++) {
		struct layer *l = &set.l[i];
		struct buf lp = BUF_INIT, fp = BUF_INIT, err = BUF_INIT;
		buf_printf(&lp, "%s!/%s", dir, l->digest);
		buf_printf(&fp, "%s/%s", dir, l->entry);
		int fd = longpath_open(buf_cstr(&fp), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
		struct stat st;
		if (fd < 0 && errno == ENOENT) {
			/* left unscanned: reported as missing with the images */
		} else if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			scanner_error(s, &l->b, buf_cstr(&lp), "%s", fd < 0 ? strerror(errno) : "not a regular file");
			l->scanned = true;
		} else {
			atomic_fetch_add(&scanner_stats(s)->bytes, (unsigned long long)st.st_size);
			struct tarscan_src src = {fd, NULL, 0};
			struct archive *a = tarscan_open(&src, &err);
			if (!a) {
				scanner_error(s, &l->b, buf_cstr(&lp), "%s", buf_cstr(&err));
			} else {
				struct tarscan_hook h = {layer_entry, layer_records, l, false};
				tarscan_stream(s, a, buf_cstr(&lp), 1, true, &h, &l->b);
				tarscan_close(a);
			}
			l->scanned = true;
		}
		if (fd >= 0)
			close(fd);
		buf_free(&lp);
		buf_free(&fp);
		buf_free(&err);
	}
	emit_images(s, &set, dir, out);
done:
	imgset_free(&set);
	docs_free(&ds);
}

/* ---- top-level tarballs (scan.c's entry to tar and images) */

static bool path_named(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	return tarscan_name(b, strlen(b));
}

bool image_scan_fd(struct scanner *s, int fd, const unsigned char *head, size_t hn, const char *path,
		 struct scan_batch *out)
{
	bool named = path_named(path);
	if (!named && !tarscan_fd_plausible(fd, head, hn))
		return false;
	struct tarscan_src src = {fd, NULL, 0};
	return image_scan_tar(s, &src, path, named, out);
}

bool image_scan_mem(struct scanner *s, const unsigned char *data, size_t len, const char *path,
		  struct scan_batch *out)
{
	struct tarscan_src src = {-1, data, len};
	return image_scan_tar(s, &src, path, path_named(path), out);
}
