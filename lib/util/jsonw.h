/* jsonw.h - writing JSON text (the library never parses JSON it did not
 * write; the collector parses reports with jansson).
 *
 * File names on Unix are bytes, not text.  JSON strings must be UTF-8, so a
 * name that is not valid UTF-8 is written with U+FFFD in place of each bad
 * byte, and the exact bytes are added beside it as base64 in a sibling field
 * named "<key>_b64".  Nothing is dropped and every JSON parser accepts the
 * result (lone-surrogate tricks are rejected by several parsers). */
#ifndef L4S_JSONW_H
#define L4S_JSONW_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

bool jsonw_utf8_valid(const char *s, size_t n);

/* Append s (n bytes) as a quoted JSON string; invalid UTF-8 becomes U+FFFD.
 * Returns false when a replacement happened. */
bool jsonw_str(struct buf *b, const char *s, size_t n);
bool jsonw_cstr(struct buf *b, const char *s);

/* Append  "key":"value"  and, when value is not UTF-8,  ,"key_b64":"..." .
 * A leading comma is written when `comma` is true. */
void jsonw_field_str(struct buf *b, bool comma, const char *key, const char *value);
/* "key":"value" with no _b64 sibling, for formats whose schemas forbid
 * extra fields (SARIF, CycloneDX); invalid UTF-8 still becomes U+FFFD. */
void jsonw_field_plain(struct buf *b, bool comma, const char *key, const char *value);
/* jsonw_field_str, or  "key":null  when value is NULL */
void jsonw_field_str_or_null(struct buf *b, bool comma, const char *key, const char *value);
void jsonw_field_int(struct buf *b, bool comma, const char *key, long long v);
/* ,"key":["a","b"] : n strings (a leading comma always) */
void jsonw_field_strv(struct buf *b, const char *key, const char *const *v, size_t n);
void jsonw_field_bool(struct buf *b, bool comma, const char *key, bool v);

void jsonw_base64(struct buf *b, const unsigned char *p, size_t n);

/* Human output: bytes that are not printable UTF-8 become \xNN, so a file
 * named with a newline or an escape sequence cannot forge a line. */
void jsonw_text_escape(struct buf *b, const char *s);

#endif
