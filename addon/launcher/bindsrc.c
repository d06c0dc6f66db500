/* Bind sources staged by the launcher, as host root, in a mount namespace
 * the container's is copied from.
 *
 * With a new user namespace the init resolves a bind's source as root of
 * that namespace: a host directory only host root may search (a root-owned
 * 0700 directory on the way) fails with "permission denied". runc (1.1's
 * nsexec, 1.2's host-side mount source thread) opens such a source as host
 * root instead, when the init's own lookup fails; so does hako.
 *
 * The launcher, still host root in the host's user namespace, before the
 * joins (no mount namespace is joined when a new one is made: paths mean
 * what they mean for the init) and before it unshares the user namespace,
 * mounts a clone of every plain bind's source
 * (open_tree(OPEN_TREE_CLONE), AT_RECURSIVE for rbind: one lookup of the
 * config's path, which is the host's and trusted as runc trusts it), with
 * the lockable flags the bind asks for added (stage_one says why), on a
 * numbered entry of a staging tmpfs, in a mount namespace of its own, and
 * makes that tmpfs its working directory. The init's mount namespace is
 * copied from that one into the new user namespace, so the kernel locks
 * what the host gave each mount (read-only, nosuid, ... : the container's
 * root cannot clear them; a detached tree handed over as it is would not
 * be locked), and the init's working directory is its copy of the tmpfs.
 * The init opens the entry of a mount whose source it cannot open itself,
 * by its number, beneath that directory (bindsrc_open): the tree cloned
 * then, whatever a co-tenant renamed on a shared volume since. Nothing
 * resolves the config's path again.
 *
 * Idmapped binds are staged always, with a user namespace new or joined:
 * their trees are made by host root (idmap.c) and, handed over detached,
 * were attached unlocked, so the container's root (CAP_SYS_ADMIN in its
 * user namespace) could clear read-only with a bind remount and write the
 * host's files, which the idmap makes its own. Each is staged with the
 * lockable flags its mount asks for added (add_lockable_flags: never
 * cleared, so the source's stay), and the init clones its own tree from
 * the entry: the copy locked both the host's flags and the config's. Where
 * one cannot be staged, the create fails rather than mount it unlocked
 * (a joined user namespace takes host root's privileges away: the staging
 * comes before the joins for that).
 *
 * The staging mount namespace is a slave of the one it copies (rslave), so
 * the tmpfs never propagates anywhere, and the init's copy of every mount
 * gets the master the direct copy would have had. The tmpfs covers the
 * container's state directory (the runtime's, which no bind comes from),
 * is root's, 0711, and vanishes with the host's tree at pivot_root, but
 * for the copies a recursive bind of an ancestor made before (a bind of
 * "/" or "/run": the container walks them as far as --root lets it, which
 * is why every entry carries its mount's flags). What would keep it out
 * of them does not work: marking it unbindable (a namespace copy did not
 * keep the mark, tried on Linux 6.18), or the init unmounting its copy
 * (locked by the copy into the user namespace). The init holds the directory's fd only
 * during the mounts (bindsrc_done).
 * Where anything here is refused (an old kernel without the new mount API,
 * an outer seccomp profile), nothing is staged and the init behaves as
 * before, reporting its own error; but an idmapped bind fails the create. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bindsrc.h"
#include "idmap.h"
#include "mounts.h"
#include "util.h"

/* Indexed like p->mounts: whether entry i was staged. Process memory: the
 * init has its copy after the clone. */
static bool *staged;
static size_t n_staged;
/* Init: the staging directory, its working directory at the clone. */
static int stage_dir = -1;

/* Plain binds only with a new user namespace (the one bindsrc_open serves:
 * the init's own lookup goes first); idmapped ones whenever there is a
 * user namespace, for the locks. */
static bool wants_stage(const struct plan *p, const struct mount_ent *m)
{
	if (m->idmap)
		return true;
	return (p->ns_new & CLONE_NEWUSER) && (m->flags & MS_BIND) && !(m->flags & MS_REMOUNT) && !m->symlink && m->source &&
	       m->source[0] == '/';
}

/* The tmpfs, attached over the state directory (the exec fifo's), in our
 * own rslave copy of the mount namespace. Its fd, or -1 (debug line). */
