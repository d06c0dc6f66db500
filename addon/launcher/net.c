/* The network side of a new network namespace: only its loopback. An
 * ioctl on our own new namespace (no path, nothing of the container's to
 * trust: needs no defence). */
#define _GNU_SOURCE
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "launcher.h"
#include "util.h"

/* A new netns has lo, down. Every interface beyond it is the caller's
 * business (CNI, slirp4netns, pasta); lo is the runtime's, as in runc. */
void loopback_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		fail("bring lo up: socket");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		fail("bring lo up: read its flags");
	if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			fail("bring lo up");
	}
	close(s);
}
