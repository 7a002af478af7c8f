/* test_submit.c - lib/submit/hostinfo_linux.c, lib/submit/envelope.c and lib/submit/submit.c, the last against a real
 * log4scan-server ($L4S_SERVER, started here on a free loopback port with a
 * throwaway SQLite database).
 *
 * Checks: uuid v4 format; the envelope from a fake /etc; the agent id
 * (created once, kept, readable, one per state directory, a damaged one
 * replaced); reports spooled
 * while the server is down and bounded (oldest dropped with a warning);
 * spooled reports delivered first on the next run; a spooled report the
 * server already has (answer lost) is not sent again; a report the server
 * rejects is not spooled and its reason is returned. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "submit/envelope.h"
#include "submit/hostinfo.h"
#include "submit/submit.h"
#include "unit.h"

static char tmpdir[256];

static int count_spool(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "ls %s 2>/dev/null | grep -c '\\.ndjson$'", dir);
	FILE *p = popen(cmd, "r");
	int n = -1;
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void make_report(struct buf *b, char id[37], const char *mid)
{
	buf_reset(b);
	buf_printf(b, "{\"kind\":\"report\",\"report_id\":\"");
	envelope_uuid4(id);
	buf_printf(b, "%s\",\"created\":\"2026-11-27T21:00:00Z\",\"command\":\"scan\",\"host\":{\"hostname\":\"u\","
		      "\"machine_id\":\"%s\"}}\n{\"kind\":\"finding\",\"path\":\"/a.jar\",\"status\":\"vulnerable\"}\n",
		   id, mid);
}

/* a port on which nothing listens */
static int dead_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {0};
	socklen_t len = sizeof a;
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s, (struct sockaddr *)&a, sizeof a);
	getsockname(s, (struct sockaddr *)&a, &len);
	close(s);
	return ntohs(a.sin_port);
}

static pid_t start_server(const char *server, const char *db, int *port)
{
	char log[512];
	snprintf(log, sizeof log, "%s/server.log", tmpdir);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		dup2(fd, 1);
		execl(server, server, "--db", db, "--listen", "127.0.0.1:0", "--rate", "0", (char *)NULL);
		_exit(127);
	}
	*port = 0;
	for (int i = 0; i < 600 && !*port; i++) {
		usleep(50000);
		FILE *f = fopen(log, "r");
		char line[512];
		while (f && fgets(line, sizeof line, f)) {
			char *p = strstr(line, "listening on http://127.0.0.1:");
			if (p)
				*port = atoi(p + strlen("listening on http://127.0.0.1:"));
		}
		if (f)
			fclose(f);
	}
	return pid;
}

