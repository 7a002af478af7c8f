/* jsonw.c - JSON string escaping, UTF-8 validation and base64 (see jsonw.h). */
#include "util/jsonw.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid.
 * Rejects overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned cp;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

bool jsonw_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		size_t l = utf8_seq(p + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

bool jsonw_str(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	bool clean = true;
	buf_reserve(b, n + 2);
	buf_addc(b, '"');
	size_t i = 0;
	while (i < n) {
		/* a run of characters that need no escaping, copied at once */
		size_t j = i;
		while (j < n && p[j] >= 0x20 && p[j] < 0x7f && p[j] != '"' && p[j] != '\\')
			j++;
		if (j > i) {
			buf_add(b, p + i, j - i);
			i = j;
			continue;
		}
		unsigned char c = p[i];
		if (c >= 0x80) {
			size_t l = utf8_seq(p + i, n - i);
			if (l) {
				buf_add(b, p + i, l);
				i += l;
			} else {
				buf_adds(b, "\xEF\xBF\xBD");
				clean = false;
				i++;
			}
			continue;
		}
		switch (c) {
		case '"': buf_adds(b, "\\\""); break;
		case '\\': buf_adds(b, "\\\\"); break;
		case '\n': buf_adds(b, "\\n"); break;
		case '\r': buf_adds(b, "\\r"); break;
		case '\t': buf_adds(b, "\\t"); break;
		case '\b': buf_adds(b, "\\b"); break;
		case '\f': buf_adds(b, "\\f"); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
				buf_add(b, e, 6);
			} else {
				buf_addc(b, (char)c);
			}
		}
		i++;
	}
	buf_addc(b, '"');
	return clean;
}

bool jsonw_cstr(struct buf *b, const char *s)
{
	return jsonw_str(b, s ? s : "", s ? strlen(s) : 0);
}

void jsonw_base64(struct buf *b, const unsigned char *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char o[4] = {tab[(v >> 18) & 63], tab[(v >> 12) & 63],
			     i + 1 < n ? tab[(v >> 6) & 63] : '=', i + 2 < n ? tab[v & 63] : '='};
		buf_add(b, o, 4);
	}
}

void jsonw_field_str_or_null(struct buf *b, bool comma, const char *key, const char *value)
{
	if (value) {
		jsonw_field_str(b, comma, key, value);
		return;
	}
	if (comma)
		buf_addc(b, ',');
	jsonw_cstr(b, key);
	buf_adds(b, ":null");
}

void jsonw_field_str(struct buf *b, bool comma, const char *key, const char *value)
{
	if (!value)
		value = "";
	size_t n = strlen(value);
	if (comma)
		buf_addc(b, ',');
	jsonw_cstr(b, key);
	buf_addc(b, ':');
	if (!jsonw_str(b, value, n)) {
		buf_printf(b, ",\"%s_b64\":\"", key);
		jsonw_base64(b, (const unsigned char *)value, n);
		buf_addc(b, '"');
	}
}

void jsonw_field_plain(struct buf *b, bool comma, const char *key, const char *value)
{
	if (comma)
		buf_addc(b, ',');
	jsonw_cstr(b, key);
	buf_addc(b, ':');
	jsonw_cstr(b, value);
}

void jsonw_field_int(struct buf *b, bool comma, const char *key, long long v)
{
	buf_printf(b, "%s\"%s\":%lld", comma ? "," : "", key, v);
}

void jsonw_field_bool(struct buf *b, bool comma, const char *key, bool v)
{
	buf_printf(b, "%s\"%s\":%s", comma ? "," : "", key, v ? "true" : "false");
}

void jsonw_text_escape(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;
	while (i < n) {
		unsigned char c = p[i];
		size_t l = c >= 0x80 ? utf8_seq(p + i, n - i) : 1;
		if (c >= 0x80 && l) {
			buf_add(b, p + i, l);
			i += l;
			continue;
		}
		if (c < 0x20 || c == 0x7f || c >= 0x80 || c == '\\')
			buf_printf(b, "\\x%02x", c);
		else
			buf_addc(b, (char)c);
		i++;
	}
}

void jsonw_field_strv(struct buf *b, const char *key, const char *const *v, size_t n)
{
	buf_printf(b, ",\"%s\":[", key);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addc(b, ',');
		jsonw_cstr(b, v[i]);
	}
	buf_addc(b, ']');
}
