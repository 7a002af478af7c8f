/* fmt_cyclonedx.c - the cyclonedx format: a CycloneDX 1.5 JSON SBOM with
 * its VEX (vulnerabilities), for Dependency-Track and other SBOM tools.
 *
 * Document: serialNumber urn:uuid (random, getrandom(2)), version 1,
 * metadata {timestamp, tools.components[log4scan], component = this host
 * (type device, named by gethostname)}.  Every Log4j instance found (safe
 * ones too: it is an inventory) is one component of type library:
 *   bom-ref   "log4scan-instance-N", N in order of discovery
 *   group/name  org.apache.logging.log4j/log4j-core or log4j/log4j (1.x)
 *   version   the exact version; for a range of releases (the evidence
 *             allows several) the range as log4scan writes it,
 *             "2.14.0..2.14.1", and the purl has NO version (a purl names
 *             one release, and claiming one would be a guess); absent
 *             when unknown
 *   purl      pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1
 *   hashes    SHA-256 of the innermost archive's bytes, when known
 *   evidence.occurrences[0].location  the path, nesting joined with "!/"
 *   properties log4scan:status, :version-source, :version-range,
 *             :fixed-in, :package-root, :evidence (one per line),
 *             :path-b64 (exact bytes of a path that is not UTF-8)
 * dependencies: the host component depends on every instance.
 *
 * vulnerabilities: one entry per CVE and analysis state.  A CVE that
 * applies to some instances and is mitigated in others (its class was
 * removed) has two entries with the same id: state "exploitable" affecting
 * the first ones, and state "not_affected" with justification
 * "code_not_present" affecting the others.  Each has source NVD (its
 * vulnerability page), a rating (score, severity, method CVSSv3, from the
 * rules file, whose source is the rating's source), the rules' title as
 * description, the rules' source as advisory, and the fixed releases as
 * recommendation.  The whole document is written at finish, from copies. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "report/formats.h"
#include "util/jsonw.h"

struct cdx_state {
	struct finding_list f;
};

static void cdx_finding(struct report_writer *w, const struct finding *f)
{
	struct cdx_state *s = w->state;
	fmt_list_add(&s->f, f);
}

/* Errors are counted in the summary (metadata property log4scan:errors). */
static void cdx_error(struct report_writer *w, const char *path, const char *msg)
{
}

static void cdx_record(struct report_writer *w, const char *kind, const char *json)
{
}

static void random_bytes(unsigned char *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(p + got, n - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got == n)
		return;
	/* Kernels before 3.17 have no getrandom. */
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		while (got < n) {
			ssize_t r = read(fd, p + got, n - got);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		close(fd);
	}
	if (got == n)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	unsigned long long x = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)ts.tv_sec << 20) ^
			       ((unsigned long long)getpid() << 40);
	for (size_t i = got; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		p[i] = (unsigned char)x;
	}
}

static void uuid_v4(struct buf *b)
{
	unsigned char u[16];
	random_bytes(u, sizeof u);
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf_addc(b, '-');
		buf_printf(b, "%02x", u[i]);
	}
}

static bool is_range(const char *v)
{
	return strstr(v, "..") != NULL;
}

static void prop(struct buf *b, bool *first, const char *name, const char *value)
{
	buf_adds(b, *first ? "{" : ",{");
	*first = false;
	jsonw_field_plain(b, false, "name", name);
	jsonw_field_plain(b, true, "value", value);
	buf_addc(b, '}');
}

