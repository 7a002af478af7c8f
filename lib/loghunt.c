/* loghunt.c - the streaming line scanner around the lookup evaluator (see
 * loghunt.h).
 *
 * Bytes are copied into one fixed buffer.  A vector loop finds the next
 * byte that can begin an escaped or plain '$' ("trigger"); a few byte
 * comparisons and the unescaping of a short prefix decide whether it starts
 * "${"; only then is the line counted up to it, the rest of its line (at
 * most LH_EXPR_MAX bytes) unescaped with an offset map, and the expression
 * evaluated.  The map turns the end of the decoded expression back into raw
 * bytes, so scanning resumes after it (nested "${" were part of it).
 *
 * Newlines are counted lazily, once per byte, up to each candidate and
 * before bytes leave the buffer.  When the buffer is full it keeps only the
 * bytes a pending candidate still needs (fewer than LH_EXPR_MAX) plus a
 * short line start; the start of a line that is longer than that is kept
 * aside (LH_HEAD_MAX bytes) for its timestamp and client address. */
#include "loghunt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "lookup_eval.h"

struct loghunt {
	lh_attempt_fn fn;
	void *ctx;
	char *path;
	struct lh_stats stats;

	char *buf;
	size_t len;
	unsigned long long buf_off;     /* stream offset of buf[0] */
	size_t scan_pos;                /* next byte to look at */
	size_t skip_to;                 /* end of the last evaluated expression */

	size_t counted;                 /* newlines counted in buf[0..counted) */
	unsigned long long line_no;     /* line of buf[counted] */
	bool line_in_buf;               /* the current line starts in buf ... */
	size_t line_start;              /* ... here; else its start is in head */
	unsigned long long line_start_off; /* stream offset of the current line */
	char head[LH_HEAD_MAX];
	size_t head_len;
	unsigned long long budget_line; /* line the budget below belongs to */
	size_t budget_used;
	bool over_budget;
	char last_byte;                 /* of the stream, to count a last line */
	bool stream_empty;

	/* unescaping scratch for one window, and a stack of "${" in it */
	char *dec[2];
	uint32_t *map[2];
	uint32_t *opens;
	/* After an unclosed "${": the stretch of stream in which every "${"
	 * is known to be unclosed too, except those listed (offsets from
	 * unclosed_from, ascending). */
	unsigned long long unclosed_from, unclosed_to;
	uint32_t *closed;
	size_t n_closed, next_closed;
};

/* ---- unescaping ---- */

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool hex_n(const char *s, size_t n, unsigned *v)
{
	unsigned x = 0;
	for (size_t i = 0; i < n; i++) {
		int h = hexval((unsigned char)s[i]);
		if (h < 0)
			return false;
		x = x * 16 + (unsigned)h;
	}
	*v = x;
	return true;
}

/* UTF-8 for a code point below U+10000 that is not a surrogate. */
static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	o[0] = (char)(0xE0 | (cp >> 12));
	o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[2] = (char)(0x80 | (cp & 0x3F));
	return 3;
}

static const struct {
	const char *name;
	char c;
} entities[] = {
	{"dollar;", '$'}, {"lbrace;", '{'}, {"lcub;", '{'}, {"rbrace;", '}'}, {"rcub;", '}'},
	{"colon;", ':'}, {"sol;", '/'}, {"amp;", '&'}, {"period;", '.'}, {"quot;", '"'},
	{"apos;", '\''},
};

/* One escape at s[0..n): writes its value to o and returns how many input
 * bytes it used, or 0 when s does not start with an escape. */
