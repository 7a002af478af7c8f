/* measure.c - run one command and report what bench/run.sh tabulates (not
 * part of log4scan):
 *
 *   measure [-o OUTFILE] COMMAND...
 *   -> stderr: MEASURE wall=S cpu=S user=S sys=S maxrss_kb=N rchar=N read_bytes=N status=N
 *
 * wall is taken around fork/exec/wait; cpu, user, sys and maxrss come from
 * wait4() (the command and the descendants it waited for); rchar (bytes
 * asked of read/pread, page-cache hits included) and read_bytes (from the
 * device) from /proc/PID/io, read while the finished command is still a
 * zombie (waitid WNOWAIT), so they count exactly that process and its reaped
 * children.  Written in C, not a script, because ru_maxrss includes the
 * memory of the forked copy of the parent before exec: this wrapper's is
 * about 1 MB.  The command's standard output goes to OUTFILE (default
 * /dev/null).  Built by bench/run.sh with `cc -O2`. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *out = "/dev/null";
	int a = 1;
	if (argc > 2 && !strcmp(argv[1], "-o")) {
		out = argv[2];
		a = 3;
	}
	if (a >= argc) {
		fprintf(stderr, "usage: measure [-o OUTFILE] COMMAND...\n");
		return 2;
	}
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(out);
		return 2;
	}
	double t0 = now();
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		dup2(fd, 1);
		execvp(argv[a], argv + a);
		perror(argv[a]);
		_exit(127);
	}
	siginfo_t si;
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0) {
		perror("waitid");
		return 2;
	}
	double t1 = now();
	long long rchar = -1, rbytes = -1;
	char path[64], line[128];
	snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
	FILE *f = fopen(path, "r");
	if (f) {
		while (fgets(line, sizeof line, f)) {
			sscanf(line, "rchar: %lld", &rchar);
			sscanf(line, "read_bytes: %lld", &rbytes);
		}
		fclose(f);
	}
	int st;
	struct rusage ru;
	if (wait4(pid, &st, 0, &ru) < 0) {
		perror("wait4");
		return 2;
	}
	double u = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	double s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	fprintf(stderr,
		"MEASURE wall=%.4f cpu=%.4f user=%.4f sys=%.4f maxrss_kb=%ld rchar=%lld read_bytes=%lld status=%d\n",
		t1 - t0, u + s, u, s, ru.ru_maxrss, rchar, rbytes, code);
	return 0;
}
