/* test_jsonw.c - unit tests for the JSON writer (lib/util/jsonw.c): escaping,
 * UTF-8 validation (overlong forms, surrogates, > U+10FFFF, truncated
 * sequences), U+FFFD replacement plus the exact bytes in a "<key>_b64"
 * sibling (decoded here to check the round trip), base64 padding, and the
 * text escaper that keeps file names from forging output lines. */
#include <stdlib.h>

#include "unit.h"
#include "util/jsonw.h"

static int b64val(int c)
{
	const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(t, c) : NULL;
	return p ? (int)(p - t) : -1;
}

/* decode standard base64 with padding; returns length or -1 */
static long b64dec(const char *s, unsigned char *out)
{
	size_t n = strlen(s), o = 0;
	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		for (int k = 0; k < 4; k++)
			v[k] = s[i + k] == '=' ? 0 : b64val(s[i + k]);
		if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0)
			return -1;
		unsigned x = (unsigned)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
		out[o++] = (unsigned char)(x >> 16);
		if (s[i + 2] != '=')
			out[o++] = (unsigned char)(x >> 8);
		if (s[i + 3] != '=')
			out[o++] = (unsigned char)x;
	}
	return (long)o;
}

static const char *js(struct buf *b, const char *s, size_t n, bool *clean)
{
	buf_reset(b);
	*clean = jsonw_str(b, s, n);
	return buf_cstr(b);
}

int main(void)
{
	struct buf b = BUF_INIT;
	bool clean;
	CHECK_STR("json: plain", js(&b, "abc", 3, &clean), "\"abc\"");
	CHECK("json: plain is clean", clean);
	CHECK_STR("json: escapes", js(&b, "a\"b\\c\nd\re\tf\bg\fh", 15, &clean),
		  "\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\"");
	CHECK_STR("json: control chars as \\u00XX", js(&b, "\x01\x1f\x7f", 3, &clean), "\"\\u0001\\u001f\\u007f\"");
	CHECK_STR("json: embedded NUL", js(&b, "a\0b", 3, &clean), "\"a\\u0000b\"");
	CHECK_STR("json: valid UTF-8 kept", js(&b, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, &clean),
		  "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	CHECK("json: valid UTF-8 is clean", clean);
	CHECK_STR("json: Latin-1 byte replaced", js(&b, "caf\xe9", 4, &clean), "\"caf\xef\xbf\xbd\"");
	CHECK("json: replacement reported", !clean);
	CHECK_STR("json: each bad byte replaced", js(&b, "\xff\xfe", 2, &clean),
		  "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	CHECK_STR("json: truncated sequence at end", js(&b, "a\xe2\x82", 3, &clean),
		  "\"a\xef\xbf\xbd\xef\xbf\xbd\"");
	CHECK("json: cstr NULL is empty string", (buf_reset(&b), jsonw_cstr(&b, NULL)) && !strcmp(buf_cstr(&b), "\"\""));

	CHECK("utf8: ASCII", jsonw_utf8_valid("hello", 5));
	CHECK("utf8: empty", jsonw_utf8_valid("", 0));
	CHECK("utf8: overlong 2-byte NUL", !jsonw_utf8_valid("\xc0\x80", 2));
	CHECK("utf8: overlong 3-byte", !jsonw_utf8_valid("\xe0\x80\xaf", 3));
	CHECK("utf8: overlong 4-byte", !jsonw_utf8_valid("\xf0\x80\x80\xaf", 4));
	CHECK("utf8: surrogate", !jsonw_utf8_valid("\xed\xa0\x80", 3));
	CHECK("utf8: above U+10FFFF", !jsonw_utf8_valid("\xf4\x90\x80\x80", 4));
	CHECK("utf8: U+10FFFF ok", jsonw_utf8_valid("\xf4\x8f\xbf\xbf", 4));
	CHECK("utf8: U+FFFD ok", jsonw_utf8_valid("\xef\xbf\xbd", 3));
	CHECK("utf8: lone continuation", !jsonw_utf8_valid("\x80", 1));
	CHECK("utf8: truncated 4-byte", !jsonw_utf8_valid("\xf0\x9f\x98", 3));
	CHECK("utf8: bad continuation", !jsonw_utf8_valid("\xc3\x28", 2));
	CHECK("utf8: F5 lead byte", !jsonw_utf8_valid("\xf5\x80\x80\x80", 4));

	/* base64 padding */
	static const struct { const char *in; const char *out; } b64[] = {
		{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},
		{"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
	for (size_t i = 0; i < sizeof b64 / sizeof b64[0]; i++) {
		char n[64];
		buf_reset(&b);
		jsonw_base64(&b, (const unsigned char *)b64[i].in, strlen(b64[i].in));
		snprintf(n, sizeof n, "base64: \"%s\"", b64[i].in);
		CHECK_STR(n, buf_cstr(&b), b64[i].out);
	}
	/* every byte value round-trips */
	unsigned char all[256], back[300];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	buf_reset(&b);
	jsonw_base64(&b, all, 256);
	CHECK("base64: 256 byte values round-trip", b64dec(buf_cstr(&b), back) == 256 && !memcmp(all, back, 256));

	/* field with a non-UTF-8 value: U+FFFD in the value, exact bytes in _b64 */
	const char *name = "/srv/caf\xe9/log4j-core-2.14.1.jar";
	buf_reset(&b);
	jsonw_field_str(&b, true, "path", name);
	CHECK_STR("field: non-UTF-8 gets path_b64", buf_cstr(&b),
		  ",\"path\":\"/srv/caf\xef\xbf\xbd/log4j-core-2.14.1.jar\",\"path_b64\":\"L3Nydi9jYWbpL2xvZzRqLWNvcmUtMi4xNC4xLmphcg==\"");
	const char *q = strstr(buf_cstr(&b), "_b64\":\"");
	char enc[200] = "";
	if (q) {
		q += 7;
		size_t l = strcspn(q, "\"");
		memcpy(enc, q, l);
		enc[l] = 0;
	}
	long dl = b64dec(enc, back);
	CHECK("field: path_b64 decodes to the exact bytes", dl == (long)strlen(name) && !memcmp(back, name, (size_t)dl));
	buf_reset(&b);
	jsonw_field_str(&b, false, "path", "/ok/\xc3\xa9");
	CHECK_STR("field: UTF-8 value has no _b64", buf_cstr(&b), "\"path\":\"/ok/\xc3\xa9\"");
	buf_reset(&b);
	jsonw_field_str(&b, false, "k", NULL);
	CHECK_STR("field: NULL value is empty", buf_cstr(&b), "\"k\":\"\"");
	buf_reset(&b);
	jsonw_field_int(&b, true, "n", -5);
	jsonw_field_bool(&b, true, "t", true);
	CHECK_STR("field: int and bool", buf_cstr(&b), ",\"n\":-5,\"t\":true");

	/* text escaping */
	buf_reset(&b);
	jsonw_text_escape(&b, "a\nVULNERABLE fake\x1b[31m\\ caf\xc3\xa9 \xe9");
	CHECK_STR("text: newline, ESC, backslash, bad byte escaped; UTF-8 kept", buf_cstr(&b),
		  "a\\x0aVULNERABLE fake\\x1b[31m\\x5c caf\xc3\xa9 \\xe9");
	buf_reset(&b);
	jsonw_text_escape(&b, "\x7f\t");
	CHECK_STR("text: DEL and tab", buf_cstr(&b), "\\x7f\\x09");
	buf_free(&b);
	UNIT_EXIT();
}
