/* lookup_eval.h - evaluate Log4j 2 lookup syntax the way Log4j would, to
 * find out whether a logged string would have made it do a JNDI lookup.
 *
 * The input is one "${...}" expression (already freed of URL and other
 * transport escapes by the caller).  The evaluator follows StrSubstitutor
 * and Interpolator of Log4j 2.0-2.14: nested "${" inside a variable name are
 * substituted first (inside-out), the name is split at the first ":-" into
 * key and default, the prefix before the first ':' picks a lookup
 * (case-insensitively), a lookup that yields nothing falls back to the
 * default, "$${" is a literal "${", and a replaced value is scanned again.
 *
 * Lookups whose result an attacker controls are computed (lower, upper,
 * date:'x', defaults of env/sys/k8s/any unknown prefix); lookups that read
 * the host (env, sys, java, hostName, ...) without a default become opaque
 * markers "${env:NAME}" and are remembered: those found inside the URL of a
 * jndi lookup are reported as data exfiltration.  Every "jndi" lookup that
 * would have been performed is reported with its resolved text.
 *
 * Work is bounded: nesting and rescan depth, the size of any intermediate
 * text, and the number of evaluation steps.  When a bound is hit the result
 * says so and holds what was found before. */
#ifndef L4S_LOOKUP_EVAL_H
#define L4S_LOOKUP_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#define LK_MAX_DEPTH   24          /* nested lookups plus rescans */
#define LK_MAX_TEXT    (64 << 10)  /* bytes of any intermediate text */
#define LK_MAX_STEPS   (1 << 20)   /* bytes examined per evaluation */
#define LK_MAX_FOUND   16          /* jndi lookups kept per expression */
#define LK_MAX_EXFIL   16          /* exfiltration lookups kept per jndi lookup */

struct lk_jndi {
	char *decoded;          /* "jndi:ldap://host/a" as Log4j resolved it */
	size_t n_exfil;
	char *exfil[LK_MAX_EXFIL]; /* "env:AWS_SECRET_ACCESS_KEY", "hostName", ... */
};

struct lk_result {
	size_t n_found;
	struct lk_jndi found[LK_MAX_FOUND];
	bool limited;           /* a bound was hit; the evaluation stopped early */
	size_t steps;           /* work done, for the caller's own budget */
};

/* Length of the "${...}" expression at s[0..n) (through its closing '}'),
 * matching braces as Log4j does, or 0 when s does not start with "${" or
 * the expression is not closed within n bytes. */
size_t lookup_expr_len(const char *s, size_t n);

/* Evaluate the text s[0..n) as a Log4j message would be (normally a single
 * "${...}" expression) and fill res.  Returns the number of jndi lookups
 * found.  Release with lookup_result_free. */
size_t lookup_eval(const char *s, size_t n, struct lk_result *res);
void lookup_result_free(struct lk_result *res);

#endif
