/* loghunt_internal.h - what the files of the log hunter share and nobody
 * else uses: the unescaping passes (loghunt_unescape.c) that the hunter
 * (loghunt.c) runs layer by layer, and one hex digit's value, which the
 * client-address reader (loghunt_fields.c) uses too. */
#ifndef L4S_LOGHUNT_INTERNAL_H
#define L4S_LOGHUNT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value of a hex digit, -1 when c is none. */
int loghunt_hexval(unsigned char c);
/* One pass; returns the output length, *changed when an escape was found.
 * out_map (when not NULL) maps each output byte to in_map's entry for its
 * source byte, or to its offset in s when in_map is NULL. */
size_t loghunt_unescape_pass(const char *s, size_t n, const uint32_t *in_map, char *out,
			     uint32_t *out_map, bool *changed);
/* Up to LH_UNESCAPE_PASSES passes, alternating between the two scratch
 * pairs (each n + 1 long); returns which of them holds the result (its
 * length in *out_len). */
int loghunt_unescape_layers(const char *s, size_t n, char *dec[2], uint32_t *map[2], size_t *out_len);

#endif
