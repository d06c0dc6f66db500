/* --pidfd-socket (runc 1.2): the caller gets a pidfd of the container's
 * init, or of an exec'd process, over the AF_UNIX socket it named.
 *
 * The process opens it of itself, as runc's init does: pidfd_open(getpid())
 * names this very process, so no pid can have been reused between finding
 * the pid and opening it (a pidfd opened by the runtime from a pid it read
 * would need a check afterwards). One message, SCM_RIGHTS with the bytes
 * runc sends: "standard" from an init, "setns" from an exec'd process. The
 * socket, held since the launcher's start (non-dumpable, main.c: nothing in
 * the container can take it meanwhile), and the pidfd are closed at once:
 * the container never holds either. */
#define _GNU_SOURCE
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launcher.h"
#include "util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

void pidfd_send_self(const struct plan *p, const char *kind)
{
	if (p->pidfd_sock < 0)
		return;
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (pidfd < 0)
		fail("pidfd socket: open a pidfd of the process (pidfd_open needs Linux 5.3 or later)");
	if (send_fd(p->pidfd_sock, pidfd, kind, strlen(kind)) < 0)
		fail("pidfd socket: send the pidfd");
	xclose(pidfd);
	xclose(p->pidfd_sock);
}
