/* Path resolution inside the container's root that never leaves it: ".."
 * stops at the root and absolute symlinks restart from it, as if chrooted. */
#ifndef HAKO_RESOLVE_H
#define HAKO_RESOLVE_H

#include <limits.h>
#include <sys/types.h>

/* Opens an existing path with openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS).
 * oflags are open(2) flags (O_PATH, O_NOFOLLOW...); O_CLOEXEC is added.
 * Returns the fd or -1 with errno (EAGAIN if renames kept racing it). */
int rs_open(int rootfd, const char *path, int oflags);

#define RS_MKDIRS 1       /* create missing intermediate directories */
#define RS_LAST_DIR 2     /* create a missing final component as a directory */
#define RS_LAST_FILE 4    /* ... as an empty regular file */
#define RS_NOFOLLOW 8     /* do not follow a symlink as final component */

/* Walks path component by component, creating what is missing as asked,
 * and returns an O_PATH fd of the result or -1 with errno. Symlinks are
 * followed inside the root (a dangling one is created at its target, as
 * runc does); symlinks on procfs are refused (ELOOP) since their text is
 * not what the kernel would follow. */
int rs_walk(int rootfd, const char *path, int flags, mode_t dirmode, mode_t filemode);

/* O_PATH fd of path's parent directory (created with dirmode as needed) and
 * its last component in name. -1 with errno; EINVAL if there is no proper
 * last component ("/", "..", "."). */
int rs_parent(int rootfd, const char *path, mode_t dirmode, char name[NAME_MAX + 1]);

#endif
