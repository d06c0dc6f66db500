/* process.execCPUAffinity in exec mode (addon/plan.tags, CPU_AFFINITY_*):
 * sched_setaffinity on ourselves with masks TypeScript checked against the
 * host's possible CPUs. Nothing of the container's is involved: no path, no
 * value it chose at run time. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>

#include "launcher.h"
#include "util.h"

/* "0-3,7" of a mask, for messages; "..." when it does not fit. */
static void format_cpus(const cpu_set_t *set, size_t size, char *buf, size_t len)
{
	size_t n = 0, bits = size * 8;
	buf[0] = '\0';
	for (size_t c = 0; c < bits; c++) {
		if (!CPU_ISSET_S(c, size, set))
			continue;
		size_t end = c;
		while (end + 1 < bits && CPU_ISSET_S(end + 1, size, set))
			end++;
		int w = end == c ? snprintf(buf + n, len - n, "%s%zu", n ? "," : "", c)
				 : snprintf(buf + n, len - n, "%s%zu-%zu", n ? "," : "", c, end);
		if (w < 0 || (size_t)w >= len - n) {
			snprintf(buf + (len > 4 ? len - 4 : 0), len > 4 ? 4 : len, "...");
			return;
		}
		n += (size_t)w;
		c = end;
	}
}

static void set_affinity(const unsigned long *mask, size_t size, const char *which, const char *where)
{
	const cpu_set_t *set = (const cpu_set_t *)mask;
	if (sched_setaffinity(0, size, set) == 0)
		return;
	char cpus[128];
	format_cpus(set, size, cpus, sizeof cpus);
	/* EINVAL: none of them is online and allowed here. */
	if (errno == EINVAL)
		failx("process.execCPUAffinity.%s: sched_setaffinity(%s): none of these CPUs is online and in %s", which, cpus, where);
	fail("process.execCPUAffinity.%s: sched_setaffinity(%s)", which, cpus);
}

void apply_cpu_initial(const struct plan *p)
{
	if (p->cpu_initial)
		set_affinity(p->cpu_initial, p->cpu_initial_size, "initial", "hako's cpuset");
}

void apply_cpu_final(const struct plan *p)
{
	if (p->cpu_final)
		set_affinity(p->cpu_final, p->cpu_final_size, "final", "the container's cpuset");
}
