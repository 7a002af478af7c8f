/* lib/win32/include/syslog.h - Windows has no syslog: the three calls
 * programs/cli_syslog.c makes, as a notice that --syslog is absent on Windows
 * (the report itself is unaffected). */
#ifndef L4S_WIN32_SYSLOG_H
#define L4S_WIN32_SYSLOG_H
#include <stdio.h>
#define LOG_PID 0x01
#define LOG_NDELAY 0x08
#define LOG_AUTHPRIV (10 << 3)
#define LOG_WARNING 4
#define LOG_NOTICE 5
#define LOG_INFO 6
static inline void openlog(const char *ident, int opt, int facility)
{
	(void)ident, (void)opt, (void)facility;
	fputs("log4scan: --syslog is not available on Windows; findings are in the report only\n", stderr);
}
static inline void closelog(void) {}
#define syslog(prio, ...) ((void)(prio))
#endif
