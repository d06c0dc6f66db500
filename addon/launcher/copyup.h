/* tmpcopyup: fill a new tmpfs with a copy of the directory it covers. */
#ifndef HAKO_COPYUP_H
#define HAKO_COPYUP_H

/* Copies the contents of from_dir (read fd of the covered directory, opened
 * before the mount) into to_dir (read fd of the new tmpfs root). target names
 * the mount in messages. Exits through fail() on any error. */
void tmpfs_copyup(int from_dir, int to_dir, const char *target);

#endif
