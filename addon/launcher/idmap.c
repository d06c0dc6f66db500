/* Idmapped bind mounts: a user namespace carrying the mount's maps, a
 * detached clone of the source with MOUNT_ATTR_IDMAP, made by the launcher;
 * the init configures and attaches it like any other bind (mounts.c). With
 * a user namespace the launcher first stages it where the copy into that
 * namespace locks its flags (bindsrc.c), and the init clones it from there:
 * handed over detached, it was attached unlocked. */
#define _GNU_SOURCE
#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plan.h"
#include "plan_tags.h"
#include "sync.h"
#include "util.h"

/* The kernel's limit on lines in uid_map/gid_map (since 4.15). */
#define MAX_LINES 340

static void decode_line(struct idmap_line **v, size_t *n, const struct rec *top)
{
	const char *ctx = top->tag == PT_IDM_UID ? "IDM_UID" : "IDM_GID";
	if (*n >= MAX_LINES)
		failx("plan: more than %d %s lines in M_IDMAP", MAX_LINES, ctx);
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	struct idmap_line *l = &(*v)[(*n)++];
	bool c = false, h = false;
	l->size = 0;
	struct rec_iter it;
	struct rec r;
	rec_iter_init(&it, top->val, top->len, ctx);
	while (rec_next(&it, &r)) {
		switch (r.tag) {
		case PT_IDM_CONTAINER: l->container = rec_u32(&r); c = true; break;
		case PT_IDM_HOST: l->host = rec_u32(&r); h = true; break;
		case PT_IDM_SIZE: l->size = rec_u32(&r); break;
		default: failx("plan: unexpected tag %s (%u) in %s", pt_name(r.tag), r.tag, ctx);
		}
	}
	if (!c || !h || l->size == 0)
		failx("plan: %s needs IDM_CONTAINER, IDM_HOST and a non-zero IDM_SIZE", ctx);
}

struct idmap *idmap_decode(const struct rec *top)
{
	struct idmap *im = xcalloc(1, sizeof(*im));
	im->tree = -1;
	struct rec_iter it;
	struct rec r;
	rec_iter_init(&it, top->val, top->len, "M_IDMAP");
	while (rec_next(&it, &r)) {
		switch (r.tag) {
		case PT_IDM_RECURSIVE: im->recursive = rec_bool(&r); break;
		case PT_IDM_UID: decode_line(&im->uid, &im->n_uid, &r); break;
		case PT_IDM_GID: decode_line(&im->gid, &im->n_gid, &r); break;
		case PT_IDM_USERNS: im->userns = rec_str(&r); break;
		default: failx("plan: unexpected tag %s (%u) in M_IDMAP", pt_name(r.tag), r.tag);
		}
	}
	if (im->userns ? (im->n_uid || im->n_gid) : (!im->n_uid || !im->n_gid))
		failx("plan: M_IDMAP needs either IDM_UID and IDM_GID lines or IDM_USERNS");
	return im;
}

/* "<container> <host> <size>\n" lines, written at once as the kernel wants;
 * -1 with errno. We are root in the parent namespace: no setgroups "deny". */
static int write_map(pid_t pid, const char *file, const struct idmap_line *v, size_t n)
{
	size_t cap = n * 36 + 1, off = 0;
	char *buf = xmalloc(cap);
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%u %u %u\n", v[i].container, v[i].host, v[i].size);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r = -1;
	if (fd >= 0) {
		ssize_t w = write(fd, buf, off);
		r = w == (ssize_t)off ? 0 : -1;
		if (w >= 0 && r < 0)
			errno = EIO;
		xclose(fd);
	}
	free(buf);
	return r;
}

/* A user namespace whose only purpose is to carry the maps: a child that
 * unshares it by being cloned into it and sleeps until we have its fd. It
 * lives in the runtime's namespaces, never the container's, non-dumpable
 * as we are (its /proc files are then root's: we are root, or this runs
 * not at all, see rootlessChecks), and our child, so its pid cannot be
 * another's while we write to it. */
static int userns_with_maps(const struct idmap *im, const char *target)
{
	pid_t parent = getpid();
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0)
		fail("idmapped mount onto %s: create a user namespace for its maps", target);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		for (;;)
			pause();
	}
	const char *what = "uid_map";
	int fd = -1;
	if (write_map(pid, "uid_map", im->uid, im->n_uid) == 0) {
		what = "gid_map";
		if (write_map(pid, "gid_map", im->gid, im->n_gid) == 0) {
			char path[64];
			snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
			what = "ns/user";
			fd = open(path, O_RDONLY | O_CLOEXEC);
		}
	}
	int err = errno;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (fd < 0)
		fail_errno(err, "idmapped mount onto %s: %s of its user namespace", target, what);
	return fd;
}

static void prepare_one(const struct mount_ent *m)
{
	struct idmap *im = m->idmap;
	if (!(m->flags & MS_BIND))
		failx("plan: idmapped mount onto %s is not a bind mount", m->target);
	int ns;
	if (im->userns) {
		ns = open(im->userns, O_RDONLY | O_CLOEXEC);
		if (ns < 0)
			fail("idmapped mount onto %s: open user namespace %s", m->target, im->userns);
	} else {
		ns = userns_with_maps(im, m->target);
	}
	/* rbind clones the whole tree; ridmap (not rbind) decides whether the
	 * submounts are idmapped too, as in runc. The source is the config's
	 * host path, followed as mount(2) follows every bind source (mounts.c,
	 * runc): whoever may rename its components can redirect it. */
	unsigned tree_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | ((m->flags & MS_REC) ? AT_RECURSIVE : 0);
	int tree = open_tree(AT_FDCWD, m->source, tree_flags);
	if (tree < 0)
		fail("idmapped mount %s onto %s: clone the source", m->source, m->target);
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)ns};
	if (mount_setattr(tree, "", AT_EMPTY_PATH | (im->recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr)) < 0) {
		int err = errno;
		fail_errno(err, "idmapped mount %s onto %s: set the idmapping%s", m->source, m->target,
			   err == EINVAL ? " (the filesystem may not support idmapped mounts)" : "");
	}
	xclose(ns);
	im->tree = tree;
}

void idmap_prepare(const struct plan *p)
{
	for (size_t i = 0; i < p->n_mounts; i++)
		if (p->mounts[i].idmap)
			prepare_one(&p->mounts[i]);
}
