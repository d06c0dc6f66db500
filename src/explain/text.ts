// `hako explain`'s human-readable form: the Explanation (explain.ts) as
// sections of indented lines, in the order create does things. Pure.
import type { DryRunOp } from '../cgroups/dry-run.js';
import type { Explanation } from './explain.js';
import type { HookView, MountView, PlanView, ProcessView } from './view.js';

type Out = string[];

const list = (xs: readonly string[]): string => (xs.length ? xs.join(', ') : '(none)');

function section(out: Out, title: string, lines: readonly string[]): void {
  if (lines.length === 0) return;
  out.push(title + ':', ...lines.map((l) => '  ' + l), '');
}

function namespaceLines(v: PlanView): string[] {
  const ns = v.namespaces;
  const l: string[] = [];
  if (v.execJoin) l.push(`join the init's (through its pidfd): ${list(v.execJoin)}`);
  for (const j of ns.join) l.push(`join ${j.type}: ${j.path}`);
  if (v.mode === 'create') l.push(`new: ${list(ns.new)}`);
  if (ns.userNamespaceMaps) l.push('user namespace maps written by the runtime before the init is cloned');
  if (ns.runtimeUnprivileged) l.push('runtime unprivileged (rootless)');
  for (const t of ns.timeOffsets) l.push(`time offset ${t.clock}: ${t.secs}s ${t.nanosecs}ns`);
  if (ns.loopbackUp) l.push('lo brought up');
  return l;
}

function mountLine(m: MountView, i: number): string {
  if (m.symlink !== undefined) return `${i + 1}. ${m.target} -> ${m.symlink} (symlink)`;
  const parts = [`${i + 1}. ${m.target}`, m.type ?? 'bind', m.source ? `from ${m.source}` : ''];
  if (m.flags.length) parts.push(`flags ${m.flags.join('|')}`);
  if (m.options.length) parts.push(`options ${m.options.join(',')}`);
  if (m.propagation.length) parts.push(`propagation ${m.propagation.join(',')}`);
  if (m.remount) parts.push(`then remount ${m.remount.join('|')}`);
  if (m.recursive)
    parts.push(
      `recursively set ${list(m.recursive.set)} clear ${list(m.recursive.clear)}${m.recursive.propagation ? ` propagation ${m.recursive.propagation}` : ''}`,
    );
  if (m.idmap)
    parts.push(
      `idmapped${m.idmap.recursive ? ' (recursive)' : ''}${m.idmap.userns ? ` as ${m.idmap.userns}` : ` uid ${m.idmap.uid.map((x) => `${x.containerID}:${x.hostID}:${x.size}`).join(' ')} gid ${m.idmap.gid.map((x) => `${x.containerID}:${x.hostID}:${x.size}`).join(' ')}`}`,
    );
  if (m.tmpcopyup) parts.push('tmpcopyup');
  if (m.mkdirMode) parts.push(`mkdir mode ${m.mkdirMode}`);
  if (m.selinuxLabel) parts.push(`label ${m.selinuxLabel}`);
  return parts.filter(Boolean).join('  ');
}

function rootfsLines(v: PlanView): string[] {
  const r = v.rootfs;
  if (!r) return [];
  const l = [`${r.path} (${r.pivot}${r.readonly ? ', read-only at the end' : ''})`];
  if (r.propagation) l.push(`propagation of / before setup: ${r.propagation}`);
  if (r.finalPropagation) l.push(`propagation of the new /: ${r.finalPropagation}`);
  if (r.mountLabel) l.push(`mount label: ${r.mountLabel}`);
  return l;
}

function processLines(p: ProcessView): string[] {
  const l = [
    `args: ${JSON.stringify(p.args)}`,
    `cwd: ${p.cwd}`,
    `user: uid ${p.user.uid} gid ${p.user.gid}${p.user.additionalGids.length ? ` groups ${p.user.additionalGids.join(',')}` : ''}${p.user.umask ? ` umask ${p.user.umask}` : ''}${p.user.setgroupsDenied ? ' (setgroups denied)' : ''}`,
  ];
  l.push(...p.env.map((e) => `env ${e}`));
  for (const [set, caps] of Object.entries(p.capabilities)) l.push(`capabilities ${set}: ${list(caps)}`);
  l.push(...p.rlimits.map((r) => `rlimit ${r.type}: soft ${r.soft} hard ${r.hard}`));
  if (p.noNewPrivileges) l.push('no_new_privs');
  if (p.oomScoreAdj !== undefined) l.push(`oom_score_adj ${p.oomScoreAdj}`);
  if (p.scheduler) l.push(`scheduler ${JSON.stringify(p.scheduler)}`);
  if (p.ioPriority) l.push(`io priority ${p.ioPriority.class} ${p.ioPriority.priority}`);
  if (p.personality !== undefined) l.push(`personality ${p.personality}`);
  if (p.seccomp) l.push(`seccomp: ${p.seccomp.instructions} BPF instructions, flags ${list(p.seccomp.flags)}, loaded last`);
  if (p.apparmorProfile) l.push(`apparmor ${p.apparmorStack ? 'stack' : 'exec'} ${p.apparmorProfile}`);
  if (p.selinuxLabel) l.push(`selinux label ${p.selinuxLabel}`);
  l.push(`fds kept: 0-2${p.preserveFds ? ` and ${p.preserveFds} more from 3` : ''}`, `session keyring: ${p.sessionKeyring ?? "the caller's"}`);
  if (p.setsid) l.push('setsid');
  if (p.consoleSize) l.push(`console ${p.consoleSize.width}x${p.consoleSize.height}`);
  l.push(...p.other.map((o) => `${o.tag}: ${JSON.stringify(o.value)}`));
  return l;
}

