/* test_proc.c - the process view without a JVM: processes that have
 * exited, kernel threads and non-JVMs are passed over (and counted) with no
 * record, and the "process" JSON record has the fixed schema.  Real JVMs
 * are tested by tests/t_ps.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc/proc.h"
#include "report/proc_report.h"
#include "proc/proc_internal.h"
#include "proc/procfs.h"
#include "unit.h"

static int emitted;
static void on_jvm(void *ctx, struct proc_jvm *j)
{
	emitted++;
}

/* net/tcp lines as the kernel writes them, and one whose port field does not
 * fit a port (found by fuzz_proc): only real ports are listed. */
static void net_table(void)
{
	static const char tcp[] =
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000   997        0 41234 1\n"
		"   1: 00000000:0016 00000000:0000 01 00000000:00000000 00:00000000 00000000     0        0 555 1\n"
		"   2: 0100007F:1F9000 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0        0 777 1\n";
	struct netns ns;
	memset(&ns, 0, sizeof ns);
	proc_parse_net(&ns, tcp, "tcp", false, 0x0A);
	CHECK("net/tcp: one listening socket", ns.n == 1);
	CHECK("net/tcp: its port and address",
	      ns.n == 1 && ns.socks[0].l.port == 8080 && !strcmp(ns.socks[0].l.addr, "127.0.0.1") && ns.socks[0].ino == 41234);
	free(ns.socks);
}

int main(void)
{
	net_table();
	struct buf err = BUF_INIT;
	struct rules *r = rules_default(&err);
	CHECK("rules", r != NULL);
	struct scan_opts so;
	scan_opts_default(&so);
	struct proc_opts po = {0};
	struct scan_stats st = {0};

	pid_t child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	struct proc_summary sum = {0};
	CHECK("exited process: gone", proc_scan_one(child, r, &so, &po, &st, on_jvm, NULL, &sum) == -1);
	CHECK("exited process: counted", sum.exited == 1 && emitted == 0);

	memset(&sum, 0, sizeof sum);
	CHECK("self: not a JVM", proc_scan_one(getpid(), r, &so, &po, &st, on_jvm, NULL, &sum) == 0);
	CHECK("self: no record", emitted == 0 && sum.jvms == 0);

	char *s;
	if (procfs_read(2, "stat", 4096, &s) > 0 && strstr(s, "(kthreadd)")) {
		memset(&sum, 0, sizeof sum);
		CHECK("kthreadd: not a JVM", proc_scan_one(2, r, &so, &po, &st, on_jvm, NULL, &sum) == 0);
		CHECK("kthreadd: counted as a kernel thread", sum.kernel_threads == 1 && emitted == 0);
	}
	free(s);

	/* a sleeping non-JVM child */
	child = fork();
	if (child == 0) {
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	usleep(100000);
	memset(&sum, 0, sizeof sum);
	CHECK("sleep: not a JVM", proc_scan_one(child, r, &so, &po, &st, on_jvm, NULL, &sum) == 0 &&
					  emitted == 0 && sum.processes == 1);
	kill(child, 9);
	waitpid(child, NULL, 0);

	/* containers from cgroup text */
	static const struct {
		const char *cg, *want;
	} cgs[] = {
		{"0::/system.slice/docker-4f1c2a9e8b7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7.scope\n",
		 "docker-4f1c2a9e8b7d"},
		{"12:memory:/docker/4f1c2a9e8b7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7\n", "docker-4f1c2a9e8b7d"},
		{"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/"
		 "cri-containerd-aa1c2a9e8b7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7.scope\n",
		 "containerd-aa1c2a9e8b7d"},
		{"0::/machine.slice/libpod-bb1c2a9e8b7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7.scope\n",
		 "podman-bb1c2a9e8b7d"},
		{"0::/lxc.payload.web1/init.scope\n", "lxc-web1"},
		{"0::/user.slice/user-1000.slice/session-3.scope\n", NULL},
		{"4:memory:/process_api/c209bb607e8d3e6934efb59f85fe3465\n", NULL},
	};
	for (size_t i = 0; i < sizeof cgs / sizeof cgs[0]; i++) {
		char *got = proc_container_id(cgs[i].cg);
		char name[64];
		snprintf(name, sizeof name, "container id %zu", i);
		if (cgs[i].want)
			CHECK_STR(name, got, cgs[i].want);
		else
			CHECK(name, got == NULL);
		free(got);
	}

	/* the record's schema */
	char *jars[] = {"/opt/a/log4j-core-2.14.1.jar"}, *mit[] = {"-Dlog4j2.formatMsgNoLookups=true"},
	     *notes[] = {"a \"note\""};
	struct proc_listen l = {"tcp", "0.0.0.0", 8080};
	struct proc_jvm j = {.pid = 1234, .user = "tomcat", .command = "org.apache.catalina.startup.Bootstrap",
			     .start_time = "2026-11-27T20:00:00Z", .container = NULL, .listening = &l,
			     .nlistening = 1, .jars = jars, .njars = 1, .status = PST_VULNERABLE,
			     .restart_required = false, .mitigations = mit, .nmitigations = 1,
			     .notes = notes, .nnotes = 1};
	struct buf b = BUF_INIT;
	proc_jvm_json(&b, &j);
	CHECK_STR("process record",
		  buf_cstr(&b),
		  "{\"kind\":\"process\",\"pid\":1234,\"user\":\"tomcat\",\"command\":"
		  "\"org.apache.catalina.startup.Bootstrap\",\"start_time\":\"2026-11-27T20:00:00Z\","
		  "\"container\":null,\"listening\":[{\"proto\":\"tcp\",\"addr\":\"0.0.0.0\",\"port\":8080}],"
		  "\"jars\":[\"/opt/a/log4j-core-2.14.1.jar\"],\"status\":\"vulnerable\",\"restart_required\":false,"
		  "\"mitigations\":[\"-Dlog4j2.formatMsgNoLookups=true\"],\"notes\":[\"a \\\"note\\\"\"]}");
	buf_reset(&b);
	j.container = "docker-0123456789ab";
	j.status = PST_UNKNOWN;
	j.start_time[0] = 0;
	proc_jvm_json(&b, &j);
	CHECK("container and unknown status", strstr(buf_cstr(&b), "\"container\":\"docker-0123456789ab\"") &&
						    strstr(buf_cstr(&b), "\"status\":\"unknown\"") &&
						    strstr(buf_cstr(&b), "\"start_time\":null"));
	buf_reset(&b);
	struct proc_summary ps = {.processes = 1000, .jvms = 5, .restart_required = 1};
	ps.status[PST_VULNERABLE] = 3;
	proc_summary_json_fields(&b, &ps);
	CHECK("summary fields", !strncmp(buf_cstr(&b), ",\"processes\":1000,\"jvms\":5,\"jvm_status\":{\"vulnerable\":3,", 55));
	buf_free(&b);
	buf_free(&err);
	rules_free(r);
	UNIT_EXIT();
}
