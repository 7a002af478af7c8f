/* test_zip.c - unit tests for the ZIP reader (lib/zip.c).
 *
 * Archives are assembled byte by byte by a small writer below (so every
 * field can be set wrong on purpose), then opened both from memory and from
 * a file descriptor.  Covered: STORED and DEFLATED entries, CRC check, data
 * descriptors, prepended data (shift), ZIP64 (with and without prepended
 * data), archive comments containing a fake end record, duplicate and
 * non-UTF-8 names, the caps (entry size, entry count, central directory
 * size), encrypted and unsupported entries, corrupt deflate data, entries
 * whose declared sizes lie, and truncation at every length (refused or
 * "not a zip", never a crash or an over-read under ASan). */
#include <libdeflate.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "unit.h"
#include "zip.h"

static void w16(struct buf *b, unsigned v) { buf_addc(b, (char)(v & 255)); buf_addc(b, (char)(v >> 8 & 255)); }
static void w32(struct buf *b, uint32_t v) { w16(b, v & 0xFFFF); w16(b, v >> 16); }
static void w64(struct buf *b, uint64_t v) { w32(b, (uint32_t)v); w32(b, (uint32_t)(v >> 32)); }

struct ent {
	const char *name;
	size_t name_len;    /* 0: strlen(name) */
	const void *data;
	size_t len;
	int method;         /* 0 stored, 8 deflated, other: written as is (stored bytes) */
	unsigned flags;
	bool descriptor;    /* zeros in the local header, a data descriptor after the data */
	bool zip64;         /* 0xFFFFFFFF in the central directory + ZIP64 extra */
	long crc_delta;     /* added to the real CRC */
	long usize_delta;   /* added to the declared uncompressed size */
};

struct zw {
	struct buf out, cd;
	unsigned n;
	size_t prefix; /* bytes prepended before the archive proper */
};

static void zw_begin(struct zw *z, const char *prefix)
{
	memset(z, 0, sizeof *z);
	if (prefix) {
		buf_adds(&z->out, prefix);
		z->prefix = strlen(prefix);
	}
}

static void zw_add(struct zw *z, const struct ent *e)
{
	size_t nl = e->name_len ? e->name_len : strlen(e->name);
	uint32_t crc = (uint32_t)(libdeflate_crc32(0, e->data, e->len) + (uint32_t)e->crc_delta);
	unsigned char *comp = NULL;
	size_t clen = e->len;
	const void *payload = e->data;
	if (e->method == 8) {
		struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
		size_t bound = libdeflate_deflate_compress_bound(c, e->len);
		comp = malloc(bound);
		clen = libdeflate_deflate_compress(c, e->data, e->len, comp, bound);
		libdeflate_free_compressor(c);
		payload = comp;
	}
	uint64_t usize = (uint64_t)((long)e->len + e->usize_delta);
	/* offsets are written as if the archive started after the prefix */
	uint64_t local = z->out.len - z->prefix;
	unsigned flags = e->flags | (e->descriptor ? 8 : 0);
	w32(&z->out, 0x04034b50);
	w16(&z->out, 20);
	w16(&z->out, flags);
	w16(&z->out, (unsigned)e->method);
	w32(&z->out, 0);
	w32(&z->out, e->descriptor ? 0 : crc);
	w32(&z->out, e->descriptor ? 0 : (uint32_t)clen);
	w32(&z->out, e->descriptor ? 0 : (uint32_t)usize);
	w16(&z->out, (unsigned)nl);
	w16(&z->out, 0);
	buf_add(&z->out, e->name, nl);
	buf_add(&z->out, payload, clen);
	if (e->descriptor) {
		w32(&z->out, 0x08074b50);
		w32(&z->out, crc);
		w32(&z->out, (uint32_t)clen);
		w32(&z->out, (uint32_t)usize);
	}
	w32(&z->cd, 0x02014b50);
	w16(&z->cd, 45);
	w16(&z->cd, 20);
	w16(&z->cd, flags);
	w16(&z->cd, (unsigned)e->method);
	w32(&z->cd, 0);
	w32(&z->cd, crc);
	w32(&z->cd, e->zip64 ? 0xFFFFFFFF : (uint32_t)clen);
	w32(&z->cd, e->zip64 ? 0xFFFFFFFF : (uint32_t)usize);
	w16(&z->cd, (unsigned)nl);
	w16(&z->cd, e->zip64 ? 28 : 0);
	w16(&z->cd, 0);
	w16(&z->cd, 0);
	w16(&z->cd, 0);
	w32(&z->cd, 0);
	w32(&z->cd, e->zip64 ? 0xFFFFFFFF : (uint32_t)local);
	buf_add(&z->cd, e->name, nl);
	if (e->zip64) {
		w16(&z->cd, 1);
		w16(&z->cd, 24);
		w64(&z->cd, usize);
		w64(&z->cd, clen);
		w64(&z->cd, local);
	}
	z->n++;
	free(comp);
}