function opLine(o: DryRunOp): string {
  if (o.op === 'mkdir') return `mkdir ${o.path}`;
  if (o.op === 'write') return `write ${JSON.stringify(o.value)} > ${o.path}`;
  return `device filter: ${o.instructions} BPF instructions on ${o.path}`;
}

function cgroupLines(e: Explanation): string[] {
  const c = e.cgroup;
  if (c === null) return ["none of its own (runs in the caller's cgroups)"];
  if ('join' in c) return Object.values(c.join).map((d) => `join ${d} (cgroup.procs)`);
  const l = [`driver ${c.driver}, ${c.mode}: ${list(Object.values(c.dirs))}`];
  if (c.systemd) {
    l.push(`systemd unit ${c.systemd.unit} in ${c.systemd.slice}`);
    l.push(...c.systemd.properties.map(([n, v]) => `property ${n}=${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))}`));
  }
  l.push(...c.ops.map(opLine), 'then the init joins it (cgroup.procs, or cloned into it on cgroup v2)');
  return l;
}

function hookLines(h: Explanation['hooks']): string[] {
  const one = (kind: string, x: HookView) => `${kind}: ${JSON.stringify(x.args)} (${x.path})${x.timeout ? ` timeout ${x.timeout}s` : ''}`;
  return Object.entries(h).flatMap(([kind, xs]: [string, HookView[]]) => xs.map((x) => one(kind, x)));
}

function seccompLines(e: Explanation): string[] {
  const s = e.seccomp;
  if (!s) return [];
  return [
    `default action ${s.defaultAction}; architectures ${list(s.architectures)}`,
    ...Object.entries(s.syscallsPerAction).map(([a, n]) => `${a}: ${n} syscalls`),
    `${s.rules} libseccomp rules, ${s.instructions} BPF instructions (${s.bytes} bytes)${s.enosysStub ? ', with the -ENOSYS stub' : ''}`,
    `flags ${list(s.flags)}`,
    ...(s.skipped.length ? [`unknown to libseccomp, skipped: ${s.skipped.join(', ')}`] : []),
    ...(s.listenerPath ? [`listener to ${s.listenerPath}`] : []),
  ];
}

/** The explanation as text, sections in create's order. */
export function explanationText(e: Explanation): string {
  const v = e.plan;
  const out: Out = [`${e.operation} of container ${JSON.stringify(e.id)} from ${e.bundle} (nothing done)`, ''];
  section(out, 'warnings', e.warnings);
  section(out, 'namespaces', namespaceLines(v));
  if (e.userNamespace) {
    const u = e.userNamespace;
    const m = (xs: typeof u.uidMappings) => xs.map((x) => `${x.containerID} ${x.hostID} ${x.size}`).join('; ');
    section(out, 'user namespace maps', [
      `uid_map (${u.uidMapWrittenBy}): ${m(u.uidMappings)}`,
      `gid_map (${u.gidMapWrittenBy}): ${m(u.gidMappings)}`,
      `setgroups: ${u.setgroups}`,
    ]);
  }
  section(out, 'cgroup', cgroupLines(e));
  section(
    out,
    'network devices',
    e.netDevices.map((d) => `${d.host} -> ${d.name}`),
  );
  section(
    out,
    'hostname',
    [v.hostname, v.domainname && `domainname ${v.domainname}`].filter((x): x is string => !!x),
  );
  section(out, 'root filesystem', rootfsLines(v));
  section(out, 'mounts, in order', v.mounts.map(mountLine));
  section(out, 'devices', [
    ...v.devices.map((d) => `${d.path} ${d.type} ${d.major}:${d.minor} mode ${d.mode} uid ${d.uid} gid ${d.gid}${d.bind ? ' (bind from the host)' : ''}`),
    ...v.deviceSymlinks.map((s) => `${s.link} -> ${s.target}`),
  ]);
  section(out, 'masked paths', v.maskedPaths);
  section(out, 'read-only paths', v.readonlyPaths);
  section(
    out,
    'sysctls',
    Object.entries(v.sysctl).map(([k, x]) => `${k} = ${x}`),
  );
  section(out, 'process', processLines(v.process));
  section(out, 'seccomp', seccompLines(e));
  if (v.memoryPolicy) section(out, 'memory policy', [`${v.memoryPolicy.mode} ${list(v.memoryPolicy.flags)} nodes ${list(v.memoryPolicy.nodes.map(String))}`]);
  section(out, 'hooks, in order', hookLines(e.hooks));
  return out.join('\n');
}
