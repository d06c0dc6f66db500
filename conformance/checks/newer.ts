// Properties added in runtime-spec 1.1 to 1.3: scheduler, ioPriority,
// memoryPolicy, netDevices, idmapped mounts; and the errors the spec asks
// for when the host lacks what the config needs (intelRdt, unified).
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cgroupMount, type Check } from '../harness.js';

export const checks: Check[] = [
  {
    id: 'process.scheduler',
    section: 'config.md#linux-process',
    level: 'MUST',
    title: 'process.scheduler sets the policy and nice value (SCHED_BATCH, nice 5)',
    async run(t) {
      // /proc/self/stat: field 19 is nice, 41 the policy (SCHED_BATCH = 3).
      const r = await t.sh("awk '{print $19, $41}' /proc/self/stat", (c) => {
        c.process.scheduler = { policy: 'SCHED_BATCH', nice: 5 };
      });
      t.eq(r.stdout.trim(), '5 3', 'nice and policy');
    },
  },
  {
    id: 'process.ioPriority',
    section: 'config.md#linux-process',
    level: 'MUST',
    title: 'process.ioPriority sets the I/O class and priority (best-effort 6)',
    async run(t) {
      const r = await t.sh('ionice -p $$', (c) => {
        c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
      });
      t.eq(r.stdout.trim(), 'best-effort: prio 6', 'ionice -p');
    },
  },
  {
    id: 'linux.memoryPolicy',
    section: 'config-linux.md#memory-policy',
    level: 'MUST',
    title: 'linux.memoryPolicy sets the NUMA policy of the process (MPOL_INTERLEAVE on node 0)',
    async run(t) {
      if (!existsSync('/proc/self/numa_maps')) t.skip('no NUMA support in this kernel');
      const r = await t.sh('head -c 4096 /proc/self/numa_maps', (c) => {
        c.linux.memoryPolicy = { mode: 'MPOL_INTERLEAVE', nodes: '0' };
      });
      t.assert(/ interleave:0 /.test(r.stdout), `numa_maps shows no interleave:0 policy: ${r.stdout.split('\n')[0]}`);
    },
  },
  {
    id: 'linux.netDevices',
    section: 'config-linux.md#network-devices',
    level: 'MUST',
    title: 'linux.netDevices moves a host interface into the container, renamed and up',
    async run(t) {
      const a = `hkc${process.pid % 100000}a`;
      const b = `hkc${process.pid % 100000}b`;
      const mk = spawnSync('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
      if (mk.status !== 0) t.skip(`cannot make a veth pair: ${String(mk.stderr).trim()}`);
      t.defer(() => {
        spawnSync('ip', ['link', 'del', b]);
      });
      const r = await t.sh('ip -o link show ceth0', (c) => {
        c.linux.netDevices = { [a]: { name: 'ceth0' } };
      });
      t.assert(/ceth0[@:]/.test(r.stdout), `no ceth0 in the container: ${r.stdout.trim()}`);
      t.assert(/[<,]UP[,>]/.test(r.stdout), `ceth0 is not up: ${r.stdout.trim()}`);
    },
  },
  {
    id: 'mounts.idmap',
    section: 'config.md#linux-mount-options',
    level: 'SHOULD',
    title: 'an idmap bind mount with uidMappings/gidMappings shows files with the mapped owner',
    async run(t) {
      const src = path.join(t.dir, 'idmapsrc');
      mkdirSync(src);
      writeFileSync(path.join(src, 'f'), 'x');
      chownSync(path.join(src, 'f'), 0, 0);
      const r = await t.sh('stat -c "%u:%g" /mnt/id/f', (c, bundle) => {
        // The container's root (host uid 100000) cannot create mount points in a rootfs owned by the host's root.
        mkdirSync(path.join(bundle, 'rootfs/mnt/id'), { recursive: true });
        c.linux.namespaces.push({ type: 'user' });
        c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        c.mounts = c.mounts.filter((m: { destination: string }) => !m.destination.startsWith('/sys'));
        // The mount's mapping takes on-disk ids (containerID) to host ids
        // (hostID), as the kernel's idmapped mounts do: on-disk 0 becomes
        // host 101000, which the container's user namespace shows as 1000.
        c.mounts.push({
          destination: '/mnt/id',
          type: 'bind',
          source: src,
          options: ['bind', 'idmap'],
          uidMappings: [{ containerID: 0, hostID: 101000, size: 1 }],
          gidMappings: [{ containerID: 0, hostID: 101000, size: 1 }],
        });
      });
      t.eq(r.stdout.trim(), '1000:1000', 'owner of /mnt/id/f inside');
    },
  },
  {
    id: 'intelRdt.no-resctrl',
    section: 'config-linux.md#intelrdt',
    level: 'MUST',
    title: 'intelRdt without a mounted resctrl filesystem is an error',
    async run(t) {
      if (readFileSync('/proc/self/mountinfo', 'utf8').includes(' - resctrl ')) t.skip('resctrl is mounted here');
      await t.createFails(
        t.bundle((c) => {
          c.linux.intelRdt = { closID: 'hako-conformance' };
        }),
        'with linux.intelRdt and no resctrl mounted',
      );
    },
  },
  {
    id: 'unified.missing-controller',
    section: 'config-linux.md#unified',
    level: 'MUST',
    title: 'linux.resources.unified naming a controller cgroup v2 does not have is an error',
    async run(t) {
      const mnt = cgroupMount('', 2);
      const ctrls = mnt && existsSync(path.join(mnt, 'cgroup.controllers')) ? readFileSync(path.join(mnt, 'cgroup.controllers'), 'utf8').split(/\s+/) : [];
      if (ctrls.includes('memory')) t.skip('the memory controller is on cgroup v2 here');
      await t.createFails(
        t.bundle((c) => {
          c.linux.resources = { ...(c.linux.resources ?? {}), unified: { 'memory.high': '100000000' } };
        }),
        'with unified memory.high and no v2 memory controller',
      );
    },
  },
];
