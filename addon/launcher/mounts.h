/* What mounts.c, mountflags.c and mountclassic.c share (launcher.h has
 * what the other steps use). */
#ifndef HAKO_MOUNTS_H
#define HAKO_MOUNTS_H

#include <stdbool.h>
#include <stdint.h>

struct rootctx;
struct mount_ent;

/* mountflags.c */
/* MS_* per-mount flags as MOUNT_ATTR_*, the atime mode as mount(2) reads it. */
uint64_t mount_attr_of(unsigned long ms);
/* The new mount API refused as such (ENOSYS, or EPERM from a seccomp profile). */
bool mount_api_refused(int err);
/* Whether mount_setattr may be called at all (asked once). */
bool mount_setattr_allowed(void);
/* A bind's flags on its mount's fd, as MS_REMOUNT|MS_BIND|flags would set
 * them, locked flags kept. 0 or -1 with errno; *why adds to the message. */
int set_bind_flags(int fd, unsigned long flags, const char **why);
/* The lockable flags of a bind (MS_* of its remount, MOUNT_ATTR_* of its r*
 * options) added to a detached tree, the source's kept. 0 or -1 with errno. */
int add_lockable_flags(int fd, unsigned long flags, uint64_t rec_set);

/* mountclassic.c */
/* mount(2) data from the mount's options (the covered tmpfs mode first). */
char *classic_data(const struct mount_ent *m, int tfd, bool existed);
/* The mount made with mount(2) onto tfd (a bind from src >= 0), found again
 * and checked to be it; its fd. Fails the create otherwise. */
int classic_mount(struct rootctx *c, const struct mount_ent *m, int tfd, int src, bool existed, unsigned long ms, const char *what);

/* mounts.c */
/* readlink of fd through the verified procfs; NULL with errno. */
char *fd_real_path(struct rootctx *c, int fd);
/* The mode of the directory tfd, as "%04o", if it is one. */
bool covered_mode(int tfd, char mode[8]);

#endif
