/* hako-launcher <syncfd>: performs the plan TypeScript sends on the sync
 * socket. fds 0-2 belong to the container; 3..3+PRESERVE_FDS-1 are passed to
 * it; everything else is ours and never reaches it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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
	int syncfd = argc == 2 ? parse_fd(argv[1]) : -1;
	if (syncfd < 0 || fcntl(syncfd, F_GETFD) < 0) {
		fprintf(stderr, "usage: hako-launcher <syncfd>: this is hako's internal helper\n");
		return 2;
	}
	err_set_sync(syncfd);
	selfseal(argv, envp);
	/* Nothing we exec (hooks, the container) may inherit the socket. */
	if (fcntl(syncfd, F_SETFD, FD_CLOEXEC) < 0)
		fail("sync socket");

	uint32_t tag, len;
	uint8_t *val;
	if (!msg_read(syncfd, &tag, &val, &len))
		return 1; /* the runtime gave up before sending anything */
	if (tag != PT_MSG_PLAN)
		failx("sync socket: expected MSG_PLAN, got %s (%u)", pt_name(tag), tag);
	struct plan *p = xcalloc(1, sizeof(*p));
	plan_decode(p, val, len);
	free(val);

	if ((unsigned)syncfd < 3 + p->preserve_fds)
		failx("plan: sync fd %d is among the %u preserved fds", syncfd, p->preserve_fds);
	/* The runtime's own fds for us: never the container's, and never
	 * inherited by what we exec. */
	const int ours[] = {p->console_fd, p->exec_pidfd, p->seccomp_sock};
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
		nsenter_create(p, syncfd);
		break;
	case MODE_EXEC:
		nsenter_exec(p, syncfd);
		break;
	}
	return 1;
}
