/* hako-launcher <syncfd>: performs the plan TypeScript sends on the sync
 * socket. fds 0-2 belong to the container; 3..3+PRESERVE_FDS-1 are passed to
 * it; everything else is ours and never reaches it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "launcher.h"
#include "plan.h"
#include "plan_tags.h"
#include "sync.h"
#include "util.h"

static int parse_fd(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 3 || v > 1 << 20)
		return -1;
	return (int)v;
}

int main(int argc, char **argv, char **envp)
{
	/* First of all, in both runs (from the file, then from the sealed
	 * memfd: execve makes us dumpable again): non-dumpable until the
	 * container's execve, as runc's nsexec. Nobody without CAP_SYS_PTRACE
	 * over our memory's user namespace may then ptrace us, open our
	 * /proc/PID/fd, root, cwd or mem, or pidfd_getfd our fds; and the init
	 * and exec processes we clone inherit it (CVE-2016-9962: a container
	 * process ptracing runc's init during `exec`). Where our /proc files
	 * must be opened by someone unprivileged, a moment of dumpability
	 * outside every namespace of the container says why (nsenter.c, util.c). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		perror("hako-launcher: prctl(PR_SET_DUMPABLE, 0)");
		return 1;
	}
	/* "<syncfd>" as the runtime runs us, or "<syncfd> resume <plan fd>
	 * <fds>..." as we re-exec ourselves inside a user namespace
	 * (nsenter.c), already from the sealed memfd. */
	bool resume = argc >= 4 && strcmp(argv[2], "resume") == 0;
	int syncfd = argc == 2 || resume ? parse_fd(argv[1]) : -1;
	if (syncfd < 0 || fcntl(syncfd, F_GETFD) < 0) {
		fprintf(stderr, "usage: hako-launcher <syncfd>: this is hako's internal helper\n");
		return 2;
	}
	err_set_sync(syncfd);
	/* A resumed run must not look at /proc/self/exe by path: a joined mount
	 * namespace decides what /proc is. Its parent exec'd it from the fd it
	 * checked to be the sealed copy. */
	if (!resume)
		selfseal(argv, envp);
	/* Nothing we exec (hooks, the container) may inherit the socket. */
	if (fcntl(syncfd, F_SETFD, FD_CLOEXEC) < 0)
		fail("sync socket");

	uint32_t tag, len;
	uint8_t *val;
	if (resume) {
		val = nsenter_resume_plan(argv[3], &len);
	} else {
		if (!msg_read(syncfd, &tag, &val, &len))
			return 1; /* the runtime gave up before sending anything */
		if (tag != PT_MSG_PLAN)
			failx("sync socket: expected MSG_PLAN, got %s (%u)", pt_name(tag), tag);
	}
	struct plan *p = xcalloc(1, sizeof(*p));
	plan_decode(p, val, len);
	/* Kept: RUNTIME_UNPRIVILEGED re-execs with it. */
	p->raw = val;
	p->raw_len = len;

	if ((unsigned)syncfd < 3 + p->preserve_fds)
		failx("plan: sync fd %d is among the %u preserved fds", syncfd, p->preserve_fds);
	/* The runtime's own fds for us: never the container's, and never
	 * inherited by what we exec. */
	const int ours[] = {p->console_fd, p->exec_pidfd, p->seccomp_sock, p->cgroup_fd, p->pidfd_sock};
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		if (ours[i] < 0)
			continue;
		if ((unsigned)ours[i] < 3 + p->preserve_fds || ours[i] == syncfd)
			failx("plan: fd %d is among the preserved fds or the sync socket", ours[i]);
		if (fcntl(ours[i], F_SETFD, FD_CLOEXEC) < 0)
			fail("fd %d", ours[i]);
	}

	switch (p->mode) {
	case MODE_CREATE:
		if (resume)
			nsenter_resume(p, syncfd, argc - 4, argv + 4);
		nsenter_create(p, syncfd);
		break;
	case MODE_EXEC:
		if (resume)
			failx("resume: exec mode is never re-exec'd");
		nsenter_exec(p, syncfd);
		break;
	}
	return 1;
}
