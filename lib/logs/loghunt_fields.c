/* loghunt_fields.c - what a reported attempt carries besides its text: the
 * line's timestamp and client address, the JNDI URL's protocol, host, port
 * and any base64 payload, and the tallies the summary is made of; and the
 * names of an attempt's status and bound.  Pure functions of bytes, no
 * stream state (that is loghunt.c). */
#include "logs/loghunt.h"
#include "logs/loghunt_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

bool loghunt_line_timestamp(const char *line, size_t n, struct buf *ts, char day[11])
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

bool loghunt_line_client(const char *line, size_t n, struct buf *client)
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
		else if (loghunt_hexval((unsigned char)c) < 0)
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

void loghunt_jndi_target(const char *decoded, struct buf *protocol, struct buf *host, int *port)
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

bool loghunt_jndi_payload(const char *decoded, struct buf *out)
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

void loghunt_tally_add(struct lh_tally *t, const char *key)
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

void loghunt_tally_sort(struct lh_tally *t)
{
	if (t->n)
		qsort(t->v, t->n, sizeof *t->v, by_count);
	free(t->slots);
	t->slots = NULL;
	t->n_slots = 0;
}

void loghunt_tally_free(struct lh_tally *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].key);
	free(t->v);
	free(t->slots);
	memset(t, 0, sizeof *t);
}

/* ---- names */

const char *loghunt_status_name(enum lh_status st)
{
	static const char *const names[] = {"performed", "performed_alone", "bound", "broken"};
	return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

const char *loghunt_bound_name(enum lh_bound b)
{
	static const char *const names[] = {"none", "expression length", "message length",
					    "nesting depth", "intermediate text size",
					    "evaluation steps", "line budget"};
	return (unsigned)b < sizeof names / sizeof names[0] ? names[b] : "?";
}
