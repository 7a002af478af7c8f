/* server-loadgen.c - ingest load for log4scan-server (bench/server-bench.sh).
 *
 *   server-loadgen URL TOKEN REPORTS THREADS [FIRST_DEVICE] [FINDINGS] [ROUND]
 *
 * THREADS threads, each with one keep-alive libcurl handle, POST REPORTS
 * reports in total; report n describes device FIRST_DEVICE+n with FINDINGS
 * findings (default 20) drawn from a realistic mix: a few hundred distinct
 * archives (sha256) shared across the fleet, versions from 1.2.17 to 2.17.1,
 * one finding in 1,000 of a rare version with a CVE of its own,
 * one Java process per device (some listening, so exposed), attempts on 5%
 * of the devices.  ROUND (default 0) changes the report ids only: a second
 * round over the same devices is the steady state of a fleet (re-reports
 * with unchanged findings).  Prints reports/s and latency percentiles; exits non-zero
 * if any report was not accepted. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"

static const char *url, *token;
static long total, first_dev, nfind = 20, round_no;
static atomic_long next_report, failed;
static double *lat;

static const struct { const char *ver, *status, *cves; } VERS[] = {
	{"2.14.1", "vulnerable", "[\"CVE-2021-44228\",\"CVE-2021-45046\"]"},
	{"2.12.1", "vulnerable", "[\"CVE-2021-44228\",\"CVE-2021-45046\"]"},
	{"2.0-beta9", "vulnerable", "[\"CVE-2021-44228\"]"},
	{"2.15.0", "mitigated", "[\"CVE-2021-45046\"]"},
	{"2.16.0", "mitigated", "[\"CVE-2021-45105\"]"},
	{"1.2.17", "mitigated", "[\"CVE-2021-4104\"]"},
	{"2.17.1", "safe", "[]"},
	{"2.20.0", "safe", "[]"},
};
#define NVERS (sizeof VERS / sizeof VERS[0])
/* one finding in 1,000: a version few devices have, with a CVE no other has
 * (what a drill-down by a rare CVE looks like) */
static const struct { const char *ver, *status, *cves; } RARE = {"2.17.0", "vulnerable", "[\"CVE-2021-44832\"]"};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make(struct buf *b, long dev, long n)
{
	unsigned long long r = (unsigned long long)dev * 2654435761u + 12345;
	buf_reset(b);
	buf_printf(b, "{\"kind\":\"report\",\"report_id\":\"%08lx-%04lx-4000-8000-%012lx\",\"created\":\"2026-11-27T21:00:00Z\","
		      "\"agent_version\":\"0.1.0\",\"command\":\"scan\",\"host\":{\"hostname\":\"host-%06ld\","
		      "\"machine_id\":\"%032lx\",\"os\":\"Debian GNU/Linux 12 (bookworm)\",\"kernel\":\"6.1.0\","
		      "\"ips\":[\"10.%ld.%ld.%ld\"],\"tags\":[\"%s\"]}}\n",
		   n, round_no & 0xffff, dev, dev, dev, (dev >> 16) & 255, (dev >> 8) & 255, dev & 255, dev % 3 ? "prod" : "dev");
	for (long k = 0; k < nfind; k++) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		unsigned v = (unsigned)((r >> 33) % NVERS);
		unsigned arch = (unsigned)((r >> 40) % 64);   /* 64 archives per version: 512 distinct */
		bool rare = (r >> 13) % 1000 == 0;
		const char *ver = rare ? RARE.ver : VERS[v].ver, *status = rare ? RARE.status : VERS[v].status;
		const char *cves = rare ? RARE.cves : VERS[v].cves;
		if (rare)
			v = NVERS;
		buf_printf(b, "{\"kind\":\"finding\",\"path\":\"/srv/app%ld/webapps/svc%u.war!/WEB-INF/lib/log4j-core-%s.jar\","
			      "\"component\":\"%s\",\"version\":\"%s\",\"version_source\":\"pom.properties\",\"status\":\"%s\","
			      "\"cves\":%s,\"severity\":\"critical\",\"fixed_in\":\"2.17.1\",\"evidence\":[\"JndiLookup.class\"],"
			      "\"sha256\":\"%056x%08x\"}\n",
			   k, arch, ver, v == 5 ? "log4j-1.x" : "log4j-core", ver, status, cves, v, arch);
	}
	bool listening = dev % 4 == 0;
	buf_printf(b, "{\"kind\":\"process\",\"pid\":%ld,\"user\":\"tomcat\",\"command\":\"org.apache.catalina.startup.Bootstrap\","
		      "\"start_time\":\"2026-11-27T20:00:00Z\",\"container\":null,\"listening\":[%s],"
		      "\"jars\":[\"/srv/app0/lib/log4j-core.jar\"],\"status\":\"%s\",\"restart_required\":%s,\"mitigations\":[]}\n",
		   1000 + dev % 30000, listening ? "{\"proto\":\"tcp\",\"addr\":\"0.0.0.0\",\"port\":8080}" : "",
		   dev % 3 ? "vulnerable" : "safe", dev % 10 == 0 ? "true" : "false");
	if (dev % 20 == 0)
		buf_printf(b, "{\"kind\":\"attempt\",\"path\":\"/var/log/nginx/access.log\",\"line\":%ld,\"offset\":%ld,"
			      "\"timestamp\":\"2021-12-10T10:00:00Z\",\"raw\":\"${jndi:ldap://203.0.113.%ld:1389/a}\","
			      "\"decoded\":\"jndi:ldap://203.0.113.%ld:1389/a\",\"protocol\":\"ldap\",\"host\":\"203.0.113.%ld\","
			      "\"port\":1389,\"client\":\"198.51.100.4\",\"exfil\":[]}\n",
			   dev, dev * 80, dev % 7, dev % 7, dev % 7);
	buf_printf(b, "{\"kind\":\"summary\",\"files\":1000,\"archives\":50,\"bytes\":1000000,\"findings\":{},\"errors\":0,"
		      "\"seconds\":1.5,\"skipped\":[]}\n");
}