static size_t one_escape(const char *s, size_t n, char *o, size_t *olen)
{
	unsigned v;
	if (s[0] == '%') {
		if (n >= 3 && hex_n(s + 1, 2, &v)) {
			o[0] = (char)v;
			*olen = 1;
			return 3;
		}
		return 0;
	}
	if (s[0] == '\\') {
		if (n < 2)
			return 0;
		if ((s[1] == 'u' || s[1] == 'U') && n >= 6 && hex_n(s + 2, 4, &v) &&
		    !(v >= 0xD800 && v <= 0xDFFF)) {
			*olen = put_utf8(o, v);
			return 6;
		}
		if (s[1] == 'x' && n >= 4 && hex_n(s + 2, 2, &v)) {
			o[0] = (char)v;
			*olen = 1;
			return 4;
		}
		if (s[1] == '\\' || s[1] == '/') {
			o[0] = s[1];
			*olen = 1;
			return 2;
		}
		return 0;
	}
	if (s[0] == '&' && n >= 3) {
		if (s[1] == '#') {
			size_t i = 2;
			bool hex = false;
			if (s[i] == 'x' || s[i] == 'X') {
				hex = true;
				i++;
			}
			unsigned cp = 0;
			size_t digits = 0;
			while (i < n && digits < 7) {
				int d = hex ? hexval((unsigned char)s[i])
					    : (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);
				if (d < 0)
					break;
				cp = cp * (hex ? 16 : 10) + (unsigned)d;
				i++;
				digits++;
			}
			if (!digits || i >= n || s[i] != ';' || cp == 0 || cp >= 0x10000 ||
			    (cp >= 0xD800 && cp <= 0xDFFF))
				return 0;
			*olen = put_utf8(o, cp);
			return i + 1;
		}
		for (size_t k = 0; k < sizeof entities / sizeof entities[0]; k++) {
			size_t l = strlen(entities[k].name);
			if (n >= l + 1 && !memcmp(s + 1, entities[k].name, l)) {
				o[0] = entities[k].c;
				*olen = 1;
				return l + 1;
			}
		}
	}
	return 0;
}

/* One pass; returns the output length, *changed when an escape was found. */
static size_t unescape_pass(const char *s, size_t n, const uint32_t *in_map, char *out,
			    uint32_t *out_map, bool *changed)
{
	size_t i = 0, o = 0;
	*changed = false;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t used = 0, olen = 0;
		if (c == '%' || c == '\\' || c == '&')
			used = one_escape(s + i, n - i, out + o, &olen);
		if (used) {
			*changed = true;
		} else {
			out[o] = (char)c;
			used = olen = 1;
		}
		if (out_map)
			for (size_t k = 0; k < olen; k++)
				out_map[o + k] = in_map ? in_map[i] : (uint32_t)i;
		o += olen;
		i += used;
	}
	if (out_map)
		out_map[o] = in_map ? in_map[n] : (uint32_t)n;
	return o;
}

/* The passes, alternating between the two scratch pairs; returns which of
 * them holds the result (its length in *out_len). */
static int unescape_layers(const char *s, size_t n, char *dec[2], uint32_t *map[2],
			   size_t *out_len)
{
	bool changed;
	size_t len = unescape_pass(s, n, NULL, dec[0], map[0], &changed);
	int cur = 0;
	for (int pass = 1; changed && pass < LH_UNESCAPE_PASSES; pass++) {
		len = unescape_pass(dec[cur], len, map[cur], dec[!cur], map[!cur], &changed);
		cur = !cur;
	}
	*out_len = len;
	return cur;
}

size_t lh_unescape(const char *s, size_t n, char *out, uint32_t *map)
{
	char *dec[2] = {xmalloc(n + 1), xmalloc(n + 1)};
	uint32_t *maps[2] = {xmalloc((n + 1) * sizeof(uint32_t)), xmalloc((n + 1) * sizeof(uint32_t))};
	size_t len;
	int cur = unescape_layers(s, n, dec, maps, &len);
	memcpy(out, dec[cur], len);
	if (map)
		memcpy(map, maps[cur], (len + 1) * sizeof(uint32_t));
	free(dec[0]);
	free(dec[1]);
	free(maps[0]);
	free(maps[1]);
	return len;
}

/* ---- candidates ---- */

static bool is_trigger(unsigned char c)
{
	return c == '$' || c == '%' || c == '\\' || c == '&';
}

static size_t next_trigger(const char *buf, size_t i, size_t n)
{
	const unsigned char *p = (const unsigned char *)buf;
#ifdef __SSE2__
	const __m128i dollar = _mm_set1_epi8('$'), pct = _mm_set1_epi8('%');
	const __m128i bsl = _mm_set1_epi8('\\'), amp = _mm_set1_epi8('&');
	while (i + 16 <= n) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, dollar), _mm_cmpeq_epi8(v, pct)),
					 _mm_or_si128(_mm_cmpeq_epi8(v, bsl), _mm_cmpeq_epi8(v, amp)));
		unsigned bits = (unsigned)_mm_movemask_epi8(m);
		if (bits)
			return i + (size_t)__builtin_ctz(bits);
		i += 16;
	}
#endif
	for (; i < n; i++)
		if (is_trigger(p[i]))
			return i;
	return n;
}

static bool starts(const char *s, size_t n, const char *w)
{
	size_t l = strlen(w);
	return n >= l && !memcmp(s, w, l);
}