/* Finish: central directory, (ZIP64 end record + locator), end record. */
static struct buf zw_end(struct zw *z, bool zip64, const char *comment)
{
	uint64_t cd_off = z->out.len - z->prefix;
	buf_add(&z->out, z->cd.data, z->cd.len);
	if (zip64) {
		uint64_t rec = z->out.len - z->prefix;
		w32(&z->out, 0x06064b50);
		w64(&z->out, 44);
		w16(&z->out, 45);
		w16(&z->out, 45);
		w32(&z->out, 0);
		w32(&z->out, 0);
		w64(&z->out, z->n);
		w64(&z->out, z->n);
		w64(&z->out, z->cd.len);
		w64(&z->out, cd_off);
		w32(&z->out, 0x07064b50);
		w32(&z->out, 0);
		w64(&z->out, rec);
		w32(&z->out, 1);
	}
	w32(&z->out, 0x06054b50);
	w16(&z->out, 0);
	w16(&z->out, 0);
	w16(&z->out, zip64 ? 0xFFFF : z->n);
	w16(&z->out, zip64 ? 0xFFFF : z->n);
	w32(&z->out, zip64 ? 0xFFFFFFFF : (uint32_t)z->cd.len);
	w32(&z->out, zip64 ? 0xFFFFFFFF : (uint32_t)cd_off);
	w16(&z->out, comment ? (unsigned)strlen(comment) : 0);
	if (comment)
		buf_adds(&z->out, comment);
	buf_free(&z->cd);
	return z->out;
}

static const struct zip_limits LIM = {1 << 20, 1000};
static struct libdeflate_decompressor *D;

static struct zsrc memsrc(const struct buf *b)
{
	struct zsrc s = {.fd = -1, .mem = (const unsigned char *)b->data, .off = 0, .size = b->len};
	return s;
}

/* Read entry i into a C string (caller frees); NULL with err on failure. */
static char *read_entry(struct zip *z, size_t i, uint64_t max, struct buf *err)
{
	unsigned char *out;
	size_t len;
	buf_reset(err);
	if (!zip_read(z, &z->entries[i], max, D, &out, &len, err))
		return NULL;
	char *s = xstrndup((const char *)out, len);
	free(out);
	return s;
}

static bool entry_is(struct zip *z, size_t i, const char *name)
{
	return i < z->nentries && z->entries[i].name_len == strlen(name) &&
	       !memcmp(z->entries[i].name, name, strlen(name));
}

static const char LOREM[] = "Lorem ipsum dolor sit amet, lorem ipsum dolor sit amet, lorem ipsum dolor sit amet.";

static struct buf basic(const char *prefix, bool zip64, bool descriptor)
{
	struct zw z;
	zw_begin(&z, prefix);
	struct ent a = {.name = "a.txt", .data = "hello", .len = 5, .method = 0, .zip64 = zip64, .descriptor = descriptor};
	struct ent b = {.name = "dir/b.class", .data = LOREM, .len = sizeof LOREM - 1, .method = 8,
			.zip64 = zip64, .descriptor = descriptor};
	struct ent c = {.name = "empty", .data = "", .len = 0, .method = 0, .zip64 = zip64};
	zw_add(&z, &a);
	zw_add(&z, &b);
	zw_add(&z, &c);
	return zw_end(&z, zip64, NULL);
}

