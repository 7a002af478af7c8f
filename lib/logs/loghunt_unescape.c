/* loghunt_unescape.c - the transport escapes a log line may carry (%XX,
 * \uXXXX, \xXX, backslashes, HTML character references), undone pass by
 * pass with a map from each output byte back to the raw bytes: what lets the
 * hunter (loghunt.c) see a "${" however it was spelled, and report the raw
 * text of what it found. */
#include "logs/loghunt.h"
#include "logs/loghunt_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

int loghunt_hexval(unsigned char c)
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
		int h = loghunt_hexval((unsigned char)s[i]);
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
				int d = hex ? loghunt_hexval((unsigned char)s[i])
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
size_t loghunt_unescape_pass(const char *s, size_t n, const uint32_t *in_map, char *out,
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
int loghunt_unescape_layers(const char *s, size_t n, char *dec[2], uint32_t *map[2],
			    size_t *out_len)
{
	bool changed;
	size_t len = loghunt_unescape_pass(s, n, NULL, dec[0], map[0], &changed);
	int cur = 0;
	for (int pass = 1; changed && pass < LH_UNESCAPE_PASSES; pass++) {
		len = loghunt_unescape_pass(dec[cur], len, map[cur], dec[!cur], map[!cur], &changed);
		cur = !cur;
	}
	*out_len = len;
	return cur;
}

size_t loghunt_unescape(const char *s, size_t n, char *out, uint32_t *map)
{
	char *dec[2] = {xmalloc(n + 1), xmalloc(n + 1)};
	uint32_t *maps[2] = {xmalloc((n + 1) * sizeof(uint32_t)), xmalloc((n + 1) * sizeof(uint32_t))};
	size_t len;
	int cur = loghunt_unescape_layers(s, n, dec, maps, &len);
	memcpy(out, dec[cur], len);
	if (map)
		memcpy(map, maps[cur], (len + 1) * sizeof(uint32_t));
	free(dec[0]);
	free(dec[1]);
	free(maps[0]);
	free(maps[1]);
	return len;
}