static void component(struct buf *b, const struct finding *f, size_t idx)
{
	bool core = f->comp == COMP_CORE;
	const char *group = core ? "org.apache.logging.log4j" : "log4j";
	const char *name = core ? "log4j-core" : "log4j";
	buf_printf(b, "{\"type\":\"library\",\"bom-ref\":\"log4scan-instance-%zu\"", idx + 1);
	jsonw_field_plain(b, true, "group", group);
	jsonw_field_plain(b, true, "name", name);
	if (f->version[0])
		jsonw_field_plain(b, true, "version", f->version);
	buf_printf(b, ",\"purl\":\"pkg:maven/%s/%s", group, name);
	if (f->version[0] && !is_range(f->version)) {
		buf_addc(b, '@');
		fmt_uri_escape(b, f->version, strlen(f->version), false);
	}
	buf_addc(b, '"');
	if (f->sha256[0])
		buf_printf(b, ",\"hashes\":[{\"alg\":\"SHA-256\",\"content\":\"%s\"}]", f->sha256);
	buf_adds(b, ",\"evidence\":{\"occurrences\":[{");
	jsonw_cstr(b, "location");
	buf_addc(b, ':');
	bool clean = jsonw_cstr(b, f->path);
	buf_adds(b, "}]},\"properties\":[");
	bool first = true;
	prop(b, &first, "log4scan:status", finding_status_name(f->status));
	prop(b, &first, "log4scan:version-source", f->version_source ? f->version_source : "unknown");
	if (f->cd_sha256[0])
		prop(b, &first, "log4scan:cd-sha256", f->cd_sha256);
	if (f->hash_note)
		prop(b, &first, "log4scan:sha256-note", f->hash_note);
	if (f->version[0] && is_range(f->version))
		prop(b, &first, "log4scan:version-range", f->version);
	if (f->fixed_in[0])
		prop(b, &first, "log4scan:fixed-in", f->fixed_in);
	if (f->root && f->root[0])
		prop(b, &first, "log4scan:package-root", f->root);
	for (size_t i = 0; i < f->nevidence; i++)
		prop(b, &first, "log4scan:evidence", f->evidence[i]);
	if (!clean) {
		struct buf e = BUF_INIT;
		jsonw_base64(&e, (const unsigned char *)f->path, strlen(f->path));
		prop(b, &first, "log4scan:path-b64", buf_cstr(&e));
		buf_free(&e);
	}
	buf_adds(b, "]}");
}

static const char *rating_source(const char *url)
{
	if (url && strstr(url, "nvd.nist.gov"))
		return "NVD";
	if (url && strstr(url, "logging.apache.org"))
		return "Apache Logging Services";
	return "log4scan rules";
}

static bool has(const struct rule_cve *const *v, size_t n, const struct rule_cve *c)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == c)
			return true;
	return false;
}

/* One vulnerabilities[] entry for CVE c in the given state, affecting the
 * instances that list c in cves (exploitable) or in mitigated. Returns false
 * (writing nothing) when no instance is in that state. */
static bool vulnerability(struct buf *b, const struct finding_list *l, const struct rule_cve *c,
			  bool mitigated, bool comma)
{
	size_t count = 0;
	for (size_t i = 0; i < l->n; i++)
		if (mitigated ? has(l->v[i].mitigated, l->v[i].nmitigated, c)
			      : has(l->v[i].cves, l->v[i].ncves, c))
			count++;
	if (!count)
		return false;
	if (comma)
		buf_addc(b, ',');
	buf_addc(b, '{');
	struct buf ref = BUF_INIT;
	buf_printf(&ref, "%s%s", c->id, mitigated ? ":not_affected" : "");
	jsonw_field_plain(b, false, "bom-ref", buf_cstr(&ref));
	buf_free(&ref);
	jsonw_field_plain(b, true, "id", c->id);
	buf_adds(b, ",\"source\":{\"name\":\"NVD\",\"url\":\"https://nvd.nist.gov/vuln/detail/");
	fmt_uri_escape(b, c->id, strlen(c->id), false);
	buf_adds(b, "\"},\"ratings\":[{\"source\":{");
	jsonw_field_plain(b, false, "name", rating_source(c->source));
	if (c->source && c->source[0])
		jsonw_field_plain(b, true, "url", c->source);
	buf_printf(b, "},\"score\":%.1f", c->cvss);
	jsonw_field_plain(b, true, "severity", rules_severity_of(c->cvss));
	buf_adds(b, ",\"method\":\"CVSSv3\"}]");
	if (c->title)
		jsonw_field_plain(b, true, "description", c->title);
	if (c->nfixed) {
		struct buf t = BUF_INIT;
		buf_adds(&t, "Upgrade to a release that fixes it: ");
		for (size_t i = 0; i < c->nfixed; i++)
			buf_printf(&t, "%s%s", i ? ", " : "", c->fixed[i]);
		buf_adds(&t, " (per release line) or later.");
		jsonw_field_plain(b, true, "recommendation", buf_cstr(&t));
		buf_free(&t);
	}
	if (c->source && c->source[0]) {
		buf_adds(b, ",\"advisories\":[{");
		jsonw_field_plain(b, false, "url", c->source);
		buf_adds(b, "}]");
	}
	buf_adds(b, ",\"analysis\":{");
	if (mitigated) {
		struct buf t = BUF_INIT;
		buf_adds(&t, "The class whose removal mitigates it is absent from the archive:");
		for (size_t i = 0; i < c->nmitigated; i++)
			buf_printf(&t, " %s", c->mitigated_if_absent[i]);
		buf_addc(&t, '.');
		buf_adds(b, "\"state\":\"not_affected\",\"justification\":\"code_not_present\"");
		jsonw_field_plain(b, true, "detail", buf_cstr(&t));
		buf_free(&t);
	} else {
		buf_adds(b, "\"state\":\"exploitable\",\"detail\":\"The version found is in an affected "
			    "range and the affected code is present.\"");
	}
	buf_adds(b, "},\"affects\":[");
	bool first = true;
	for (size_t i = 0; i < l->n; i++)
		if (mitigated ? has(l->v[i].mitigated, l->v[i].nmitigated, c)
			      : has(l->v[i].cves, l->v[i].ncves, c)) {
			buf_printf(b, "%s{\"ref\":\"log4scan-instance-%zu\"}", first ? "" : ",", i + 1);
			first = false;
		}
	buf_adds(b, "]}");
	return true;
}

