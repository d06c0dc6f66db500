/* CVE-2019-5736: a container process that can open /proc/<init>/exe while the
 * init still runs our binary could overwrite the runtime on the host. We run
 * from a sealed, anonymous memfd copy instead, so /proc/self/exe points at
 * something nobody can write to (an image whose entrypoint is a link to
 * /proc/self/exe runs that copy: it finds no sync socket and exits). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launcher.h"
#include "util.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static bool sealed(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);
	return seals >= 0 && (seals & SEALS) == SEALS;
}

int selfseal_exe(void)
{
	int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe < 0)
		fail("self-seal: open /proc/self/exe");
	if (!sealed(exe))
		failx("self-seal: /proc/self/exe is not our sealed copy");
	return exe;
}

void selfseal(char **argv, char **envp)
{
	int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe < 0)
		fail("self-seal: open /proc/self/exe");
	/* Asking the file itself means no caller can skip the copy by setting
	 * an environment variable: only a sealed memfd answers with our seals. */
	if (sealed(exe)) {
		close(exe);
		return;
	}

	struct stat st;
	if (fstat(exe, &st) < 0)
		fail("self-seal: stat /proc/self/exe");
	/* vm.memfd_noexec may want MFD_EXEC said out loud; kernels before 6.3
	 * reject the flag they do not know. */
	int mfd = memfd_create("hako-launcher", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL)
		mfd = memfd_create("hako-launcher", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		fail("self-seal: memfd_create");

	off_t left = st.st_size;
	while (left > 0) {
		ssize_t n = sendfile(mfd, exe, NULL, (size_t)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("self-seal: copy /proc/self/exe");
		if (n == 0)
			failx("self-seal: /proc/self/exe shrank while copying");
		left -= n;
	}
	close(exe);
	if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
		fail("self-seal: seal the memfd");
	fexecve(mfd, argv, envp);
	fail("self-seal: re-exec from the sealed memfd");
}