static void check_basic(const char *label, const struct zsrc *src, bool want_zip64, int64_t want_shift)
{
	struct zip z;
	struct buf err = BUF_INIT;
	char n[160];
	enum zip_status st = zip_open(&z, src, &LIM, &err);
	snprintf(n, sizeof n, "%s: opens", label);
	CHECK(n, st == ZIP_OK);
	if (st != ZIP_OK) {
		printf("# %s\n", buf_cstr(&err));
		buf_free(&err);
		return;
	}
	snprintf(n, sizeof n, "%s: 3 entries named", label);
	CHECK(n, z.nentries == 3 && entry_is(&z, 0, "a.txt") && entry_is(&z, 1, "dir/b.class") && entry_is(&z, 2, "empty"));
	snprintf(n, sizeof n, "%s: zip64 flag", label);
	CHECK(n, z.zip64 == want_zip64);
	snprintf(n, sizeof n, "%s: shift", label);
	CHECK(n, z.shift == want_shift);
	char *s = read_entry(&z, 0, 100, &err);
	snprintf(n, sizeof n, "%s: stored entry", label);
	CHECK_STR(n, s, "hello");
	free(s);
	s = read_entry(&z, 1, 1000, &err);
	snprintf(n, sizeof n, "%s: deflated entry", label);
	CHECK_STR(n, s, LOREM);
	free(s);
	s = read_entry(&z, 2, 0, &err);
	snprintf(n, sizeof n, "%s: empty entry", label);
	CHECK_STR(n, s, "");
	free(s);
	s = read_entry(&z, 1, 10, &err);
	snprintf(n, sizeof n, "%s: cap refuses a larger entry", label);
	CHECK(n, s == NULL && strstr(buf_cstr(&err), "exceeds"));
	free(s);
	uint64_t off;
	buf_reset(&err);
	snprintf(n, sizeof n, "%s: data offset", label);
	CHECK(n, zip_data_offset(&z, &z.entries[0], &off, &err) && off + 5 <= src->size &&
			 !memcmp((src->mem ? src->mem : (const unsigned char *)"") + (src->mem ? off : 0),
				 src->mem ? "hello" : "", src->mem ? 5 : 0));
	zip_close(&z);
	buf_free(&err);
}

