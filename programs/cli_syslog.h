/* cli_syslog.h - findings to the local syslog / journald (scan --syslog),
 * one message per finding, for SIEM pickup.
 *
 * cli_syslog_open() calls openlog("log4scan", LOG_PID | LOG_NDELAY,
 * LOG_AUTHPRIV): LOG_NDELAY connects to /dev/log at once, so it must be
 * called before a seccomp filter that forbids socket()/connect() is
 * installed; later syslog() calls only send() on the connected socket.
 * cli_syslog_finding() sends one message per finding, priority LOG_WARNING
 * for vulnerable, LOG_NOTICE for mitigated, LOG_INFO for safe, e.g.
 *   [log4scan@32473 path="/srv/a.jar" component="log4j-core" version="2.14.1"
 *    status="vulnerable" severity="critical" cves="CVE-2021-44228 ..."
 *    sha256="..."] log4j-core 2.14.1 vulnerable: /srv/a.jar
 * an RFC 5424 STRUCTURED-DATA element (32473 is the example enterprise
 * number of RFC 5612) followed by a human summary.  PARAM-VALUEs escape
 * '"', '\' and ']' with a backslash; a path that is not valid UTF-8 or that
 * holds control characters is written with '?' for those bytes and its exact
 * bytes in path_b64. */
#ifndef L4S_CLI_SYSLOG_H
#define L4S_CLI_SYSLOG_H

#include "detect/detect.h"
#include "util/buf.h"

void cli_syslog_open(void);
void cli_syslog_finding(const struct finding *f);
void cli_syslog_close(void);
/* The message text without the syslog header (for tests). */
void cli_syslog_format(struct buf *b, const struct finding *f);

#endif
