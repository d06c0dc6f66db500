// `hako update`: change the resource limits of a container, from flags
// (src/cli/update-flags.ts reads them) or a JSON document.
import { toHakoError } from '../../errors.js';
import { f, type Assert, type Equal, type FlagSpec, type OptionsOf } from '../parse.js';
import { containerId, type Command } from '../command.js';

export const UPDATE_FLAGS = [
  f({
    name: 'resources',
    aliases: ['r'],
    type: 'string',
    help: `path to the file containing the resources to update or '-' to read from the standard input

The accepted format is as follow (unchanged values can be omitted):

{
  "memory": {
    "limit": 0,
    "reservation": 0,
    "swap": 0
  },
  "cpu": {
    "shares": 0,
    "quota": 0,
    "period": 0,
    "realtimeRuntime": 0,
    "realtimePeriod": 0,
    "cpus": "",
    "mems": ""
  },
  "blockIO": {
    "weight": 0
  }
}

Note: if data is to be read from a file or the standard input, all
other options are ignored.`,
  }),
  f({ name: 'blkio-weight', type: 'int', help: 'Specifies per cgroup weight, range is from 10 to 1000' }),
  f({
    name: 'cpu-period',
    type: 'string',
    help: 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default',
  }),
  f({
    name: 'cpu-quota',
    type: 'string',
    help: 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period',
  }),
  f({ name: 'cpu-share', type: 'string', help: 'CPU shares (relative weight vs. other containers)' }),
  f({
    name: 'cpu-rt-period',
    type: 'string',
    help: 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default',
  }),
  f({
    name: 'cpu-rt-runtime',
    type: 'string',
    help: 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period',
  }),
  f({ name: 'cpuset-cpus', type: 'string', help: 'CPU(s) to use' }),
  f({ name: 'cpuset-mems', type: 'string', help: 'Memory node(s) to use' }),
  // Obsolete in runc 1.1 (ignored with a warning) and hidden from help,
  // but still accepted so old callers do not fail on them.
  f({ name: 'kernel-memory', type: 'string', hidden: true, help: '(obsoleted; do not use)' }),
  f({ name: 'kernel-memory-tcp', type: 'string', hidden: true, help: '(obsoleted; do not use)' }),
  f({ name: 'memory', type: 'string', help: 'Memory limit (in bytes)' }),
  f({ name: 'memory-reservation', type: 'string', help: 'Memory reservation or soft_limit (in bytes)' }),
  f({
    name: 'memory-swap',
    type: 'string',
    help: "Total memory usage (memory + swap); set '-1' to enable unlimited swap",
  }),
  f({ name: 'pids-limit', type: 'int', help: 'Maximum number of pids allowed in the container' }),
  f({ name: 'l3-cache-schema', type: 'string', help: 'The string of Intel RDT/CAT L3 cache schema' }),
  f({ name: 'mem-bw-schema', type: 'string', help: 'The string of Intel RDT/MBA memory bandwidth schema' }),
] as const satisfies readonly FlagSpec[];

export interface UpdateOptions {
  resources: string;
  blkioWeight: number;
  cpuPeriod: string;
  cpuQuota: string;
  cpuShare: string;
  cpuRtPeriod: string;
  cpuRtRuntime: string;
  cpusetCpus: string;
  cpusetMems: string;
  kernelMemory: string;
  kernelMemoryTcp: string;
  memory: string;
  memoryReservation: string;
  memorySwap: string;
  pidsLimit: number;
  l3CacheSchema: string;
  memBwSchema: string;
}

export type _UpdateTableMatchesInterface = Assert<Equal<UpdateOptions, OptionsOf<typeof UPDATE_FLAGS>>>;

export const updateCommand: Command<UpdateOptions> = {
  name: 'update',
  usage: 'update container resource constraints',
  argsUsage: '<container-id>',
  flags: UPDATE_FLAGS,
  arity: { exact: 1 },
  usesRootless: true,
  pathFlags: [['resources', '--resources']],
  async run(ctx, inv) {
    const { updateRequest } = await import('../update-flags.js');
    const { update, readResourcesDocument, STDIN_NAME } = await import('../../container/update.js');
    let req;
    try {
      req = updateRequest(inv.options, inv.explicit.options);
    } catch (e) {
      // UpdateFlagError is a usage error; anything else is described.
      throw toHakoError(e);
    }
    for (const w of req.warnings) ctx.log('warn', w);
    const file = req.file;
    update(ctx, containerId(inv), file === undefined ? req.resources : () => readResourcesDocument(file), {
      source: file === undefined ? 'update flags' : file === '-' ? STDIN_NAME : file,
    });
    return 0;
  },
};
