/* hostinfo_win32.c - hostinfo.h on Windows: who this host and this
 * install are.
 *
 *   machine_id  MachineGuid (HKLM\SOFTWARE\Microsoft\Cryptography), the
 *               machine's own GUID, dashes removed: 32 hex digits as on
 *               Linux.  Sysprep makes a new one; a plain clone keeps it.
 *   agent_id    HKLM\SOFTWARE\log4scan, value AgentId: created on the first
 *               run (a random UUID); HKCU\Software\log4scan when HKLM
 *               cannot be written (not run as an administrator or SYSTEM).
 *   hostname    the DNS host name (GetComputerNameExW).
 *   os          ProductName, DisplayVersion and the build number from
 *               HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion
 *               ("Windows 10 Pro 22H2 (build 19045)"; Windows 11 still
 *               calls itself "Windows 10" there, so builds 22000 and later
 *               are named 11).
 *   kernel      the version RtlGetVersion reports (10.0.19045), which no
 *               compatibility shim changes.
 *   ips         unicast addresses of the adapters that are up, loopback left
 *               out (GetAdaptersAddresses).
 * The state directory is %ProgramData%\log4scan (the spool), or
 * %LOCALAPPDATA%\log4scan when that cannot be written. */
#undef gethostname /* winsock declares the real one; l4s_gethostname (os.c) is used */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "submit/hostinfo.h"
#include "util/jsonw.h"
#include "util/uuid.h"

/* A REG_SZ value as UTF-8; false when absent. */
static bool reg_string(HKEY root, const wchar_t *key, const wchar_t *name, char *out, size_t n)
{
	wchar_t w[512];
	DWORD size = sizeof w;
	if (RegGetValueW(root, key, name, RRF_RT_REG_SZ /* a 64-bit program: the 64-bit view */, NULL, w, &size) != ERROR_SUCCESS)
		return false;
	return WideCharToMultiByte(CP_UTF8, 0, w, -1, out, (int)n, NULL, NULL) > 0;
}

static bool machine_guid(char out[33])
{
	char g[64];
	if (!reg_string(HKEY_LOCAL_MACHINE, L"SOFTWARE\\Microsoft\\Cryptography", L"MachineGuid", g, sizeof g))
		return false;
	size_t k = 0;
	for (const char *p = g; *p && k < 32; p++) {
		if (*p == '-' || *p == '{' || *p == '}')
			continue;
		if (!isxdigit((unsigned char)*p))
			return false;
		out[k++] = (char)tolower((unsigned char)*p);
	}
	out[k] = 0;
	return k == 32;
}

/* Read HIVE\...\log4scan AgentId, creating it when absent.  0 ok, -1 this
 * hive cannot be used. */
static int agent_id_in(HKEY hive, const wchar_t *key, char out[37])
{
	HKEY k;
	if (RegCreateKeyExW(hive, key, 0, NULL, 0, KEY_READ | KEY_WRITE | KEY_WOW64_64KEY, NULL, &k, NULL) !=
	    ERROR_SUCCESS)
		return -1;
	wchar_t w[64];
	DWORD size = sizeof w, type = 0;
	char id[64] = "";
	if (RegQueryValueExW(k, L"AgentId", NULL, &type, (BYTE *)w, &size) == ERROR_SUCCESS && type == REG_SZ &&
	    size < sizeof w) {
		w[size / sizeof w[0]] = 0;
		WideCharToMultiByte(CP_UTF8, 0, w, -1, id, sizeof id, NULL, NULL);
	}
	int rc = 0;
	if (strlen(id) != 36 || !uuid_at(id)) {
		if (envelope_uuid4(id)) {
			rc = -1;
		} else {
			MultiByteToWideChar(CP_UTF8, 0, id, -1, w, 64);
			if (RegSetValueExW(k, L"AgentId", 0, REG_SZ, (const BYTE *)w,
					   (DWORD)((wcslen(w) + 1) * sizeof w[0])) != ERROR_SUCCESS)
				rc = -1;
		}
	}
	RegCloseKey(k);
	if (!rc) {
		for (int i = 0; i < 37; i++)
			out[i] = (char)tolower((unsigned char)id[i]);
	}
	return rc;
}

static bool agent_id(char out[37], struct buf *warn)
{
	if (agent_id_in(HKEY_LOCAL_MACHINE, L"SOFTWARE\\log4scan", out) == 0 ||
	    agent_id_in(HKEY_CURRENT_USER, L"Software\\log4scan", out) == 0)
		return true;
	buf_printf(warn, "agent id: cannot keep one in HKLM\\SOFTWARE\\log4scan or HKCU\\Software\\log4scan "
			 "(error %lu); the report carries none\n",
		   (unsigned long)GetLastError());
	return false;
}

