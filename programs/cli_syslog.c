/* cli_syslog.c - findings to the local syslog / journald, one message per
 * finding, for SIEM pickup (see cli_syslog.h for the message layout).
 *
 * Uses syslog(3) (facility LOG_AUTHPRIV, ident "log4scan", with the pid):
 * the C library writes to /dev/log, which journald or rsyslog serve.  The
 * message starts with an RFC 5424 STRUCTURED-DATA element so a collector can
 * parse the fields without guessing; RFC 3164 relays keep it intact as the
 * start of the MSG part.  Values are made safe before they are written: the
 * three characters RFC 5424 escapes ('"', '\', ']') get a backslash, and
 * bytes that are not valid UTF-8 or are control characters become '?', so
 * a hostile file name can neither break out of its parameter nor forge a
 * new log line; the exact bytes of such a path go in path_b64. */
#include <string.h>
#include <syslog.h>

#include "cli_syslog.h"
#include "util/jsonw.h"

void cli_syslog_open(void)
{
	openlog("log4scan", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

void cli_syslog_close(void)
{
	closelog();
}

/* Append s as a PARAM-VALUE body; returns false when bytes were replaced. */
static bool sd_value(struct buf *b, const char *s)
{
	bool clean = true;
	size_t n = strlen(s), i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			/* Length of the UTF-8 sequence at i, when valid. */
			size_t l = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
			if (l > 1 && i + l <= n && jsonw_utf8_valid(s + i, l)) {
				buf_add(b, s + i, l);
				i += l;
			} else {
				buf_addc(b, '?');
				clean = false;
				i++;
			}
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			buf_addc(b, '?');
			clean = false;
		} else {
			if (c == '"' || c == '\\' || c == ']')
				buf_addc(b, '\\');
			buf_addc(b, (char)c);
		}
		i++;
	}
	return clean;
}

static void param(struct buf *b, const char *name, const char *value)
{
	buf_printf(b, " %s=\"", name);
	sd_value(b, value ? value : "");
	buf_addc(b, '"');
}

static void cve_param(struct buf *b, const char *name, const struct rule_cve *const *v, size_t n)
{
	struct buf l = BUF_INIT;
	for (size_t i = 0; i < n; i++)
		buf_printf(&l, "%s%s", i ? " " : "", v[i]->id);
	param(b, name, buf_cstr(&l));
	buf_free(&l);
}

void cli_syslog_format(struct buf *b, const struct finding *f)
{
	const char *path = f->path ? f->path : "";
	buf_adds(b, "[log4scan@32473 path=\"");
	bool clean = sd_value(b, path);
	buf_addc(b, '"');
	if (!clean) {
		buf_adds(b, " path_b64=\"");
		jsonw_base64(b, (const unsigned char *)path, strlen(path));
		buf_addc(b, '"');
	}
	param(b, "component", rules_component_name(f->comp));
	param(b, "version", f->version);
	param(b, "status", finding_status_name(f->status));
	param(b, "severity", f->severity ? f->severity : "none");
	cve_param(b, "cves", f->cves, f->ncves);
	if (f->nmitigated)
		cve_param(b, "mitigated_cves", f->mitigated, f->nmitigated);
	if (f->fixed_in[0])
		param(b, "fixed_in", f->fixed_in);
	if (f->sha256[0])
		param(b, "sha256", f->sha256);
	if (f->pid)
		buf_printf(b, " pid=\"%ld\"", f->pid);
	buf_printf(b, "] %s %s %s", rules_component_name(f->comp), f->version[0] ? f->version : "(version unknown)",
		   finding_status_name(f->status));
	if (f->ncves)
		buf_printf(b, " (%s)", f->severity ? f->severity : "none");
	buf_adds(b, ": ");
	sd_value(b, path);
}

void cli_syslog_finding(const struct finding *f)
{
	struct buf b = BUF_INIT;
	cli_syslog_format(&b, f);
	int pri = f->status == ST_VULNERABLE ? LOG_WARNING : f->status == ST_MITIGATED ? LOG_NOTICE : LOG_INFO;
	syslog(LOG_AUTHPRIV | pri, "%s", buf_cstr(&b));
	buf_free(&b);
}
