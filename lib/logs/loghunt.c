/* loghunt.c - the streaming line scanner around the lookup evaluator (see
 * loghunt.h).
 *
 * Bytes are copied into one fixed buffer.  A vector loop finds the next
 * byte that can begin an escaped or plain '$' ("trigger"); a few byte
 * comparisons and the unescaping of a short prefix decide whether a run of
 * '$' followed by '{' starts there (a message start); only then is the line
 * counted up to it, the rest of its line (at most LH_MSG_MAX bytes; its end
 * looked for up to LH_LOOKAHEAD bytes ahead) unescaped layer by layer with
 * offset maps, and each layer evaluated as a message (lookup_eval.h).  The
 * maps turn what the evaluator found (a top-level "${...}", an unclosed
 * "${") back into raw bytes: the attempt's raw text, and where scanning
 * goes on.  Normally that is the end of the message; where Log4j stopped
 * early (an unclosed "${", a lookup that throws) it is just past the stop,
 * and what is found from there on is "performed_alone".
 *
 * Newlines are counted lazily, once per byte, up to each candidate and
 * before bytes leave the buffer.  When the buffer is full it keeps only the
 * bytes a pending candidate still needs (fewer than LH_LOOKAHEAD) plus a
 * short line start; the start of a line that is longer than that is kept
 * aside (LH_HEAD_MAX bytes) for its timestamp and client address.
 *
 * The unescaping is loghunt_unescape.c; what an attempt's line and URL say
 * (timestamp, client, target) and the tallies are loghunt_fields.c. */
#include "logs/loghunt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "logs/loghunt_internal.h"
#include "logs/lookup_eval.h"

struct loghunt {
	lh_attempt_fn fn;
	void *ctx;
	char *path;
	struct lh_stats stats;

	char *buf;
	size_t len;
	unsigned long long buf_off;     /* stream offset of buf[0] */
	size_t scan_pos;                /* next byte to look at */
	size_t skip_to;                 /* end of the last evaluated message */
	unsigned long long no_nl_to;    /* no newline from the last candidate to here */

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
	unsigned long long alone_line;  /* Log4j stopped early on this line */
	unsigned long long bound_line;  /* a bound attempt was reported for it */
	/* attempts reported on the current line (two messages of it may find
	 * the same one) */
	unsigned long long reported_line;
	struct {
		unsigned long long off;
		char *decoded;
	} reported[32];
	size_t n_reported;
	char last_byte;                 /* of the stream, to count a last line */
	bool stream_empty;

	/* the layers of one window: [0] the raw text (no copy), [1..] each
	 * pass of unescaping, with maps to raw offsets; a stack of "${" */
	char *dec[LH_UNESCAPE_PASSES + 1];
	uint32_t *map[LH_UNESCAPE_PASSES + 1];
	uint32_t *opens;
	/* After an unclosed "${": the stretch of stream in which every "${"
	 * is known to be unclosed too, except those listed (offsets from
	 * unclosed_from, ascending). */
	unsigned long long unclosed_from, unclosed_to;
	uint32_t *closed;
	size_t n_closed, next_closed;
};

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
		return n >= 2 && (s[1] == '{' || s[1] == '$' || s[1] == '%' || s[1] == '\\' || s[1] == '&');
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

/* Does the text at s (n bytes available) start a run of '$' followed by
 * '{', as it is or once unescaped (the run is where a message starts: a
 * '$' before "${" is its escape)? */