static void test_shapes(void)
{
	struct buf b = basic(NULL, false, false);
	struct zsrc s = memsrc(&b);
	check_basic("plain", &s, false, 0);

	/* the same from a file descriptor */
	char tmpl[] = "/tmp/l4s-test-zip-XXXXXX";
	int fd = mkstemp(tmpl);
	if (fd >= 0 && write(fd, b.data, b.len) == (ssize_t)b.len) {
		struct zsrc f = {.fd = fd, .mem = NULL, .off = 0, .size = b.len};
		check_basic("fd", &f, false, 0);
		/* a window onto the file after 7 junk bytes */
		lseek(fd, 0, SEEK_SET);
		if (write(fd, "JUNKJUN", 7) == 7 && write(fd, b.data, b.len) == (ssize_t)b.len) {
			struct zsrc w = {.fd = fd, .mem = NULL, .off = 7, .size = b.len};
			check_basic("fd window", &w, false, 0);
		}
		/* the file shrinks under the reader */
		if (ftruncate(fd, 20) == 0) {
			struct zsrc g = {.fd = fd, .mem = NULL, .off = 0, .size = b.len};
			struct zip z;
			struct buf err = BUF_INIT;
			CHECK("fd shrunk: refused", zip_open(&z, &g, &LIM, &err) == ZIP_BAD && strstr(buf_cstr(&err), "read error"));
			buf_free(&err);
		}
	} else {
		CHECK("temporary file", false);
	}
	if (fd >= 0)
		close(fd);
	unlink(tmpl);
	buf_free(&b);

	const char *script = "#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n";
	b = basic(script, false, false);
	s = memsrc(&b);
	check_basic("prepended script", &s, false, (int64_t)strlen(script));
	buf_free(&b);

	b = basic(NULL, true, false);
	s = memsrc(&b);
	check_basic("zip64", &s, true, 0);
	buf_free(&b);

	b = basic("PREPENDED", true, false);
	s = memsrc(&b);
	check_basic("zip64 prepended", &s, true, 9);
	buf_free(&b);

	b = basic(NULL, false, true);
	s = memsrc(&b);
	check_basic("data descriptors", &s, false, 0);
	buf_free(&b);

	/* a comment that holds a fake end record */
	struct zw z;
	zw_begin(&z, NULL);
	struct ent a = {.name = "a.txt", .data = "hello", .len = 5};
	zw_add(&z, &a);
	b = zw_end(&z, false, "PK\x05\x06 fake end record in the comment.....");
	s = memsrc(&b);
	struct zip zz;
	struct buf err = BUF_INIT;
	CHECK("comment with fake end record: opens", zip_open(&zz, &s, &LIM, &err) == ZIP_OK &&
							     zz.nentries == 1 && entry_is(&zz, 0, "a.txt"));
	zip_close(&zz);
	buf_free(&b);
	/* trailing junk after the archive: found by the fallback */
	zw_begin(&z, NULL);
	zw_add(&z, &a);
	b = zw_end(&z, false, NULL);
	buf_adds(&b, "trailing junk");
	s = memsrc(&b);
	CHECK("trailing junk: opens", zip_open(&zz, &s, &LIM, &err) == ZIP_OK && zz.nentries == 1);
	char *t = zz.nentries ? read_entry(&zz, 0, 100, &err) : NULL;
	CHECK_STR("trailing junk: entry readable", t, "hello");
	free(t);
	zip_close(&zz);
	buf_free(&b);
	buf_free(&err);
}

static void test_names(void)
{
	struct zw z;
	zw_begin(&z, NULL);
	struct ent a = {.name = "dup.class", .data = "one", .len = 3};
	struct ent b = {.name = "dup.class", .data = "two", .len = 3, .method = 8};
	struct ent c = {.name = "caf\xe9\xff.jar", .data = "x", .len = 1};
	struct ent d = {.name = "nul\0inside", .name_len = 10, .data = "y", .len = 1};
	zw_add(&z, &a);
	zw_add(&z, &b);
	zw_add(&z, &c);
	zw_add(&z, &d);
	struct buf buf = zw_end(&z, false, NULL);
	struct zsrc s = memsrc(&buf);
	struct zip zz;
	struct buf err = BUF_INIT;
	CHECK("names: opens", zip_open(&zz, &s, &LIM, &err) == ZIP_OK && zz.nentries == 4);
	if (zz.nentries == 4) {
		char *x = read_entry(&zz, 0, 10, &err), *y = read_entry(&zz, 1, 10, &err);
		CHECK("names: duplicates both listed and read", x && y && !strcmp(x, "one") && !strcmp(y, "two"));
		free(x);
		free(y);
		CHECK("names: non-UTF-8 bytes kept exactly", entry_is(&zz, 2, "caf\xe9\xff.jar"));
		CHECK("names: NUL inside a name keeps its length", zz.entries[3].name_len == 10 &&
									   !memcmp(zz.entries[3].name, "nul\0inside", 10));
	}
	zip_close(&zz);
	buf_free(&buf);
	buf_free(&err);
}

/* One entry with a defect; returns the zip_read error text. */
static char *bad_entry(const struct ent *e, enum zip_status *st)
{
	struct zw z;
	zw_begin(&z, NULL);
	zw_add(&z, e);
	struct buf b = zw_end(&z, false, NULL);
	struct zsrc s = memsrc(&b);
	struct zip zz;
	struct buf err = BUF_INIT;
	*st = zip_open(&zz, &s, &LIM, &err);
	char *msg = NULL;
	if (*st == ZIP_OK) {
		char *t = read_entry(&zz, 0, 1 << 20, &err);
		msg = t ? t : buf_detach(&err);
		if (t)
			*st = ZIP_OK;
		else
			*st = ZIP_BAD;
		zip_close(&zz);
	}
	buf_free(&err);
	buf_free(&b);
	return msg;
}

