/*
 * bin/hako's entry: runs the compiled engine (bin/hako-engine, the Bun
 * executable scripts/bundle.mjs makes) in place, by execve.
 *
 * Why it exists: the Bun engine refuses to start when its working
 * directory was deleted ("The current working directory was deleted"),
 * before any of hako's code runs; runc works from anywhere. A caller whose
 * directory is gone (a test's scratch directory, a removed checkout) must
 * still be able to list, kill and delete containers. Only then does this
 * change anything: it moves to "/" and tells hako (HAKO_CWD_DELETED=1) so
 * that a relative path on the command line is refused, never resolved
 * against "/". With a working directory that exists it only execs.
 *
 * The engine is found where it was built (a copy of bin/hako elsewhere, as
 * src/native.ts finds build/Release), else next to this program's real path
 * (a checkout moved whole).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HAKO_ENGINE_PATH
#error "build with -DHAKO_ENGINE_PATH=\"/abs/path/to/bin/hako-engine\""
#endif

#define ENGINE_NAME "hako-engine"

extern char **environ;

int main(int argc, char **argv) {
  char cwd[PATH_MAX];
  (void)argc;
  /* ERANGE (a path longer than PATH_MAX) is a directory that exists. */
  if (getcwd(cwd, sizeof cwd) == NULL && errno == ENOENT) {
    if (chdir("/") != 0 || setenv("HAKO_CWD_DELETED", "1", 1) != 0) {
      perror("hako: the working directory was deleted and / is unusable");
      return 1;
    }
  }

  execve(HAKO_ENGINE_PATH, argv, environ);
  int built_errno = errno;

  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash != NULL && (size_t)(slash + 1 - self) + sizeof ENGINE_NAME <= sizeof self) {
      strcpy(slash + 1, ENGINE_NAME);
      execve(self, argv, environ);
    }
  }
  fprintf(stderr, "hako: cannot run %s: %s (nor %s next to this program)\n", HAKO_ENGINE_PATH, strerror(built_errno), ENGINE_NAME);
  return 1;
}
