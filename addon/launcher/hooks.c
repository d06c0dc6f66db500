/* createContainer and startContainer hooks: run in the container's
 * namespaces, the OCI state on stdin, our stdout/stderr, a timeout.
 * The path is the config's, resolved where the hook runs (the host's tree
 * for createContainer, the container's for startContainer, as the spec
 * says): an image may provide a startContainer hook's program, by design.
 * Between fork and execve the child is our non-dumpable copy; after it,
 * it has nothing of ours but stdio. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launcher.h"
#include "util.h"

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static __attribute__((noreturn)) void child(const struct hook *h, int in, int errpipe, mode_t mask)
{
	if (dup2(in, 0) < 0)
		goto out;
	/* Hooks get stdio only: not the container's preserved fds, not ours. */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		goto out;
	signal(SIGPIPE, SIG_DFL);
	umask(mask);
	execve(h->path, h->args, h->env);
out:;
	int err = errno;
	(void)write_all(errpipe, &err, sizeof(err));
	_exit(127);
}

/* Feeds the state to the hook's stdin while waiting for it to exit, so that
 * a hook that never reads cannot block us, and one that hangs is killed. */
static void run_one(const struct hook *h, const char *kind, const char *state, mode_t mask)
{
	int in[2], errp[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		fail("%s hook %s: pipe", kind, h->path);
	pid_t pid = fork();
	if (pid < 0)
		fail("%s hook %s: fork", kind, h->path);
	if (pid == 0)
		child(h, in[0], errp[1], mask);
	close(in[0]);
	close(errp[1]);

	int err = 0;
	ssize_t n = read_all(errp[0], &err, sizeof(err));
	close(errp[0]);
	if (n == sizeof(err)) {
		waitpid(pid, NULL, 0);
		close(in[1]);
		fail_errno(err, "%s hook %s: exec", kind, h->path);
	}

	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		fail("%s hook %s: pidfd_open", kind, h->path);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	const char *p = state;
	size_t left = strlen(state);
	if (left == 0) {
		close(in[1]);
		in[1] = -1;
	}
	long long deadline = h->timeout ? now_ms() + (long long)h->timeout * 1000 : 0;
	for (;;) {
		struct pollfd pf[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = in[1], .events = POLLOUT}};
		int timeout = -1;
		if (deadline) {
			long long t = deadline - now_ms();
			timeout = t > 0 ? (int)t : 0;
		}
		int r = poll(pf, in[1] >= 0 ? 2 : 1, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			fail("%s hook %s: poll", kind, h->path);
		if (r == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			failx("%s hook %s: timed out after %us", kind, h->path, h->timeout);
		}
		if (pf[0].revents)
			break;
		if (in[1] >= 0 && pf[1].revents) {
			ssize_t w = write(in[1], p, left);
			if (w > 0) {
				p += w;
				left -= (size_t)w;
			}
			/* EPIPE: the hook does not want its stdin; that is its business. */
			if (left == 0 || (w < 0 && errno != EAGAIN && errno != EINTR)) {
				close(in[1]);
				in[1] = -1;
			}
		}
	}
	xclose(in[1]);
	close(pidfd);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail("%s hook %s: wait", kind, h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	if (WIFEXITED(status))
		failx("%s hook %s: exit status %d", kind, h->path, WEXITSTATUS(status));
	failx("%s hook %s: killed by signal %d", kind, h->path, WTERMSIG(status));
}

void run_hooks(const struct hook_list *hooks, const char *kind, const char *state, mode_t umask_for_hooks)
{
	for (size_t i = 0; i < hooks->n; i++)
		run_one(&hooks->v[i], kind, state, umask_for_hooks);
}