/* Cheap test of the bytes at a trigger: can they be an escaped '$'? */
static bool dollar_form(const char *s, size_t n)
{
	switch (s[0]) {
	case '$':
		return n >= 2 && (s[1] == '{' || s[1] == '%' || s[1] == '\\' || s[1] == '&');
	case '%':
		return starts(s, n, "%24") || starts(s, n, "%25") ||
		       ((starts(s, n, "%5c") || starts(s, n, "%5C")) && n >= 4 &&
			(s[3] == 'u' || s[3] == 'U' || s[3] == 'x'));
	case '\\': {
		size_t i = 1;
		while (i < n && i < 4 && s[i] == '\\')
			i++;
		return starts(s + i, n - i, "u0024") || starts(s + i, n - i, "U0024") ||
		       starts(s + i, n - i, "x24");
	}
	case '&': {
		size_t i = 1;
		while (i < 10 && starts(s + i, n - i, "amp;"))
			i += 4;
		return starts(s + i, n - i, "#36;") || starts(s + i, n - i, "#036;") ||
		       starts(s + i, n - i, "#x24;") || starts(s + i, n - i, "#X24;") ||
		       starts(s + i, n - i, "dollar;");
	}
	}
	return false;
}

/* Does the text at s (n bytes available) unescape to "${"? */
static bool opens_lookup(const char *s, size_t n)
{
	if (!dollar_form(s, n))
		return false;
	if (n >= 2 && s[0] == '$' && s[1] == '{')
		return true;
	char a[64], b[64];
	uint32_t ma[65], mb[65];
	char *dec[2] = {a, b};
	uint32_t *map[2] = {ma, mb};
	size_t len;
	int cur = unescape_layers(s, n < 64 ? n : 64, dec, map, &len);
	return len >= 2 && dec[cur][0] == '$' && dec[cur][1] == '{';
}

/* ---- line bookkeeping ---- */

static size_t count_newlines(const char *p, size_t n)
{
	size_t c = 0, i = 0;
#ifdef __SSE2__
	/* Compare 16 bytes at a time; each match adds 1 (0 - -1) to a byte
	 * lane, and the lanes are summed (psadbw) before they can overflow. */
	const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
	while (i + 16 <= n) {
		__m128i acc = zero;
		size_t rounds = (n - i) / 16;
		if (rounds > 255)
			rounds = 255;
		for (size_t r = 0; r < rounds; r++, i += 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
			acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, nl));
		}
		__m128i sum = _mm_sad_epu8(acc, zero);
		c += (size_t)_mm_cvtsi128_si32(sum) + (size_t)_mm_extract_epi16(sum, 4);
	}
#endif
	for (; i < n; i++)
		c += p[i] == '\n';
	return c;
}

/* Count newlines in buf[counted..to). */
static void count_to(struct loghunt *h, size_t to)
{
	if (to <= h->counted)
		return;
	const char *from = h->buf + h->counted;
	size_t n = to - h->counted;
	size_t nl = count_newlines(from, n);
	if (nl) {
		h->line_no += nl;
		const char *last = memrchr(from, '\n', n);
		h->line_in_buf = true;
		h->line_start = (size_t)(last - h->buf) + 1;
		h->line_start_off = h->buf_off + h->line_start;
	}
	h->counted = to;
}

/* ---- timestamps and clients ---- */

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int month_index(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	for (int m = 0; m < 12; m++)
		if (!memcmp(s, months + 3 * m, 3))
			return m + 1;
	return 0;
}

/* "[10/Oct/2000:13:55:36 -0700]" */
static bool clf_time(const char *s, size_t n, struct buf *ts, char day[11])
{
	const char *b = memchr(s, '[', n);
	if (!b)
		return false;
	size_t i = (size_t)(b - s) + 1;
	if (n - i < 27)
		return false;
	const char *t = s + i;
	int mon = month_index(t + 3);
	if (!digits(t, 2) || t[2] != '/' || !mon || t[6] != '/' || !digits(t + 7, 4) || t[11] != ':' ||
	    !digits(t + 12, 2) || t[14] != ':' || !digits(t + 15, 2) || t[17] != ':' ||
	    !digits(t + 18, 2) || t[20] != ' ' || (t[21] != '+' && t[21] != '-') ||
	    !digits(t + 22, 4) || t[26] != ']')
		return false;
	buf_printf(ts, "%.4s-%02d-%.2sT%.8s%c%.2s:%.2s", t + 7, mon, t, t + 12, t[21], t + 22, t + 24);
	snprintf(day, 11, "%.4s-%02d-%.2s", t + 7, mon, t);
	return true;
}