static void expect_bad(const char *label, const struct ent *e, const char *want)
{
	enum zip_status st;
	char *m = bad_entry(e, &st);
	char n[160];
	snprintf(n, sizeof n, "bad entry %s: refused (%s)", label, want);
	if (!(st == ZIP_BAD && m && strstr(m, want)))
		printf("# status %d msg '%s'\n", st, m ? m : "");
	CHECK(n, st == ZIP_BAD && m && strstr(m, want));
	free(m);
}

static void test_bad_entries(void)
{
	struct ent e = {.name = "x.class", .data = LOREM, .len = sizeof LOREM - 1, .method = 8};
	e.crc_delta = 1;
	expect_bad("crc", &e, "CRC mismatch");
	e.crc_delta = 0;
	e.flags = 1;
	expect_bad("encrypted", &e, "encrypted");
	e.flags = 0;
	e.method = 12; /* bzip2 */
	expect_bad("bzip2", &e, "unsupported compression method 12");
	e.method = 8;
	e.usize_delta = -10;
	expect_bad("usize too small", &e, "more than its declared size");
	e.usize_delta = 10;
	expect_bad("usize too large", &e, "less than its declared size");
	e.usize_delta = 0;
	e.method = 0;
	e.usize_delta = 3;
	expect_bad("stored with different sizes", &e, "different sizes");
	e.usize_delta = 0;
	/* deflate method over bytes that are not deflate */
	struct zw z;
	zw_begin(&z, NULL);
	struct ent g = {.name = "g.class", .data = "\xff\xff\xff\xff\xff\xff", .len = 6, .method = 0};
	zw_add(&z, &g);
	struct buf b = zw_end(&z, false, NULL);
	/* patch the method to 8 in local and central headers */
	b.data[8] = 8;
	size_t cd = b.len - 22 - (46 + 7);
	b.data[cd + 10] = 8;
	struct zsrc s = memsrc(&b);
	struct zip zz;
	struct buf err = BUF_INIT;
	bool opened = zip_open(&zz, &s, &LIM, &err) == ZIP_OK;
	char *t = opened ? read_entry(&zz, 0, 100, &err) : NULL;
	CHECK("bad entry corrupt deflate: refused", opened && !t && strstr(buf_cstr(&err), "deflate"));
	free(t);
	if (opened)
		zip_close(&zz);
	/* local header signature destroyed */
	b.data[0] = 'X';
	s = memsrc(&b);
	opened = zip_open(&zz, &s, &LIM, &err) == ZIP_OK;
	t = opened ? read_entry(&zz, 0, 100, &err) : NULL;
	CHECK("bad entry local header: refused", opened && !t && strstr(buf_cstr(&err), "local header"));
	free(t);
	if (opened)
		zip_close(&zz);
	buf_free(&b);
	buf_free(&err);
}

