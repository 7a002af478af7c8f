/* hostinfo.h - who this host and this install are: what a report's envelope
 * (lib/submit/envelope.h) says about where it comes from.
 *
 * Two identities, because one is not enough:
 *   machine_id  the operating system's id of the machine: /etc/machine-id
 *               (or /var/lib/dbus/machine-id) on Linux, MachineGuid
 *               (HKLM\SOFTWARE\Microsoft\Cryptography) on Windows, without
 *               its dashes.  VM templates and golden images copy it, so two
 *               hosts can share one.
 *   agent_id    this install's own id: a random UUID created the first time a
 *               report is written, kept in the state directory (Linux:
 *               STATE/agent-id, mode 0644) or in the registry beside
 *               MachineGuid's key (Windows: HKLM\SOFTWARE\log4scan, value
 *               AgentId; HKCU\Software\log4scan when HKLM cannot be
 *               written).  A clone made after the first run keeps it too;
 *               one made from an image that never ran log4scan does not.
 * The collector keeps one device per (machine_id, agent_id) and flags a
 * machine_id that several agent ids share.
 *
 * The state directory (agent id, spool, cache): $LOG4SCAN_STATE_DIR when
 * set; else on Linux /var/lib/log4scan for root, $XDG_STATE_HOME/log4scan
 * or ~/.local/state/log4scan for other users (who read root's agent-id
 * when there is one, so every run on a host sends the same); on Windows
 * %ProgramData%\log4scan.
 *
 * Other sources: the host name (gethostname / the DNS host name), the OS
 * (/etc/os-release PRETTY_NAME; Windows' product name and build), the
 * kernel (uname -r; Windows' version number) and the non-loopback IPv4 and
 * IPv6 addresses.  Missing sources are left out; nothing here prints or
 * exits. */
#ifndef L4S_HOSTINFO_H
#define L4S_HOSTINFO_H

#include <stddef.h>

#include "util/buf.h"

struct l4s_host {
	char hostname[256];
	char machine_id[33];   /* 32 lower-case hex digits, "" when none */
	char agent_id[37];     /* lower-case UUID, "" when it could not be kept */
	char os[256];          /* "" when unknown */
	char kernel[128];      /* "" when unknown */
	struct buf ips_json;   /* a JSON array of strings */
};

/* Fill h.  root: read the etc files under this directory ("" or NULL: /;
 * for tests).  Problems that leave a field empty are appended to warn, one
 * line each (e.g. an agent id that cannot be written).  -1 (reason in warn)
 * only when neither a machine id nor a host name is known. */
int hostinfo_read(struct l4s_host *h, const char *root, struct buf *warn);
void hostinfo_free(struct l4s_host *h);

/* The state directory (see above), created (mode 0700, or 0755 for
 * /var/lib/log4scan so that other users can read agent-id) if missing.
 * Returns out. */
const char *hostinfo_state_dir(char *out, size_t n);

/* A random (version 4) UUID, lower case.  -1 when the system gives no
 * randomness. */
int envelope_uuid4(char out[37]);

#endif