/* "2021-12-10T08:01:02.345Z", "2021-12-10 08:01:02,345 +0100" */
static bool iso_time(const char *s, size_t n, struct buf *ts, char day[11])
{
	for (size_t i = 0; i + 19 <= n; i++) {
		const char *t = s + i;
		if (!(t[4] == '-' && t[7] == '-' && digits(t, 4) && digits(t + 5, 2) && digits(t + 8, 2) &&
		      (t[10] == 'T' || t[10] == ' ') && digits(t + 11, 2) && t[13] == ':' &&
		      digits(t + 14, 2) && t[16] == ':' && digits(t + 17, 2)))
			continue;
		if (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
			continue;
		size_t j = i + 19;
		buf_printf(ts, "%.10sT%.8s", t, t + 11);
		if (j < n && (s[j] == '.' || s[j] == ',')) {
			size_t k = j + 1;
			while (k < n && k - j <= 9 && s[k] >= '0' && s[k] <= '9')
				k++;
			if (k > j + 1) {
				buf_addc(ts, '.');
				buf_add(ts, s + j + 1, k - j - 1);
				j = k;
			}
		}
		size_t z = j < n && s[j] == ' ' ? j + 1 : j;
		if (z < n && s[z] == 'Z') {
			buf_addc(ts, 'Z');
		} else if (z + 5 <= n && (s[z] == '+' || s[z] == '-') && digits(s + z + 1, 2)) {
			if (s[z + 3] == ':' && z + 6 <= n && digits(s + z + 4, 2))
				buf_printf(ts, "%c%.2s:%.2s", s[z], s + z + 1, s + z + 4);
			else if (digits(s + z + 3, 2))
				buf_printf(ts, "%c%.2s:%.2s", s[z], s + z + 1, s + z + 3);
		}
		memcpy(day, t, 10);
		day[10] = 0;
		return true;
	}
	return false;
}

/* "Dec 10 08:01:02" at the start, after an optional "<13>" priority. */
static bool syslog_time(const char *s, size_t n, struct buf *ts, char day[11])
{
	size_t i = 0;
	if (n && s[0] == '<') {
		i = 1;
		while (i < n && i < 5 && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i >= n || s[i] != '>')
			return false;
		i++;
	}
	if (n - i < 15)
		return false;
	const char *t = s + i;
	int mon = month_index(t);
	if (!mon || t[3] != ' ' || (t[4] != ' ' && !digits(t + 4, 1)) || !digits(t + 5, 1) ||
	    t[6] != ' ' || !digits(t + 7, 2) || t[9] != ':' || !digits(t + 10, 2) || t[12] != ':' ||
	    !digits(t + 13, 2))
		return false;
	buf_add(ts, t, 15);
	snprintf(day, 11, "--%02d-%c%c", mon, t[4] == ' ' ? '0' : t[4], t[5]);
	return true;
}

bool lh_line_timestamp(const char *line, size_t n, struct buf *ts, char day[11])
{
	if (n > 256)
		n = 256;
	buf_reset(ts);
	day[0] = 0;
	return clf_time(line, n, ts, day) || iso_time(line, n, ts, day) ||
	       syslog_time(line, n, ts, day);
}

static size_t token(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && s[i] != ' ')
		i++;
	return i;
}

bool lh_line_client(const char *line, size_t n, struct buf *client)
{
	buf_reset(client);
	size_t a = token(line, n);
	if (!a || a > 45 || a >= n)
		return false;
	bool sep = false;
	for (size_t i = 0; i < a; i++) {
		char c = line[i];
		if (c == '.' || c == ':')
			sep = true;
		else if (hexval((unsigned char)c) < 0)
			return false;
	}
	/* "IP ident user [" */
	size_t i = a + 1;
	size_t b = token(line + i, n - i);
	if (!b || i + b >= n)
		return false;
	i += b + 1;
	size_t c = token(line + i, n - i);
	if (!c || i + c + 1 >= n || line[i + c + 1] != '[')
		return false;
	if (!sep)
		return false;
	buf_add(client, line, a);
	return true;
}

/* ---- what a jndi URL points at ---- */

