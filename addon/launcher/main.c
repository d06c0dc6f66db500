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

	switch (p->mode) {
	case MODE_CREATE:
		nsenter_create(p, syncfd);
		break;
	case MODE_EXEC:
		/* Later: join every namespace of the target pid through its pidfd
		 * (setns(pidfd, all)), clone into its pid namespace, then the same
		 * process setup as the init (process.c) minus the rootfs. */
		failx("exec mode not implemented yet");
	}
	return 1;
}