static size_t discard(char *p, size_t s, size_t n, void *ctx)
{
	struct buf *b = ctx;
	if (b->len < 4096)
		buf_add(b, p, s * n);
	return s * n;
}

static void *worker(void *arg)
{
	CURL *c = curl_easy_init();
	struct buf body = BUF_INIT, ans = BUF_INIT, auth = BUF_INIT, u = BUF_INIT;
	buf_printf(&auth, "Authorization: Bearer %s", token);
	buf_printf(&u, "%s/api/v1/reports", url);
	struct curl_slist *h = curl_slist_append(NULL, buf_cstr(&auth));
	h = curl_slist_append(h, "Content-Type: application/x-ndjson");
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, buf_cstr(&u));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &ans);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	for (;;) {
		long n = atomic_fetch_add(&next_report, 1);
		if (n >= total)
			break;
		make(&body, first_dev + n, n + first_dev);
		buf_reset(&ans);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body.len);
		double t0 = now();
		long st = 0;
		if (curl_easy_perform(c) == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
		lat[n] = now() - t0;
		if (st != 200 || !strstr(buf_cstr(&ans), "\"accepted\":true")) {
			if (atomic_fetch_add(&failed, 1) < 5)
				fprintf(stderr, "report %ld: HTTP %ld %s\n", n, st, buf_cstr(&ans));
		}
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	buf_free(&body);
	buf_free(&ans);
	buf_free(&auth);
	buf_free(&u);
	(void)arg;
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: server-loadgen URL TOKEN REPORTS THREADS [FIRST_DEVICE] [FINDINGS] [ROUND]\n");
		return 2;
	}
	url = argv[1];
	token = argv[2];
	total = atol(argv[3]);
	int threads = atoi(argv[4]);
	first_dev = argc > 5 ? atol(argv[5]) : 0;
	nfind = argc > 6 ? atol(argv[6]) : 20;
	round_no = argc > 7 ? atol(argv[7]) : 0;
	if (total < 1 || threads < 1 || threads > 256)
		return 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	lat = calloc((size_t)total, sizeof *lat);
	pthread_t th[256];
	double t0 = now();
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	double dt = now() - t0;
	qsort(lat, (size_t)total, sizeof *lat, cmp);
	printf("reports=%ld findings_each=%ld threads=%d seconds=%.2f reports_per_s=%.0f p50_ms=%.1f p99_ms=%.1f failed=%ld\n",
	       total, nfind, threads, dt, (double)total / dt, 1000 * lat[total / 2], 1000 * lat[total * 99 / 100],
	       (long)failed);
	free(lat);
	curl_global_cleanup();
	return failed ? 1 : 0;
}