void lh_jndi_target(const char *decoded, struct buf *protocol, struct buf *host, int *port)
{
	buf_reset(protocol);
	buf_reset(host);
	*port = -1;
	const char *u = strchr(decoded, ':');
	if (!u)
		return;
	u++;
	size_t s = 0;
	while (u[s] && (((u[s] | 0x20) >= 'a' && (u[s] | 0x20) <= 'z') ||
			(s && ((u[s] >= '0' && u[s] <= '9') || u[s] == '+' || u[s] == '.' || u[s] == '-'))))
		s++;
	if (!s || u[s] != ':')
		return;
	char scheme[32];
	size_t sl = s < sizeof scheme - 1 ? s : sizeof scheme - 1;
	for (size_t i = 0; i < sl; i++)
		scheme[i] = (char)((u[i] >= 'A' && u[i] <= 'Z') ? u[i] - 'A' + 'a' : u[i]);
	scheme[sl] = 0;
	const char *rest = u + s + 1;
	if (!strcmp(scheme, "corbaname")) {
		strcpy(scheme, "corba");
		/* corbaname:iiop:host:port#name, corbaname::host */
		if (!strncasecmp(rest, "iiop:", 5))
			rest += 5;
		else if (rest[0] == ':')
			rest++;
	} else if (!strcmp(scheme, "iiopname")) {
		strcpy(scheme, "iiop");
	}
	buf_adds(protocol, scheme);
	if (rest[0] == '/' && rest[1] == '/')
		rest += 2;
	else if (strcmp(scheme, "corba"))
		return;
	/* '#' ends a CORBA address; in an LDAP one it is the CVE-2021-45046
	 * trick ("127.0.0.1#evil.example"): the host the client resolves. */
	size_t end = strcspn(rest, strcmp(scheme, "corba") ? "/?" : "/?#");
	const char *at = memchr(rest, '@', end);
	if (at) {
		end -= (size_t)(at + 1 - rest);
		rest = at + 1;
	}
	size_t hl = end;
	const char *portp = NULL;
	if (rest[0] == '[') {
		const char *close = memchr(rest, ']', end);
		if (close) {
			hl = (size_t)(close - rest) + 1;
			if (hl < end && rest[hl] == ':')
				portp = rest + hl + 1;
		}
	} else {
		/* the last ':' followed only by digits starts the port */
		for (size_t i = end; i > 0; i--) {
			if (rest[i - 1] == ':') {
				if (digits(rest + i, end - i) && end > i) {
					hl = i - 1;
					portp = rest + i;
				}
				break;
			}
		}
	}
	buf_add(host, rest, hl);
	if (portp) {
		long p = 0;
		size_t i = 0;
		while (portp + i < rest + end && portp[i] >= '0' && portp[i] <= '9' && p <= 65535)
			p = p * 10 + (portp[i++] - '0');
		if (i && p <= 65535)
			*port = (int)p;
	}
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

bool lh_jndi_payload(const char *decoded, struct buf *out)
{
	buf_reset(out);
	const char *p = strcasestr(decoded, "/base64/");
	if (!p)
		return false;
	p += 8;
	unsigned acc = 0;
	int bits = 0;
	for (; *p && out->len < LH_PAYLOAD_MAX; p++) {
		int v = b64val((unsigned char)*p);
		if (v < 0)
			break;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addc(out, (char)((acc >> bits) & 0xFF));
		}
	}
	return out->len > 0;
}

/* ---- tally ---- */

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603ULL & (size_t)-1;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * (size_t)1099511628211ULL;
	return h;
}

void lh_tally_add(struct lh_tally *t, const char *key)
{
	if (2 * (t->n + 1) > t->n_slots) {
		size_t ns = t->n_slots ? 2 * t->n_slots : 64;
		free(t->slots);
		t->slots = xcalloc(ns, sizeof *t->slots);
		t->n_slots = ns;
		for (size_t i = 0; i < t->n; i++) {
			size_t k = hash_str(t->v[i].key) & (ns - 1);
			while (t->slots[k])
				k = (k + 1) & (ns - 1);
			t->slots[k] = i + 1;
		}
	}
	size_t k = hash_str(key) & (t->n_slots - 1);
	while (t->slots[k]) {
		struct lh_count *c = &t->v[t->slots[k] - 1];
		if (!strcmp(c->key, key)) {
			c->count++;
			return;
		}
		k = (k + 1) & (t->n_slots - 1);
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->v = xrealloc(t->v, t->cap * sizeof *t->v);
	}
	t->v[t->n] = (struct lh_count){xstrdup(key), 1};
	t->slots[k] = ++t->n;
}

static int by_count(const void *a, const void *b)
{
	const struct lh_count *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->key, y->key);
}

void lh_tally_sort(struct lh_tally *t)
{
	if (t->n)
		qsort(t->v, t->n, sizeof *t->v, by_count);
	free(t->slots);
	t->slots = NULL;
	t->n_slots = 0;
}

void lh_tally_free(struct lh_tally *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].key);
	free(t->v);
	free(t->slots);
	memset(t, 0, sizeof *t);
}

/* ---- the hunter ---- */

