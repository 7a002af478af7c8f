/* lookup_eval.h - evaluate a logged message the way Log4j 2.0-2.14 does
 * when it writes it, to find out which JNDI lookups it would perform.
 *
 * The input is the text of one message (already freed of URL and other
 * transport escapes by the caller).  Log4j's MessagePatternConverter looks
 * through the formatted message for "${"; at each one it hands the whole
 * message to StrSubstitutor.replace and carries on looking, one byte
 * further, in the result.  So the message is substituted again as long as
 * a "${" follows the place of the last one ("passes"): `$${jndi:x} ${y}`
 * loses its escape in the first pass and is looked up in the second.  One
 * pass (StrSubstitutor.substitute) copies the text; at each "${" whose '}'
 * it finds (counting nested "${"), it substitutes the name first (a fresh
 * substitution of its own), splits it at the first ":-" (":\-" escapes
 * the delimiter, with 2.14's quirks) into name and default, asks the
 * Interpolator, falls back to the default, and substitutes the value again
 * in place; an unresolved variable keeps its text.  "$${" loses its first
 * '$' and is not evaluated, wherever that '$' came from (a lookup's value
 * "$" escapes the "${" after it).  An unclosed "${" ends the pass there.
 *
 * The Interpolator is emulated as the configuration's: prefixes are
 * matched case-insensitively (ASCII only: "JNDİ" is not "jndi"), a prefix
 * that yields nothing retries the rest in the context properties
 * (hostName, contextName).  What each lookup gives is a table in
 * lookup_eval.c: jndi is recorded and fails (null, as a blocked one does);
 * lower/upper change case (Java's mappings onto ASCII included: ı -> I,
 * ſ -> S, K -> k, ligatures); date formats its pattern (quoted text is the
 * attacker's, fields are not); lookups that always resolve on a JVM
 * (sys:java.version and the other standard properties, java:version/
 * runtime/vm/os/hw/locale, env:PATH, hostName, contextName,
 * event:Level ...) give an opaque host value (path.separator,
 * file.separator and line.separator give their Linux values); other host
 * lookups (env:NOPE, sys:nope, ctx, main, map, marker, bundle, k8s ...)
 * give nothing, so their default applies.  java:<unknown key>, a variable
 * that recurs in its own value (`${x:-$${x}}`) and event:Message throw:
 * Log4j stops formatting the message there.
 *
 * Work is bounded: nesting and rescan depth, the size of any intermediate
 * text, and the number of bytes examined.  When a bound is hit the result
 * says which, and holds what was found before. */
#ifndef L4S_LOOKUP_EVAL_H
#define L4S_LOOKUP_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#define LK_MAX_DEPTH   128         /* nested lookups plus rescans */
#define LK_MAX_TEXT    (64 << 10)  /* bytes of any intermediate text */
#define LK_MAX_STEPS   (1 << 20)   /* bytes examined per evaluation */
#define LK_MAX_FOUND   16          /* distinct jndi lookups kept per message */
#define LK_MAX_EXFIL   16          /* exfiltration lookups kept per jndi lookup */

/* Modes (flags). */
#define LK_NAIVE  1u   /* as an attacker expects: every lookup but jndi, lower,
			  upper and date gives nothing, nothing throws */
#define LK_FORCE  2u   /* after the last pass, one more (the message goes on
			  beyond the text: a "${" there would start it) */

enum lk_bound { LK_BOUND_NONE, LK_BOUND_DEPTH, LK_BOUND_TEXT, LK_BOUND_STEPS };

/* Why Log4j stopped before the end of the message. */
enum lk_stop {
	LK_STOP_NONE,
	LK_STOP_UNCLOSED,       /* a "${" without its '}' ends the pass */
	LK_STOP_THROW,          /* a lookup threw: formatting stops */
};

struct lk_jndi {
	char *decoded;          /* "jndi:ldap://host/a" as Log4j resolved it */
	size_t n_exfil;
	char *exfil[LK_MAX_EXFIL]; /* "env:AWS_SECRET_ACCESS_KEY", "hostName", ... */
	unsigned pass;          /* the pass that performed it first (1 = first) */
	bool forced;            /* only in the LK_FORCE pass */
	size_t expr_start, expr_end; /* pass 1: the top-level "${...}" holding it */
};

struct lk_result {
	size_t n_found;
	struct lk_jndi found[LK_MAX_FOUND];
	bool limited;           /* a bound was hit; the evaluation stopped early */
	enum lk_bound bound;    /* which */
	enum lk_stop stop;
	unsigned stop_pass;     /* the pass in which it stopped */
	size_t stop_at;         /* pass 1: the unclosed "${", or the end of the
				   top-level expression that threw */
	size_t last_expr_end;   /* end of the last closed top-level "${...}" of pass 1 */
	unsigned passes;
	bool naive_differs;     /* a lookup that resolves on a JVM had a default,
				   or something threw: LK_NAIVE may find more */
	size_t steps;           /* work done, for the caller's own budget */
};

/* Length of the "${...}" expression at s[0..n) (through its closing '}'),
 * matching braces as Log4j does, or 0 when s does not start with "${" or
 * the expression is not closed within n bytes. */
size_t lookup_expr_len(const char *s, size_t n);

/* Evaluate s[0..n) as a logged message (flags: LK_NAIVE, LK_FORCE) and
 * fill res.  Returns the number of distinct jndi lookups found.  Release
 * with lookup_result_free. */
size_t lookup_eval(const char *s, size_t n, unsigned flags, struct lk_result *res);
void lookup_result_free(struct lk_result *res);

/* "nesting depth", "intermediate text size", "evaluation steps". */
const char *lookup_bound_name(enum lk_bound b);

#endif