static void os_name(char *out, size_t n, char *kernel, size_t kn)
{
	static const wchar_t *cv = L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";
	char product[128] = "", display[64] = "", build[32] = "";
	reg_string(HKEY_LOCAL_MACHINE, cv, L"ProductName", product, sizeof product);
	if (!reg_string(HKEY_LOCAL_MACHINE, cv, L"DisplayVersion", display, sizeof display))
		reg_string(HKEY_LOCAL_MACHINE, cv, L"ReleaseId", display, sizeof display);
	reg_string(HKEY_LOCAL_MACHINE, cv, L"CurrentBuildNumber", build, sizeof build);
	if (atoi(build) >= 22000 && !strncmp(product, "Windows 10", 10))
		product[9] = '1';
	/* RtlGetVersion: the true version (GetVersionEx lies to unmanifested programs) */
	RTL_OSVERSIONINFOW v;
	memset(&v, 0, sizeof v);
	v.dwOSVersionInfoSize = sizeof v;
	typedef LONG(WINAPI * rtl_fn)(RTL_OSVERSIONINFOW *);
	HMODULE nt = GetModuleHandleW(L"ntdll.dll");
	rtl_fn rtl = nt ? (rtl_fn)(void (*)(void))GetProcAddress(nt, "RtlGetVersion") : NULL;
	if (rtl && rtl(&v) == 0)
		snprintf(kernel, kn, "%lu.%lu.%lu", (unsigned long)v.dwMajorVersion, (unsigned long)v.dwMinorVersion,
			 (unsigned long)v.dwBuildNumber);
	if (product[0])
		snprintf(out, n, "%s%s%s%s%s%s", product, display[0] ? " " : "", display, build[0] ? " (build " : "",
			 build, build[0] ? ")" : "");
}

static void add_ips(struct buf *b)
{
	ULONG size = 16384;
	IP_ADAPTER_ADDRESSES *a = NULL;
	ULONG rc = ERROR_BUFFER_OVERFLOW;
	for (int tries = 0; tries < 3 && rc == ERROR_BUFFER_OVERFLOW; tries++) {
		free(a);
		a = xmalloc(size);
		rc = GetAdaptersAddresses(AF_UNSPEC,
					  GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER, NULL,
					  a, &size);
	}
	buf_addc(b, '[');
	int count = 0;
	for (IP_ADAPTER_ADDRESSES *p = rc == NO_ERROR ? a : NULL; p && count < 64; p = p->Next) {
		if (p->IfType == IF_TYPE_SOFTWARE_LOOPBACK || p->OperStatus != IfOperStatusUp)
			continue;
		for (IP_ADAPTER_UNICAST_ADDRESS *u = p->FirstUnicastAddress; u && count < 64; u = u->Next) {
			char txt[INET6_ADDRSTRLEN] = "";
			struct sockaddr *sa = u->Address.lpSockaddr;
			if (sa->sa_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, txt, sizeof txt);
			else if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, txt, sizeof txt);
			if (!txt[0])
				continue;
			if (count++)
				buf_addc(b, ',');
			jsonw_cstr(b, txt);
		}
	}
	buf_addc(b, ']');
	free(a);
}

const char *hostinfo_state_dir(char *out, size_t n)
{
	const char *env = getenv("LOG4SCAN_STATE_DIR");
	if (env && *env) {
		snprintf(out, n, "%s", env);
		mkdir(out, 0700);
		return out;
	}
	const char *pd = getenv("ProgramData");
	if (pd && *pd) {
		snprintf(out, n, "%s\\log4scan", pd);
		mkdir(out, 0700);
		if (access(out, 2) == 0)
			return out;
	}
	const char *la = getenv("LOCALAPPDATA");
	snprintf(out, n, "%s\\log4scan", la && *la ? la : ".");
	mkdir(out, 0700);
	return out;
}

int hostinfo_read(struct l4s_host *h, const char *root, struct buf *warn)
{
	(void)root; /* the registry has no root to read under */
	memset(h, 0, sizeof *h);
	if (l4s_gethostname(h->hostname, sizeof h->hostname - 1))
		h->hostname[0] = 0;
	if (!machine_guid(h->machine_id))
		h->machine_id[0] = 0;
	if (!h->machine_id[0] && !h->hostname[0]) {
		buf_printf(warn, "host identity: neither MachineGuid nor a host name\n");
		return -1;
	}
	if (!agent_id(h->agent_id, warn))
		h->agent_id[0] = 0;
	os_name(h->os, sizeof h->os, h->kernel, sizeof h->kernel);
	add_ips(&h->ips_json);
	return 0;
}

void hostinfo_free(struct l4s_host *h)
{
	buf_free(&h->ips_json);
}