struct loghunt *loghunt_new(lh_attempt_fn fn, void *ctx)
{
	struct loghunt *h = xcalloc(1, sizeof *h);
	h->fn = fn;
	h->ctx = ctx;
	h->buf = xmalloc(LH_BUF_SIZE);
	for (int i = 0; i < 2; i++) {
		h->dec[i] = xmalloc(LH_EXPR_MAX + 1);
		h->map[i] = xmalloc((LH_EXPR_MAX + 1) * sizeof(uint32_t));
	}
	h->opens = xmalloc((LH_EXPR_MAX / 2 + 1) * sizeof(uint32_t));
	h->closed = xmalloc((LH_EXPR_MAX / 2 + 1) * sizeof(uint32_t));
	loghunt_begin(h, "");
	return h;
}

void loghunt_begin(struct loghunt *h, const char *path)
{
	free(h->path);
	h->path = xstrdup(path ? path : "");
	h->len = 0;
	h->buf_off = 0;
	h->scan_pos = h->skip_to = h->counted = 0;
	h->line_no = 1;
	h->line_in_buf = true;
	h->line_start = 0;
	h->line_start_off = 0;
	h->head_len = 0;
	h->budget_line = 0;
	h->budget_used = 0;
	h->over_budget = false;
	h->unclosed_from = h->unclosed_to = 0;
	h->n_closed = h->next_closed = 0;
	h->last_byte = '\n';
	h->stream_empty = true;
}

/* The first bytes of the current line (call after count_to). */
static const char *line_head(const struct loghunt *h, size_t *n)
{
	if (!h->line_in_buf) {
		*n = h->head_len;
		return h->head;
	}
	const char *start = h->buf + h->line_start;
	size_t avail = h->len - h->line_start;
	if (avail > LH_HEAD_MAX)
		avail = LH_HEAD_MAX;
	const char *nl = memchr(start, '\n', avail);
	*n = nl ? (size_t)(nl - start) : avail;
	return start;
}

static void report(struct loghunt *h, size_t c, size_t raw_len, const struct lk_jndi *j)
{
	struct buf ts = BUF_INIT, client = BUF_INIT, proto = BUF_INIT, host = BUF_INIT,
		   payload = BUF_INIT;
	char day[11] = "";
	size_t hn;
	const char *head = line_head(h, &hn);
	bool has_ts = lh_line_timestamp(head, hn, &ts, day);
	bool has_client = lh_line_client(head, hn, &client);
	int port;
	lh_jndi_target(j->decoded, &proto, &host, &port);
	bool has_payload = lh_jndi_payload(j->decoded, &payload);
	struct lh_attempt a = {
		.path = h->path,
		.line = h->line_no,
		.offset = h->buf_off + c,
		.timestamp = has_ts ? buf_cstr(&ts) : NULL,
		.day = has_ts ? day : NULL,
		.client = has_client ? buf_cstr(&client) : NULL,
		.raw = h->buf + c,
		.raw_len = raw_len,
		.decoded = j->decoded,
		.protocol = buf_cstr(&proto),
		.host = buf_cstr(&host),
		.port = port,
		.exfil = (const char *const *)j->exfil,
		.n_exfil = j->n_exfil,
		.payload = has_payload ? payload.data : NULL,
		.payload_len = has_payload ? payload.len : 0,
	};
	h->stats.attempts++;
	h->fn(h->ctx, &a);
	buf_free(&ts);
	buf_free(&client);
	buf_free(&proto);
	buf_free(&host);
	buf_free(&payload);
}