static void test_limits_and_truncation(void)
{
	struct buf b = basic(NULL, false, false), err = BUF_INIT;
	struct zsrc s = memsrc(&b);
	struct zip z;
	struct zip_limits few = {1 << 20, 2};
	CHECK("limit: entry count", zip_open(&z, &s, &few, &err) == ZIP_BAD && strstr(buf_cstr(&err), "entries exceed"));
	struct zip_limits small = {50, 1000};
	buf_reset(&err);
	CHECK("limit: central directory size", zip_open(&z, &s, &small, &err) == ZIP_BAD &&
						    strstr(buf_cstr(&err), "exceeds the limit"));

	/* every prefix of the archive: refused or not a zip, never a crash */
	int wrong = 0;
	for (size_t n = 0; n < b.len; n++) {
		unsigned char *p = malloc(n ? n : 1);
		memcpy(p, b.data, n);
		struct zsrc t = {.fd = -1, .mem = p, .size = n};
		buf_reset(&err);
		enum zip_status st = zip_open(&z, &t, &LIM, &err);
		if (st == ZIP_OK) {
			/* possible only if an end record survives; entries must then fail cleanly */
			for (size_t i = 0; i < z.nentries; i++)
				free(read_entry(&z, i, 1000, &err));
			zip_close(&z);
		} else if (st == ZIP_BAD && !err.len) {
			wrong++;
		}
		free(p);
	}
	CHECK("truncation: every prefix handled", wrong == 0);
	/* every suffix (head cut off, as a damaged download) */
	wrong = 0;
	for (size_t k = 1; k < b.len; k++) {
		size_t n = b.len - k;
		unsigned char *p = malloc(n);
		memcpy(p, b.data + k, n);
		struct zsrc t = {.fd = -1, .mem = p, .size = n};
		buf_reset(&err);
		enum zip_status st = zip_open(&z, &t, &LIM, &err);
		if (st == ZIP_OK) {
			for (size_t i = 0; i < z.nentries; i++) {
				char *x = read_entry(&z, i, 1000, &err);
				if (x && i == 0 && strcmp(x, "hello"))
					wrong++; /* wrong bytes returned without an error */
				free(x);
			}
			zip_close(&z);
		} else if (st == ZIP_BAD && !err.len) {
			wrong++;
		}
		free(p);
	}
	CHECK("truncation: every head cut handled", wrong == 0);
	/* single-byte corruption everywhere: no crash, and a successful read
	 * returns exactly the original bytes (CRC) */
	wrong = 0;
	for (size_t k = 0; k < b.len; k++) {
		unsigned char *p = malloc(b.len);
		memcpy(p, b.data, b.len);
		p[k] ^= 0xA5;
		struct zsrc t = {.fd = -1, .mem = p, .size = b.len};
		buf_reset(&err);
		if (zip_open(&z, &t, &LIM, &err) == ZIP_OK) {
			for (size_t i = 0; i < z.nentries; i++) {
				char *x = read_entry(&z, i, 1000, &err);
				if (x && z.entries[i].name_len == 11 && !memcmp(z.entries[i].name, "dir/b.class", 11) &&
				    strcmp(x, LOREM))
					wrong++;
				free(x);
			}
			zip_close(&z);
		}
		free(p);
	}
	CHECK("corruption: every byte flipped handled", wrong == 0);

	/* not a zip at all */
	const char *txt = "this is not a zip file, just some text with a .jar name\n";
	struct zsrc t = {.fd = -1, .mem = (const unsigned char *)txt, .size = strlen(txt)};
	CHECK("not a zip: text", zip_open(&z, &t, &LIM, &err) == ZIP_NOT_ZIP);
	t.size = 0;
	CHECK("not a zip: empty", zip_open(&z, &t, &LIM, &err) == ZIP_NOT_ZIP);
	/* an empty archive: just an end record */
	struct zw w;
	zw_begin(&w, NULL);
	struct buf e = zw_end(&w, false, NULL);
	s = memsrc(&e);
	CHECK("empty archive: opens with no entries", zip_open(&z, &s, &LIM, &err) == ZIP_OK && z.nentries == 0);
	zip_close(&z);
	/* multi-disk */
	e.data[4] = 1;
	s = memsrc(&e);
	buf_reset(&err);
	CHECK("multi-disk refused", zip_open(&z, &s, &LIM, &err) == ZIP_BAD && strstr(buf_cstr(&err), "multi-disk"));
	buf_free(&e);
	/* entry count that the central directory cannot hold */
	b.data[b.len - 22 + 10] = (char)0xFF;
	b.data[b.len - 22 + 8] = (char)0xFF;
	s = memsrc(&b);
	buf_reset(&err);
	CHECK("entry count larger than directory refused", zip_open(&z, &s, &LIM, &err) == ZIP_BAD);
	buf_free(&b);
	buf_free(&err);
}

int main(void)
{
	D = libdeflate_alloc_decompressor();
	test_shapes();
	test_names();
	test_bad_entries();
	test_limits_and_truncation();
	libdeflate_free_decompressor(D);
	UNIT_EXIT();
}