static int stage_tmpfs(const struct plan *p)
{
	char *state = xstrdup(p->exec_fifo);
	int mnt = -1, fs = -1;
	const char *step = "unshare a mount namespace";
	if (unshare(CLONE_NEWNS) < 0)
		goto out;
	step = "make it a slave";
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		goto out;
	step = "make the staging tmpfs";
	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0711", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "size", "64k", 0) < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		goto out;
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (mnt < 0)
		goto out;
	step = "attach the staging tmpfs";
	if (move_mount(mnt, "", AT_FDCWD, dirname(state), MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		int err = errno;
		close(mnt);
		mnt = -1;
		errno = err;
	}
out:
	if (mnt < 0)
		debugx("bind sources: %s: %s; the init opens them itself", step, strerror(errno));
	if (fs >= 0)
		close(fs);
	free(state);
	return mnt;
}

/* Entry i: a directory or a file, as the tree's root is, with the tree on
 * it: a clone of the source, or the idmapped tree, either with the
 * lockable flags its mount asks for added. Plain clones get them too: each
 * entry is a mount of its own under the state directory, which a
 * recursive bind of an ancestor ("/", "/run", --root's parent) copies into
 * the container as it is, and the read-only (or noexec...) such a bind
 * asks for is its top's alone; a bare clone of a source there was a
 * writable way to a tree the container has read-only at its target, as far
 * as --root lets it walk (a root mapped to host root walks any). With them
 * added, and locked by the copy, an entry is never more than the
 * container's own mount of that source. false with errno when it could not
 * be staged. */
static bool stage_one(int dir, size_t i, const struct mount_ent *m)
{
	unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | ((m->flags & MS_REC) ? AT_RECURSIVE : 0);
	int tree = m->idmap ? m->idmap->tree : open_tree(AT_FDCWD, m->source, flags);
	struct stat st;
	char name[24];
	snprintf(name, sizeof(name), "%zu", i);
	bool ok = tree >= 0 && fstat(tree, &st) == 0;
	if (ok)
		ok = add_lockable_flags(tree, m->remount_flags, m->attr_set) == 0;
	if (ok && S_ISDIR(st.st_mode))
		ok = mkdirat(dir, name, 0700) == 0;
	else if (ok)
		ok = mknodat(dir, name, S_IFREG | 0600, 0) == 0;
	ok = ok && move_mount(tree, "", dir, name, MOVE_MOUNT_F_EMPTY_PATH) == 0;
	int err = errno;
	if (tree >= 0)
		close(tree);
	if (m->idmap)
		m->idmap->tree = -1; /* the init takes it from the entry */
	errno = err;
	return ok;
}

/* Stages what wants it; fatal for an idmapped bind that cannot be. */
void bindsrc_prepare(const struct plan *p)
{
	/* Rootless, we have no more access than the init will (runc skips it
	 * too), and idmapped binds are refused; without a user namespace the
	 * init is host root itself; without a new mount namespace there is no
	 * copy to lock. */
	if (!plan_has_userns(p) || !(p->ns_new & CLONE_NEWNS) || p->runtime_unprivileged || !p->exec_fifo)
		return;
	size_t want = 0, idmapped = 0;
	for (size_t i = 0; i < p->n_mounts; i++) {
		want += wants_stage(p, &p->mounts[i]);
		idmapped += p->mounts[i].idmap != NULL;
	}
	if (!want)
		return;
	int dir = stage_tmpfs(p);
	if (dir < 0 && idmapped)
		failx("idmapped bind mounts: no mount namespace to stage them in, where the container cannot clear their flags");
	if (dir < 0)
		return;
	staged = xcalloc(p->n_mounts, sizeof(bool));
	n_staged = p->n_mounts;
	for (size_t i = 0; i < p->n_mounts; i++) {
		const struct mount_ent *m = &p->mounts[i];
		if (!wants_stage(p, m))
			continue;
		staged[i] = stage_one(dir, i, m);
		if (!staged[i] && m->idmap)
			fail("idmapped mount %s onto %s: stage it where the container cannot clear its flags", m->source, m->target);
		if (!staged[i])
			debugx("bind source %s for %s: not staged (%s); the init opens it itself", m->source, m->target, strerror(errno));
	}
	/* The init inherits it as its working directory (its own copy). */
	if (fchdir(dir) < 0)
		fail("bind sources: enter the staging directory");
	close(dir);
}

void bindsrc_init(void)
{
	if (!staged)
		return;
	stage_dir = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (stage_dir < 0)
		fail("bind sources: open the staging directory");
}

int bindsrc_open(const struct plan *p, const struct mount_ent *m)
{
	size_t i = (size_t)(m - p->mounts);
	if (stage_dir < 0 || i >= n_staged || !staged[i])
		return -1;
	char name[24];
	snprintf(name, sizeof(name), "%zu", i);
	int fd = openat(stage_dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		fail("mount %s onto %s: open its staged source", m->source, m->target);
	return fd;
}

void bindsrc_done(void)
{
	if (stage_dir >= 0)
		xclose(stage_dir);
	stage_dir = -1;
}