static void cdx_finish(struct report_writer *w, const struct scan_stats *st, double seconds,
		       const struct walk_result *wr)
{
	struct cdx_state *s = w->state;
	struct buf b = BUF_INIT;
	buf_adds(&b, "{\"$schema\":\"http://cyclonedx.org/schema/bom-1.5.schema.json\","
		     "\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"serialNumber\":\"urn:uuid:");
	uuid_v4(&b);
	buf_adds(&b, "\",\"version\":1,\"metadata\":{");
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	jsonw_field_plain(&b, false, "timestamp", ts);
	buf_adds(&b, ",\"tools\":{\"components\":[{\"type\":\"application\",\"name\":\"log4scan\"");
	jsonw_field_plain(&b, true, "version", L4S_VERSION);
	buf_adds(&b, "}]}");
	char host[256] = "";
	if (gethostname(host, sizeof host - 1) || !host[0])
		strcpy(host, "localhost");
	buf_adds(&b, ",\"component\":{\"type\":\"device\",\"bom-ref\":\"log4scan-host\"");
	jsonw_field_plain(&b, true, "name", host);
	buf_adds(&b, "},\"properties\":[");
	bool first = true;
	char num[64];
	const struct {
		const char *name;
		unsigned long long v;
	} counts[] = {
		{"log4scan:files", st->files},
		{"log4scan:archives", st->archives},
		{"log4scan:bytes", st->bytes},
		{"log4scan:errors", st->errors},
		{"log4scan:not-scanned", wr ? wr->nskipped : 0},
	};
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		snprintf(num, sizeof num, "%llu", counts[i].v);
		prop(&b, &first, counts[i].name, num);
	}
	snprintf(num, sizeof num, "%.3f", seconds);
	prop(&b, &first, "log4scan:seconds", num);
	buf_adds(&b, "]}");

	buf_adds(&b, ",\"components\":[");
	for (size_t i = 0; i < s->f.n; i++) {
		if (i)
			buf_addc(&b, ',');
		component(&b, &s->f.v[i], i);
	}
	buf_adds(&b, "],\"dependencies\":[{\"ref\":\"log4scan-host\",\"dependsOn\":[");
	for (size_t i = 0; i < s->f.n; i++)
		buf_printf(&b, "%s\"log4scan-instance-%zu\"", i ? "," : "", i + 1);
	buf_adds(&b, "]}]");

	/* The distinct CVEs (applying or mitigated), in order of first appearance. */
	const struct rule_cve **cves = NULL;
	size_t ncves = 0;
	for (size_t i = 0; i < s->f.n; i++) {
		const struct finding *f = &s->f.v[i];
		for (size_t j = 0; j < f->ncves + f->nmitigated; j++) {
			const struct rule_cve *c = j < f->ncves ? f->cves[j] : f->mitigated[j - f->ncves];
			if (!has(cves, ncves, c)) {
				cves = xrealloc(cves, (ncves + 1) * sizeof *cves);
				cves[ncves++] = c;
			}
		}
	}
	buf_adds(&b, ",\"vulnerabilities\":[");
	bool any = false;
	for (size_t k = 0; k < ncves; k++) {
		any |= vulnerability(&b, &s->f, cves[k], false, any);
		any |= vulnerability(&b, &s->f, cves[k], true, any);
	}
	buf_adds(&b, "]}\n");
	free(cves);
	fwrite(b.data, 1, b.len, w->out);
	buf_free(&b);
}

static void cdx_destroy(struct report_writer *w)
{
	struct cdx_state *s = w->state;
	fmt_list_free(&s->f);
	free(s);
}

static const struct report_ops cdx_ops = {cdx_finding, cdx_error, cdx_record, cdx_finish,
					   cdx_destroy};

struct report_writer *fmt_cyclonedx_new(struct report_writer *w)
{
	w->ops = &cdx_ops;
	w->state = xcalloc(1, sizeof(struct cdx_state));
	return w;
}