int main(void)
{
	/* ---- hostinfo ---- */
	char id[37], id2[37];
	CHECK("uuid4-ok", envelope_uuid4(id) == 0 && envelope_uuid4(id2) == 0);
	CHECK("uuid4-format", strlen(id) == 36 && id[8] == '-' && id[13] == '-' && id[14] == '4' &&
				      strchr("89ab", id[19]) != NULL && strcmp(id, id2) != 0);

	snprintf(tmpdir, sizeof tmpdir, "/tmp/l4s-test-submit-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		CHECK("tmpdir", 0);
		UNIT_EXIT();
	}
	char path[600];
	snprintf(path, sizeof path, "%s/etc", tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/etc/machine-id", tmpdir);
	write_file(path, "0123456789ABCDEF0123456789abcdef\n");
	snprintf(path, sizeof path, "%s/etc/os-release", tmpdir);
	write_file(path, "NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12 \\\"bookworm\\\"\"\nID=debian\n");
	struct buf env = BUF_INIT, err = BUF_INIT;
	const char *tags[] = {"prod", "we\"ird"};
	struct l4s_envelope_opts eo = {.command = "scan", .tags = tags, .ntags = 2, .root = tmpdir};
	CHECK("envelope-ok", envelope_build(&env, &eo, id, &err) == 0);
	const char *e = buf_cstr(&env);
	CHECK("envelope-one-line", strchr(e, '\n') == e + env.len - 1);
	CHECK("envelope-machine-id", strstr(e, "\"machine_id\":\"0123456789abcdef0123456789abcdef\"") != NULL);
	CHECK("envelope-os", strstr(e, "\"os\":\"Debian GNU/Linux 12 \\\"bookworm\\\"\"") != NULL);
	CHECK("envelope-report-id", strstr(e, id) != NULL && envelope_report_id(e, env.len, id2) && !strcmp(id, id2));
	CHECK("envelope-tags-escaped", strstr(e, "\"tags\":[\"prod\",\"we\\\"ird\"]") != NULL);
	CHECK("envelope-fields", strstr(e, "\"kind\":\"report\"") && strstr(e, "\"kernel\":") && strstr(e, "\"ips\":[") &&
					 strstr(e, "\"command\":\"scan\""));
	CHECK("envelope-options-coverage", strstr(e, "\"options\":{},\"coverage\":{}") && strstr(e, "\"replace_tags\":false"));

	/* ---- the agent id: one per state directory, created once ---- */
	char state[300], aid[37], aid2[37];
	snprintf(state, sizeof state, "%s/state", tmpdir);
	setenv("LOG4SCAN_STATE_DIR", state, 1);
	struct l4s_host h;
	CHECK("agent-id-created", hostinfo_read(&h, tmpdir, &err) == 0 && strlen(h.agent_id) == 36 && h.agent_id[14] == '4');
	memcpy(aid, h.agent_id, 37);
	hostinfo_free(&h);
	CHECK("agent-id-kept", hostinfo_read(&h, tmpdir, &err) == 0 && !strcmp(h.agent_id, aid));
	hostinfo_free(&h);
	snprintf(path, sizeof path, "%s/agent-id", state);
	struct stat ast;
	CHECK("agent-id-file-readable", stat(path, &ast) == 0 && (ast.st_mode & 0777) == 0644 && ast.st_size == 37);
	buf_reset(&env);
	CHECK("envelope-agent-id", envelope_build(&env, &eo, id, &err) == 0 && strstr(buf_cstr(&env), aid));
	char state2[300];
	snprintf(state2, sizeof state2, "%s/state2", tmpdir);
	setenv("LOG4SCAN_STATE_DIR", state2, 1);
	CHECK("agent-id-per-install", hostinfo_read(&h, tmpdir, &err) == 0 && strlen(h.agent_id) == 36 &&
					      strcmp(h.agent_id, aid) != 0 && !strcmp(h.machine_id, "0123456789abcdef0123456789abcdef"));
	memcpy(aid2, h.agent_id, 37);
	hostinfo_free(&h);
	snprintf(path, sizeof path, "%s/agent-id", state2);
	write_file(path, "not an id\n");
	buf_reset(&err);
	CHECK("agent-id-damaged-replaced", hostinfo_read(&h, tmpdir, &err) == 0 && strlen(h.agent_id) == 36 &&
						   strcmp(h.agent_id, aid2) != 0 && strstr(buf_cstr(&err), "does not hold a UUID"));
	hostinfo_free(&h);
	chmod(state2, 0500);
	unlink(path);
	buf_reset(&err);
	if (geteuid() != 0) /* root writes anyway */
		CHECK("agent-id-unwritable-said", hostinfo_read(&h, tmpdir, &err) == 0 && h.agent_id[0] == 0 &&
							  strstr(buf_cstr(&err), "cannot create"));
	else
		CHECK("agent-id-unwritable-said (root: written)", hostinfo_read(&h, tmpdir, &err) == 0);
	hostinfo_free(&h);
	chmod(state2, 0700);
	setenv("LOG4SCAN_STATE_DIR", state, 1);
	buf_reset(&err);

	snprintf(path, sizeof path, "%s/etc/machine-id", tmpdir);
	unlink(path);
	buf_reset(&env);
	CHECK("envelope-without-machine-id", envelope_build(&env, &eo, id, &err) == 0 &&
						     !strstr(buf_cstr(&env), "machine_id") && strstr(buf_cstr(&env), "\"hostname\":"));

	/* ---- spool while the server is down ---- */
	char url[128], spool[600];
	snprintf(spool, sizeof spool, "%s/spool", tmpdir);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", dead_port());
	struct l4s_submit_opts o = {url, "l4s_nothing", spool, NULL, false, 10, 3, 0};
	struct l4s_submit_stats st;
	struct buf msg = BUF_INIT, body = BUF_INIT;
	char ids[6][37];
	const char *mid = "00000000000000000000000000000abc";
	for (int i = 0; i < 2; i++) {
		make_report(&body, ids[i], mid);
		CHECK(i ? "down-spooled-2" : "down-spooled-1", submit_send(&o, body.data, body.len, &st, &msg) == L4S_SUBMIT_SPOOLED);
	}
	CHECK("down-spool-count", count_spool(spool) == 2);
	struct stat sst;
	snprintf(path, sizeof path, "%s", spool);
	CHECK("spool-dir-private", stat(path, &sst) == 0 && (sst.st_mode & 077) == 0);
	o.spool_max_files = 2;
	char dropped[37];
	memcpy(dropped, ids[0], 37);
	make_report(&body, ids[2], mid);
	buf_reset(&msg);
	CHECK("bounded-spooled", submit_send(&o, body.data, body.len, &st, &msg) == L4S_SUBMIT_SPOOLED);
	CHECK("bounded-oldest-dropped", count_spool(spool) == 2 && st.spool_dropped == 1 &&
						strstr(buf_cstr(&msg), "dropped the oldest report") && strstr(buf_cstr(&msg), dropped));
	o.spool_max_files = 100;
	CHECK("no-envelope-refused", submit_send(&o, "{}\n", 3, &st, &msg) == L4S_SUBMIT_FAILED);

	/* ---- the server comes up ---- */
	const char *server = getenv("L4S_SERVER");
	if (!server || access(server, X_OK)) {
		printf("not ok server-available - $L4S_SERVER is not an executable log4scan-server\n");
		return 1;
	}
	char db[600], cmd[1400], token[128] = "";
	snprintf(db, sizeof db, "%s/s.db", tmpdir);
	snprintf(cmd, sizeof cmd, "%s token create --name unit --db %s 2>/dev/null", server, db);
	FILE *p = popen(cmd, "r");
	if (p) {
		if (!fgets(token, sizeof token, p))
			token[0] = 0;
		pclose(p);
	}
	token[strcspn(token, "\n")] = 0;
	CHECK("token-created", strncmp(token, "l4s_", 4) == 0);
	int port = 0;
	pid_t pid = start_server(server, db, &port);
	CHECK("server-started", port > 0);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	o.token = token;
	make_report(&body, ids[3], mid);
	buf_reset(&msg);
	int rc = submit_send(&o, body.data, body.len, &st, &msg);
	CHECK("sent", rc == L4S_SUBMIT_SENT);
	CHECK("spool-delivered-first", st.spool_sent == 2 && st.spool_left == 0 && count_spool(spool) == 0);
	const char *q[4] = {ids[1], ids[2], ids[3], dropped};
	bool known[4];
	CHECK("known-query", submit_known(&o, q, 4, known, &msg) == 0);
	CHECK("known-all-delivered", known[0] && known[1] && known[2] && !known[3]);

	/* an answer was lost: the report is in the spool and on the server */
	make_report(&body, ids[4], mid);
	CHECK("sent-2", submit_send(&o, body.data, body.len, &st, &msg) == L4S_SUBMIT_SENT);
	char name[800];
	snprintf(name, sizeof name, "%s/%019lld-%s.ndjson", spool, 1LL, ids[4]);
	write_file(name, body.data);
	make_report(&body, ids[5], mid);
	CHECK("sent-3", submit_send(&o, body.data, body.len, &st, &msg) == L4S_SUBMIT_SENT);
	CHECK("known-not-resent", st.spool_known == 1 && st.spool_sent == 0 && count_spool(spool) == 0);

	/* rejected: not spooled, the reason comes back */
	buf_reset(&msg);
	const char *bad = "{\"kind\":\"report\",\"report_id\":\"6f1c0e2a-1b2c-4d3e-8f40-112233445566\",\"created\":\"x\"}\n";
	CHECK("rejected", submit_send(&o, bad, strlen(bad), &st, &msg) == L4S_SUBMIT_FAILED);
	CHECK("rejected-reason", strstr(buf_cstr(&msg), "created") != NULL && count_spool(spool) == 0);
	/* a wrong token is an operator problem: fail loudly, spool nothing */
	o.token = "l4s_wrong";
	make_report(&body, ids[0], mid);
	buf_reset(&msg);
	CHECK("unauthorized-refused", submit_send(&o, body.data, body.len, &st, &msg) == L4S_SUBMIT_FAILED &&
					      strstr(buf_cstr(&msg), "HTTP 401") != NULL &&
					      strstr(buf_cstr(&msg), "unknown or revoked token") != NULL &&
					      count_spool(spool) == 0);
	CHECK("unauthorized-message-once", strstr(buf_cstr(&msg), "submit: submit:") == NULL &&
						   strstr(buf_cstr(&msg), "not spooled") != NULL);
	/* what an earlier run spooled stays for when the token is mended */
	snprintf(name, sizeof name, "%s/%019lld-%s.ndjson", spool, 2LL, ids[0]);
	write_file(name, body.data);
	make_report(&body, ids[1], mid);
	buf_reset(&msg);
	CHECK("unauthorized-spool-kept", submit_send(&o, body.data, body.len, &st, &msg) == L4S_SUBMIT_FAILED &&
						 count_spool(spool) == 1 && st.spool_dropped == 0);
	o.token = token;
	buf_reset(&msg);
	CHECK("mended-token-delivers-spool", submit_send(&o, body.data, body.len, &st, &msg) == L4S_SUBMIT_SENT &&
						     st.spool_sent == 1 && count_spool(spool) == 0);
	/* a read token is refused the same way (403) */
	char rtoken[128] = "";
	snprintf(cmd, sizeof cmd, "%s token create --name unit-read --role read --db %s 2>/dev/null", server, db);
	p = popen(cmd, "r");
	if (p) {
		if (!fgets(rtoken, sizeof rtoken, p))
			rtoken[0] = 0;
		pclose(p);
	}
	rtoken[strcspn(rtoken, "\n")] = 0;
	o.token = rtoken;
	make_report(&body, ids[2], mid);
	buf_reset(&msg);
	CHECK("read-token-refused", submit_send(&o, body.data, body.len, &st, &msg) == L4S_SUBMIT_FAILED &&
					    strstr(buf_cstr(&msg), "HTTP 403") != NULL && count_spool(spool) == 0);
	/* a server error is worth retrying: spooled */
	kill(pid, SIGSTOP);
	o.timeout_s = 2;
	o.token = token;
	make_report(&body, ids[3], mid);
	buf_reset(&msg);
	CHECK("timeout-spooled", submit_send(&o, body.data, body.len, &st, &msg) == L4S_SUBMIT_SPOOLED &&
					 count_spool(spool) == 1);
	kill(pid, SIGCONT);

	if (pid > 0) {
		kill(pid, SIGTERM);
		int status = 0;
		waitpid(pid, &status, 0);
		CHECK("server-clean-exit", WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd))
		CHECK("cleanup", 0);
	buf_free(&env);
	buf_free(&err);
	buf_free(&msg);
	buf_free(&body);
	UNIT_EXIT();
}
