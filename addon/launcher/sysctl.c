/* sysctls, written after entering the root (runc's order). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launcher.h"
#include "util.h"

/* "net.ipv4.ip_forward" -> "sys/net/ipv4/ip_forward" (like runc, a key
 * written with slashes is taken as is). Empty components mean ".." or
 * garbage: every dot turns into a slash, so no ".." survives to climb out
 * of sys/ to other files of our procfs (our own attr/exec). */
static char *key_path(const char *key)
{
	size_t n = strlen(key);
	char *rel = xmalloc(n + 5);
	memcpy(rel, "sys/", 4);
	for (size_t i = 0; i <= n; i++)
		rel[4 + i] = key[i] == '.' ? '/' : key[i];
	bool bad = n == 0 || rel[4] == '/' || rel[n + 3] == '/' || strstr(rel + 4, "//");
	if (bad)
		failx("sysctl %s: not a valid key", key);
	return rel;
}

/* Through the /proc we started with: the values are those of the namespaces
 * of the writer (us), so any procfs instance will do, and this one is not
 * under the container's control nor made read-only by its readonly paths.
 * The image's /proc never comes into it (CVE-2019-16884), no symlink or
 * magic link is followed, nothing can leave sys/, and no process of the
 * container exists yet to race it. No mount crossing (CVE-2025-52881):
 * pivot_root detaches that procfs from whatever is mounted on its files,
 * but a rootless --no-pivot cannot unmount it, and a bind over sys/...
 * would take the value instead. */
void write_sysctls(struct rootctx *c)
{
	const struct plan *p = c->p;
	for (size_t i = 0; i < p->n_sysctls; i++) {
		const struct sysctl_ent *s = &p->sysctls[i];
		char *rel = key_path(s->key);
		struct open_how how = {
			.flags = O_WRONLY | O_CLOEXEC | O_TRUNC,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
		};
		int fd = (int)syscall(SYS_openat2, c->sysctl_procfd, rel, &how, sizeof(how));
		if (fd < 0 && errno == EXDEV)
			failx_errno(EXDEV, "sysctl %s: /proc/%s is covered by another mount: not writing through it", s->key, rel);
		if (fd < 0)
			fail("sysctl %s: open /proc/%s", s->key, rel);
		if (write_all(fd, s->value, strlen(s->value)) < 0)
			fail("sysctl %s=%s", s->key, s->value);
		close(fd);
		free(rel);
	}
}