static int by_offset(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The "${" of dec[0..n) that are closed within it, as raw offsets (through
 * map; the same offsets when map is NULL) in ascending order into closed;
 * returns how many.  Matching with a stack pairs "${" and '}' as Log4j's
 * nesting counter does from any start, so every other "${" here is
 * unclosed wherever Log4j would begin. */
static size_t closed_opens(const char *dec, size_t n, const uint32_t *map, uint32_t *stack,
			   uint32_t *closed)
{
	size_t sp = 0, nc = 0;
	for (size_t i = 0; i < n; i++) {
		if (dec[i] == '$' && i + 1 < n && dec[i + 1] == '{') {
			stack[sp++] = (uint32_t)i;
			i++;
		} else if (dec[i] == '}' && sp) {
			sp--;
			closed[nc++] = map ? map[stack[sp]] : stack[sp];
		}
	}
	qsort(closed, nc, sizeof *closed, by_offset);
	return nc;
}

/* Is the candidate at stream offset off inside a stretch already known to
 * be unclosed, and not one of the "${" that close there? */
static bool known_unclosed(struct loghunt *h, unsigned long long off)
{
	if (off < h->unclosed_from || off >= h->unclosed_to)
		return false;
	while (h->next_closed < h->n_closed && h->unclosed_from + h->closed[h->next_closed] < off)
		h->next_closed++;
	return !(h->next_closed < h->n_closed && h->unclosed_from + h->closed[h->next_closed] == off);
}

/* Every letter Log4j's lookups output comes from the expression itself,
 * maybe with its case changed (and upper() maps dotless i onto 'I'); one
 * without the letters of "jndi" cannot make a jndi lookup, and needs no
 * evaluation.  Most "${" in benign logs stop here. */
static bool may_spell_jndi(const char *s, size_t n)
{
	unsigned seen = 0;
	for (size_t i = 0; i < n; i++) {
		switch (s[i] | 0x20) {
		case 'j': seen |= 1; break;
		case 'n': seen |= 2; break;
		case 'd': seen |= 4; break;
		case 'i': seen |= 8; break;
		default:
			if ((unsigned char)s[i] == 0xC4 && i + 1 < n && (unsigned char)s[i + 1] == 0xB1)
				seen |= 8;
		}
	}
	return seen == 15;
}

/* Length of the "${...}" at s when it is closed within n bytes and holds
 * no byte that can start an escape; else 0, with *plain set when the n
 * bytes hold no such byte either (the expression is then unclosed). */
static size_t plain_expr_len(const char *s, size_t n, bool *plain)
{
	*plain = false;
	if (n < 2 || s[0] != '$' || s[1] != '{')
		return 0;
	size_t nested = 0;
	for (size_t i = 2; i < n; i++) {
		char c = s[i];
		if (c == '}') {
			if (!nested)
				return i + 1;
			nested--;
		} else if (c == '$') {
			if (i + 1 < n && s[i + 1] == '{') {
				nested++;
				i++;
			}
		} else if (c == '%' || c == '\\' || c == '&') {
			return 0;
		}
	}
	*plain = true;
	return 0;
}

/* Evaluate the decoded expression dec[0..n), raw_len bytes at buf[c]. */
static void evaluate_expr(struct loghunt *h, size_t c, const char *dec, size_t n, size_t raw_len)
{
	struct lk_result res;
	lookup_eval(dec, n, &res);
	h->budget_used += res.steps;
	for (size_t i = 0; i < res.n_found; i++)
		report(h, c, raw_len, &res.found[i]);
	lookup_result_free(&res);
}

/* The "${" at buf[c] is unclosed in its window (dec, decoded through map,
 * of avail raw bytes): so is every "${" in the window but those that close
 * in it.  Near the end of a window cut at LH_EXPR_MAX a later start may
 * close past it: those are looked at again. */
static void note_unclosed(struct loghunt *h, size_t c, const char *dec, size_t dlen,
			  const uint32_t *map, bool cut)
{
	size_t avail = map ? map[dlen] : dlen;
	h->budget_used += dlen;
	h->n_closed = closed_opens(dec, dlen, map, h->opens, h->closed);
	h->next_closed = 0;
	h->unclosed_from = h->buf_off + c;
	h->unclosed_to = h->buf_off + c + (cut ? avail / 2 : avail);
}

/* Longest escape (after its own unescaping) that may straddle the end of a
 * partly decoded window: a decoded expression must end this far before it. */
#define ESCAPE_SLACK 32

/* Evaluate the candidate at buf[c]; its line ends at wend, or the window
 * was cut there at LH_EXPR_MAX (cut). */
static void evaluate(struct loghunt *h, size_t c, size_t wend, bool cut)
{
	if (known_unclosed(h, h->buf_off + c) || !opens_lookup(h->buf + c, wend - c))
		return;
	/* "$${" is Log4j's escape for a literal "${" */
	if (h->buf[c] == '$' && h->buf[c + 1] == '{' && c > 0 && h->buf[c - 1] == '$')
		return;
	h->stats.candidates++;
	count_to(h, c);
	if (h->budget_line != h->line_no) {
		h->budget_line = h->line_no;
		h->budget_used = 0;
		h->over_budget = false;
	}
	/* Work on a line may grow with its length, never faster. */
	unsigned long long into_line = h->buf_off + c - h->line_start_off;
	if (h->budget_used > LH_LINE_BUDGET + LH_STEPS_PER_BYTE * into_line) {
		if (!h->over_budget)
			h->stats.lines_over_budget++;
		h->over_budget = true;
		return;
	}
	size_t avail = wend - c;
	bool plain;
	size_t e = plain_expr_len(h->buf + c, avail, &plain);
	if (plain) {
		note_unclosed(h, c, h->buf + c, avail, NULL, cut);
		return;
	}
	if (e) {
		/* no escape in it: the raw text is the decoded text */
		h->budget_used += e;
		h->skip_to = c + e;
		if (may_spell_jndi(h->buf + c, e))
			evaluate_expr(h, c, h->buf + c, e, e);
		return;
	}
	/* Unescape a short prefix first, a longer one only when the
	 * expression is not closed well inside it. */
	size_t k = avail < 64 ? avail : 64;
	size_t dlen;
	int cur;
	for (;;) {
		cur = unescape_layers(h->buf + c, k, h->dec, h->map, &dlen);
		h->budget_used += k;
		e = lookup_expr_len(h->dec[cur], dlen);
		if (k == avail || (e && h->map[cur][e] + ESCAPE_SLACK <= k))
			break;
		k = k * 8 < avail ? k * 8 : avail;
	}
	const char *dec = h->dec[cur];
	if (!e) {
		note_unclosed(h, c, dec, dlen, h->map[cur], cut);
		return;
	}
	h->skip_to = c + h->map[cur][e];
	if (may_spell_jndi(dec, e))
		evaluate_expr(h, c, dec, e, h->map[cur][e]);
}

static void process(struct loghunt *h, bool final)
{
	size_t pos = h->scan_pos;
	for (;;) {
		if (pos < h->skip_to)
			pos = h->skip_to;
		size_t c = next_trigger(h->buf, pos, h->len);
		if (c >= h->len) {
			pos = h->len;
			break;
		}
		size_t avail = h->len - c;
		if (avail < 32 && !final) {
			pos = c;    /* wait for enough bytes to tell */
			break;
		}
		if (!dollar_form(h->buf + c, avail < 32 ? avail : 32)) {
			pos = c + 1;
			continue;
		}
		size_t want = avail < LH_EXPR_MAX ? avail : LH_EXPR_MAX;
		const char *nl = memchr(h->buf + c, '\n', want);
		size_t wend;
		bool cut = false;
		if (nl) {
			wend = (size_t)(nl - h->buf);
		} else if (avail >= LH_EXPR_MAX || final) {
			wend = c + want;
			cut = avail > LH_EXPR_MAX;
		} else {
			pos = c;    /* wait for the rest of the window */
			break;
		}
		evaluate(h, c, wend, cut);
		pos = c + 1;
	}
	h->scan_pos = pos;
}

/* Make room: drop what no pending candidate needs. */
static void compact(struct loghunt *h)
{
	size_t keep = h->scan_pos < h->len ? h->scan_pos : h->len;
	if (keep > 0)
		keep--;                 /* one byte of look-behind for "$${" */
	count_to(h, keep);
	if (h->line_in_buf && h->line_start < keep) {
		if (h->len - h->line_start <= LH_HEAD_MAX) {
			keep = h->line_start;
		} else {
			h->head_len = LH_HEAD_MAX;
			memcpy(h->head, h->buf + h->line_start, LH_HEAD_MAX);
			h->line_in_buf = false;
		}
	}
	if (!keep)
		return;
	memmove(h->buf, h->buf + keep, h->len - keep);
	h->len -= keep;
	h->buf_off += keep;
	h->scan_pos -= keep;
	h->counted -= keep;
	h->skip_to = h->skip_to > keep ? h->skip_to - keep : 0;
	if (h->line_in_buf)
		h->line_start -= keep;
}

void loghunt_feed(struct loghunt *h, const void *data, size_t n)
{
	const char *p = data;
	if (n) {
		h->stream_empty = false;
		h->last_byte = p[n - 1];
	}
	h->stats.bytes += n;
	while (n) {
		if (h->len == LH_BUF_SIZE)
			compact(h);
		size_t k = LH_BUF_SIZE - h->len;
		if (k > n)
			k = n;
		memcpy(h->buf + h->len, p, k);
		h->len += k;
		p += k;
		n -= k;
		process(h, false);
	}
}

void loghunt_end(struct loghunt *h)
{
	process(h, true);
	count_to(h, h->len);
	if (!h->stream_empty)
		h->stats.lines += h->line_no - (h->last_byte == '\n');
	loghunt_begin(h, "");
}

const struct lh_stats *loghunt_stats(const struct loghunt *h)
{
	return &h->stats;
}

void loghunt_free(struct loghunt *h)
{
	if (!h)
		return;
	free(h->path);
	free(h->buf);
	for (int i = 0; i < 2; i++) {
		free(h->dec[i]);
		free(h->map[i]);
	}
	free(h->opens);
	free(h->closed);
	free(h);
}
