/* hostinfo.h - who this host is, as the first line of a report sent to
 * log4scan-server (the "envelope").
 *
 *   {"kind":"report","report_id":"<uuid v4>","created":"<UTC RFC 3339>",
 *    "agent_version":"...","command":"scan","host":{"hostname":"...",
 *    "machine_id":"<32 hex>","os":"<PRETTY_NAME>","kernel":"<uname -r>",
 *    "ips":[...],"tags":[...]}}
 *
 * Sources: gethostname(), /etc/machine-id (or /var/lib/dbus/machine-id),
 * /etc/os-release (or /usr/lib/os-release) PRETTY_NAME, uname() release,
 * getifaddrs() for the non-loopback IPv4/IPv6 addresses, getrandom() for
 * the report id.  Missing sources are left out (the server then identifies
 * the device by host name); nothing here prints or exits. */
#ifndef L4S_HOSTINFO_H
#define L4S_HOSTINFO_H

#include <stddef.h>

#include "buf.h"

/* A random (version 4) UUID, lower case.  -1 when the kernel gives no
 * randomness. */
int l4s_uuid4(char out[37]);

struct l4s_envelope_opts {
	const char *command;            /* "scan", "logs", "ps" */
	const char *const *tags;        /* ntags operator-chosen labels, may be NULL */
	size_t ntags;
	const char *root;               /* read etc files under this root ("" or NULL = /) */
};

/* Append the envelope line (ending in '\n') to out and store the new report
 * id in report_id.  0 on success, -1 with a reason in err. */
int l4s_envelope(struct buf *out, const struct l4s_envelope_opts *o, char report_id[37], struct buf *err);

#endif