static bool opens_lookup(const char *s, size_t n)
{
	if (!dollar_form(s, n))
		return false;
	size_t i = 0;
	while (i < n && s[i] == '$')
		i++;
	if (i < n && s[i] == '{')
		return true;
	char a[64], b[64];
	uint32_t ma[65], mb[65];
	char *dec[2] = {a, b};
	uint32_t *map[2] = {ma, mb};
	size_t len;
	size_t k = n - i < 64 ? n : i + 64;
	int cur = loghunt_unescape_layers(s + i, k - i, dec, map, &len);
	size_t d = 0;
	while (d < len && dec[cur][d] == '$')
		d++;
	/* a run longer than what was decoded is left to the evaluation */
	return (i + d > 0 && d < len && dec[cur][d] == '{') || (d == len && len == 64);
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

/* ---- the hunter ---- */

static void forget_reported(struct loghunt *h)
{
	for (size_t i = 0; i < h->n_reported; i++)
		free(h->reported[i].decoded);
	h->n_reported = 0;
}

/* Was this attempt reported on this line already (by an earlier message
 * of it)?  If not, it is now. */
static bool reported_before(struct loghunt *h, unsigned long long off, const char *decoded)
{
	if (h->reported_line != h->line_no) {
		forget_reported(h);
		h->reported_line = h->line_no;
	}
	for (size_t i = 0; i < h->n_reported; i++)
		if (h->reported[i].off == off && !strcmp(h->reported[i].decoded, decoded))
			return true;
	if (h->n_reported < sizeof h->reported / sizeof h->reported[0]) {
		h->reported[h->n_reported].off = off;
		h->reported[h->n_reported++].decoded = xstrdup(decoded);
	}
	return false;
}

struct loghunt *loghunt_new(lh_attempt_fn fn, void *ctx)
{
	struct loghunt *h = xcalloc(1, sizeof *h);
	h->fn = fn;
	h->ctx = ctx;
	h->buf = xmalloc(LH_BUF_SIZE);
	for (int i = 1; i <= LH_UNESCAPE_PASSES; i++) {
		h->dec[i] = xmalloc(LH_MSG_MAX + 1);
		h->map[i] = xmalloc((LH_MSG_MAX + 1) * sizeof(uint32_t));
	}
	h->opens = xmalloc((LH_MSG_MAX / 2 + 1) * sizeof(uint32_t));
	h->closed = xmalloc((LH_MSG_MAX / 2 + 1) * sizeof(uint32_t));
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
	h->no_nl_to = 0;
	h->line_no = 1;
	h->line_in_buf = true;
	h->line_start = 0;
	h->line_start_off = 0;
	h->head_len = 0;
	h->budget_line = 0;
	h->budget_used = 0;
	h->over_budget = false;
	h->alone_line = h->bound_line = h->reported_line = 0;
	forget_reported(h);
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

/* One attempt, raw_len bytes at buf[at]; j is NULL for a bound one. */
static void report(struct loghunt *h, size_t at, size_t raw_len, const struct lk_jndi *j,
		   enum lh_status status, enum lh_bound bound)
{
	struct buf ts = BUF_INIT, client = BUF_INIT, proto = BUF_INIT, host = BUF_INIT,
		   payload = BUF_INIT;
	char day[11] = "";
	size_t hn;
	const char *head = line_head(h, &hn);
	bool has_ts = loghunt_line_timestamp(head, hn, &ts, day);
	bool has_client = loghunt_line_client(head, hn, &client);
	int port = -1;
	const char *decoded = j ? j->decoded : "";
	loghunt_jndi_target(decoded, &proto, &host, &port);
	bool has_payload = loghunt_jndi_payload(decoded, &payload);
	struct lh_attempt a = {
		.path = h->path,
		.line = h->line_no,
		.offset = h->buf_off + at,
		.timestamp = has_ts ? buf_cstr(&ts) : NULL,
		.day = has_ts ? day : NULL,
		.client = has_client ? buf_cstr(&client) : NULL,
		.raw = h->buf + at,
		.raw_len = raw_len,
		.status = status,
		.bound = bound,
		.decoded = decoded,
		.protocol = buf_cstr(&proto),
		.host = buf_cstr(&host),
		.port = port,
		.exfil = j ? (const char *const *)j->exfil : NULL,
		.n_exfil = j ? j->n_exfil : 0,
		.payload = has_payload ? payload.data : NULL,
		.payload_len = has_payload ? payload.len : 0,
	};
	if (status == LH_BROKEN) {
		h->stats.broken++;
	} else {
		h->stats.attempts++;
		h->stats.bound += status == LH_BOUND;
	}
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
 * map; the same offsets when map is NULL) of the run of '$' they end, in
 * ascending order into closed; returns how many.  Matching with a stack
 * pairs "${" and '}' as Log4j's nesting counter does from any start, so
 * every other "${" here is unclosed wherever Log4j would begin. */
static size_t closed_opens(const char *dec, size_t n, const uint32_t *map, uint32_t *stack,
			   uint32_t *closed)
{
	size_t sp = 0, nc = 0;
	for (size_t i = 0; i < n; i++) {
		if (dec[i] == '$' && i + 1 < n && dec[i + 1] == '{') {
			stack[sp++] = (uint32_t)i;
			i++;
		} else if (dec[i] == '}' && sp) {
			size_t k = stack[--sp];
			while (k > 0 && dec[k - 1] == '$')
				k--;
			closed[nc++] = map ? map[k] : (uint32_t)k;
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

/* Every letter Log4j's lookups output comes from the message itself,
 * maybe with its case changed (and upper() maps dotless i onto 'I'); one
 * without the letters of "jndi" cannot make a jndi lookup, and needs no
 * evaluation.  Most messages in benign logs stop here. */
static bool may_spell_jndi(const char *s, size_t n)
{
	unsigned seen = 0;
	for (size_t i = 0; i < n && seen != 15; i++) {
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

/* The stretch from the unclosed "${" at layer offset q on (of a window of
 * dlen decoded bytes, through map): every "${" in it is unclosed too, but
 * those that close in it.  Near the end of a cut window a later start may
 * close past it: those are looked at again. */
static void note_unclosed(struct loghunt *h, size_t c, const char *dec, size_t dlen,
			  const uint32_t *map, size_t q, bool cut)
{
	size_t from = map ? map[q] : q;
	size_t avail = (map ? map[dlen] : dlen) - from;
	h->budget_used += dlen - q;
	h->n_closed = closed_opens(dec + q, dlen - q, map ? map + q : NULL, h->opens, h->closed);
	if (map)
		for (size_t i = 0; i < h->n_closed; i++)
			h->closed[i] -= (uint32_t)from;
	h->next_closed = 0;
	h->unclosed_from = h->buf_off + c + from;
	h->unclosed_to = h->unclosed_from + (cut ? avail / 2 : avail);
}

/* ---- one message ---- */

/* A message being evaluated: the window buf[c..wend) of its line, each of
 * its layers in turn. */
struct msg {
	size_t c, wend;
	size_t look_end;        /* the line looked at up to here ... */
	bool goes_on;           /* ... and it goes on after it */
	bool cut;               /* the line goes on after wend */
	size_t run_end;         /* raw end of the run of '$' at c */
	size_t resume;          /* where scanning goes on */
	bool blocked;           /* Log4j stopped early */
	bool found, forced, open_at_start, limited;
	bool noted;             /* the unclosed stretch was noted */
	unsigned naive_differs; /* layers where LK_NAIVE may find more (bits) */
	enum lk_bound lk_bound;
	int layer;              /* the layer being evaluated */
	struct {                /* what was reported, from which layer */
		size_t at, len;
		int layer;
		char *decoded;
	} seen[2 * LK_MAX_FOUND];
	size_t n_seen;
};

/* Raw offset (into buf) of offset k of a layer. */
static size_t raw_of(const struct msg *m, const uint32_t *map, size_t k)
{
	return m->c + (map ? map[k] : k);
}

/* Report what one evaluation found: once per decoded text, and once per
 * raw span over the layers (a decoded layer reports its names, not the
 * raw layer's undecoded ones); spans from `before` on are left to the
 * messages that start there. */
static void report_found(struct loghunt *h, struct msg *m, const struct lk_result *r,
			 const uint32_t *map, size_t len, enum lh_status status, size_t before)
{
	for (size_t i = 0; i < r->n_found; i++) {
		const struct lk_jndi *j = &r->found[i];
		if (j->forced)
			continue;
		/* A lookup of the first pass is its top-level "${...}"; a
		 * later pass needed the message up to its last one. */
		size_t a = j->pass == 1 ? j->expr_start : 0;
		size_t b = j->pass == 1 ? j->expr_end : (r->last_expr_end ? r->last_expr_end : len);
		size_t at = raw_of(m, map, a), end = raw_of(m, map, b);
		bool dup = at >= before;
		for (size_t k = 0; k < m->n_seen && !dup; k++)
			dup = (m->seen[k].layer != m->layer && m->seen[k].at == at &&
			       m->seen[k].len == end - at) ||
			      !strcmp(m->seen[k].decoded, j->decoded);
		if (dup || m->n_seen == sizeof m->seen / sizeof m->seen[0] ||
		    reported_before(h, h->buf_off + at, j->decoded))
			continue;
		m->seen[m->n_seen].at = at;
		m->seen[m->n_seen].len = end - at;
		m->seen[m->n_seen].layer = m->layer;
		m->seen[m->n_seen++].decoded = xstrdup(j->decoded);
		report(h, at, end - at, j, status, LH_BOUND_NONE);
		m->found = true;
	}
}

/* Could the "${" at buf[c] close further on in its line?  Looks for a '}'
 * (plain or escaped) up to where the line was looked at; a line that goes
 * on after that may close anywhere. */
static bool may_close(const struct loghunt *h, const struct msg *m)
{
	if (m->goes_on)
		return true;
	static const char *const closes[] = {"%7D", "%7d", "u007d", "u007D", "#125;", "#x7d;",
					     "#x7D;", "rbrace;", "rcub;"};
	const char *p = h->buf + m->c + 2, *end = h->buf + m->look_end;
	for (; p < end; p++) {
		if (*p == '}')
			return true;
		for (size_t k = 0; k < sizeof closes / sizeof closes[0]; k++) {
			size_t l = strlen(closes[k]);
			if ((size_t)(end - p) >= l && *p == closes[k][0] && !memcmp(p, closes[k], l))
				return true;
		}
	}
	return false;
}

/* Does the "${...}" text[0..n) hold a '$' or '{' besides its "${"s?  Its
 * value may then hold one, and make syntax for another pass. */
static bool stray_syntax(const char *text, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '$' && i + 1 < n && text[i + 1] == '{')
			i++;
		else if (text[i] == '$' || text[i] == '{')
			return true;
	}
	return false;
}

/* Can Log4j make a jndi lookup of the message text[0..len)?  In the first
 * pass only a "${...}" holding the letters of "jndi" can (every letter of a
 * lookup's name comes from its text); another pass finds something new
 * only where the first made syntax: an escape "$${" undone, or a value
 * with '$' or '{' in it.  Messages that have neither (most of the "${...}"
 * in benign logs) need no evaluation. */
static bool may_make_lookup(const char *text, size_t len)
{
	size_t i = 0;
	while (i + 1 < len) {
		const char *d = memchr(text + i, '$', len - i - 1);
		if (!d)
			return false;
		i = (size_t)(d - text);
		if (text[i + 1] == '$') {
			while (i < len && text[i] == '$')
				i++;
			if (i < len && text[i] == '{')
				return true;    /* an escape */
			continue;
		}
		if (text[i + 1] != '{') {
			i++;
			continue;
		}
		size_t e = lookup_expr_len(text + i, len - i);
		if (!e)
			return false;           /* the pass ends there */
		if (may_spell_jndi(text + i, e) || stray_syntax(text + i, e))
			return true;
		i += e;
	}
	return false;
}

/* Where the first pass of Log4j meets an unclosed "${" in text[0..len)
 * (its top-level expressions and escapes only), or len. */
static size_t first_unclosed(const char *text, size_t len)
{
	size_t i = 0;
	while (i + 1 < len) {
		const char *d = memchr(text + i, '$', len - i - 1);
		if (!d)
			break;
		i = (size_t)(d - text);
		if (text[i + 1] != '{' || (i > 0 && text[i - 1] == '$')) {
			i++;
			continue;
		}
		size_t e = lookup_expr_len(text + i, len - i);
		if (!e)
			return i;
		i += e;
	}
	return len;
}

/* Log4j's first pass met an unclosed "${" at layer offset q. */
static size_t unclosed_at(struct loghunt *h, struct msg *m, const char *text, size_t len,
			  const uint32_t *map, size_t q)
{
	if (m->cut && q > 0)
		return raw_of(m, map, q);       /* the message goes on from there */
	if (m->cut && may_close(h, m))
		m->open_at_start = true;
	m->blocked = true;
	if (!m->noted) {
		m->noted = true;
		note_unclosed(h, m->c, text, len, map, q, m->cut);
	}
	return raw_of(m, map, q + 2);
}

/* Evaluate one layer (text[0..len), raw offsets through map) as a message. */
static void eval_layer(struct loghunt *h, struct msg *m, const char *text, size_t len,
		       const uint32_t *map)
{
	size_t resume = m->wend;
	/* (a cut window goes on past what is seen: it needs only the letters) */
	if (m->cut ? !may_spell_jndi(text, len) : !may_make_lookup(text, len)) {
		/* no lookup to find, but where Log4j would stop matters */
		size_t q = first_unclosed(text, len);
		h->budget_used += len;
		if (q < len)
			resume = unclosed_at(h, m, text, len, map, q);
		if (resume < m->resume)
			m->resume = resume;
		return;
	}
	struct lk_result r;
	lookup_eval(text, len, m->cut ? LK_FORCE : 0, &r);
	h->budget_used += r.steps;
	enum lh_status status = h->alone_line == h->line_no ? LH_PERFORMED_ALONE : LH_PERFORMED;
	report_found(h, m, &r, map, len, status, SIZE_MAX);
	if (r.naive_differs)
		m->naive_differs |= 1u << m->layer;
	for (size_t i = 0; i < r.n_found; i++)
		m->forced |= r.found[i].forced;
	if (r.limited) {
		m->limited = true;
		m->lk_bound = r.bound;
	}
	if (r.stop == LK_STOP_UNCLOSED && r.stop_pass == 1) {
		resume = unclosed_at(h, m, text, len, map, r.stop_at);
	} else if (r.stop == LK_STOP_THROW) {
		resume = r.stop_at < len ? raw_of(m, map, r.stop_at) : m->run_end;
		m->blocked = true;
	}
	if (resume < m->resume)
		m->resume = resume;
	lookup_result_free(&r);
}

/* Nothing was performed: a bound that stopped the evaluation, or what an
 * attacker expected (LK_NAIVE) of the layers that can spell jndi. */
static void settle(struct loghunt *h, struct msg *m, const char *const *layers,
		   const size_t *lens, uint32_t *const *maps, int n_layers)
{
	enum lh_bound b = LH_BOUND_NONE;
	if (m->forced)
		b = LH_BOUND_MSG_LEN;
	else if (m->open_at_start)
		b = LH_BOUND_EXPR_LEN;
	else if (m->limited)
		b = m->lk_bound == LK_BOUND_DEPTH ? LH_BOUND_DEPTH :
		    m->lk_bound == LK_BOUND_TEXT  ? LH_BOUND_TEXT : LH_BOUND_STEPS;
	if (b != LH_BOUND_NONE) {
		if (h->bound_line != h->line_no) {
			h->bound_line = h->line_no;
			report(h, m->c, m->wend - m->c, NULL, LH_BOUND, b);
		}
		return;
	}
	for (int k = n_layers - 1; k >= 0 && !m->found; k--) {
		if (!(m->naive_differs & 1u << k))
			continue;
		m->layer = k;
		struct lk_result r;
		lookup_eval(layers[k], lens[k], LK_NAIVE, &r);
		h->budget_used += r.steps;
		report_found(h, m, &r, maps[k], lens[k], LH_BROKEN, m->resume);
		lookup_result_free(&r);
	}
}

static bool has_escape_bytes(const char *s, size_t n)
{
	return memchr(s, '%', n) || memchr(s, '\\', n) || memchr(s, '&', n);
}

/* Raw length of the run of '$' at the start of a layer. */
static size_t run_len(const char *text, size_t len, const uint32_t *map)
{
	size_t d = 0;
	while (d < len && text[d] == '$')
		d++;
	return map ? map[d] : d;
}

/* The message at buf[c]: its line ends at wend or goes on after it (cut);
 * looked at up to look_end, after which it may go on. */
static void evaluate_message(struct loghunt *h, size_t c, size_t wend, bool cut, size_t look_end,
			     bool goes_on)
{
	struct msg m = {.c = c, .wend = wend, .cut = cut, .look_end = look_end, .goes_on = goes_on,
			.resume = wend};
	size_t avail = wend - c;
	const char *layers[LH_UNESCAPE_PASSES + 1] = {h->buf + c};
	size_t lens[LH_UNESCAPE_PASSES + 1] = {avail};
	uint32_t *maps[LH_UNESCAPE_PASSES + 1] = {NULL};
	int n = 1;
	size_t run = run_len(h->buf + c, avail, NULL);
	/* Each pass of unescaping is a way the text may have reached
	 * Log4j; an app that decodes it sees the escape of "%24%24%7B". */
	if (has_escape_bytes(h->buf + c, avail)) {
		bool changed = true;
		while (changed && n <= LH_UNESCAPE_PASSES) {
			h->budget_used += lens[n - 1];
			lens[n] = loghunt_unescape_pass(layers[n - 1], lens[n - 1], maps[n - 1], h->dec[n],
						h->map[n], &changed);
			if (!changed)
				break;
			layers[n] = h->dec[n];
			maps[n] = h->map[n];
			size_t r = run_len(layers[n], lens[n], maps[n]);
			if (r > run)
				run = r;
			n++;
		}
	}
	m.run_end = c + (run ? run : 1);
	/* the most decoded first: its names are the ones reported */
	for (m.layer = n - 1; m.layer >= 0; m.layer--)
		eval_layer(h, &m, layers[m.layer], lens[m.layer], maps[m.layer]);
	if (!m.found)
		settle(h, &m, layers, lens, maps, n);
	if (m.blocked)
		h->alone_line = h->line_no;
	h->skip_to = m.resume > m.run_end ? m.resume : m.run_end;
	for (size_t i = 0; i < m.n_seen; i++)
		free(m.seen[i].decoded);
}

/* The candidate at buf[c]; see evaluate_message. */
static void evaluate(struct loghunt *h, size_t c, size_t wend, bool cut, size_t look_end,
		     bool goes_on)
{
	if (known_unclosed(h, h->buf_off + c) || !opens_lookup(h->buf + c, wend - c))
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
		if (!h->over_budget) {
			h->stats.lines_over_budget++;
			if (h->bound_line != h->line_no && may_spell_jndi(h->buf + c, wend - c)) {
				h->bound_line = h->line_no;
				report(h, c, wend - c, NULL, LH_BOUND, LH_BOUND_LINE_BUDGET);
			}
		}
		h->over_budget = true;
		return;
	}
	evaluate_message(h, c, wend, cut, look_end, goes_on);
}

/* The end of the line of the candidate at buf[c], looked for in the next
 * look bytes: its offset, or look's end (*found false). */
static size_t line_end(struct loghunt *h, size_t c, size_t look, bool *found)
{
	size_t from = c;
	if (h->no_nl_to > h->buf_off + c)
		from = (size_t)(h->no_nl_to - h->buf_off);
	if (from < c + look) {
		const char *nl = memchr(h->buf + from, '\n', c + look - from);
		if (nl) {
			*found = true;
			return (size_t)(nl - h->buf);
		}
		h->no_nl_to = h->buf_off + c + look;
	}
	*found = false;
	return c + look;
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
		size_t look = avail < LH_LOOKAHEAD ? avail : LH_LOOKAHEAD;
		bool nl;
		size_t end = line_end(h, c, look, &nl);
		if (!nl && avail < LH_LOOKAHEAD && !final) {
			pos = c;    /* wait for the line's end, or enough of it */
			break;
		}
		/* unless the stream ended within what was looked at */
		bool goes_on = !nl && (!final || avail > LH_LOOKAHEAD);
		size_t wend = end - c > LH_MSG_MAX ? c + LH_MSG_MAX : end;
		evaluate(h, c, wend, wend < end || goes_on, end, goes_on);
		pos = c + 1;
	}
	h->scan_pos = pos;
}

/* Make room: drop what no pending candidate needs. */
static void compact(struct loghunt *h)
{
	size_t keep = h->scan_pos < h->len ? h->scan_pos : h->len;
	if (keep > 0)
		keep--;                 /* one byte of look-behind */
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
	for (int i = 1; i <= LH_UNESCAPE_PASSES; i++) {
		free(h->dec[i]);
		free(h->map[i]);
	}
	forget_reported(h);
	free(h->opens);
	free(h->closed);
	free(h);
}
