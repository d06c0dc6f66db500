// The profiles the seccomp integration tests run containers under.
//
// podman's default is containers-common's seccomp.json, a template: each
// entry says for which architectures and capabilities it applies, and podman
// writes the matching entries into config.json as linux.seccomp. We do the
// same selection here, on the host's own copy when it has one (Debian's
// golang-github-containers-common ships /usr/share/containers/seccomp.json),
// else on the fixture made the same way.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Arch, LinuxSeccomp, LinuxSyscall } from '../../src/spec/types.js';
import { REPO } from '../helpers.js';

export const FIXTURES = path.join(REPO, 'test/fixtures/seccomp');
export const CONTAINERS_COMMON_PROFILE = '/usr/share/containers/seccomp.json';

/** podman's default capabilities (containers.conf default_capabilities). */
export const PODMAN_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_NET_BIND_SERVICE',
  'CAP_SETFCAP',
  'CAP_SETGID',
  'CAP_SETPCAP',
  'CAP_SETUID',
  'CAP_SYS_CHROOT',
];

interface TemplateFilter {
  arches?: string[];
  caps?: string[];
}

interface TemplateSyscall extends LinuxSyscall {
  includes?: TemplateFilter;
  excludes?: TemplateFilter;
}

interface Template {
  defaultAction: LinuxSeccomp['defaultAction'];
  defaultErrnoRet?: number;
  archMap?: Array<{ architecture: Arch; subArchitectures?: Arch[] }>;
  syscalls: TemplateSyscall[];
}

// Go's GOARCH names, which the template's includes/excludes use.
const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64' };
const NATIVE_ARCH: Record<string, Arch> = {
  x64: 'SCMP_ARCH_X86_64',
  arm64: 'SCMP_ARCH_AARCH64',
  ia32: 'SCMP_ARCH_X86',
  s390x: 'SCMP_ARCH_S390X',
  ppc64: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64',
};

/** The linux.seccomp podman writes for this template, architecture and capabilities. */
export function fromTemplate(t: Template, caps: readonly string[], nodeArch = process.arch): LinuxSeccomp {
  const arch = GOARCH[nodeArch] ?? nodeArch;
  const has = new Set(caps);
  const syscalls: LinuxSyscall[] = [];
  for (const s of t.syscalls) {
    const inc = s.includes ?? {};
    const exc = s.excludes ?? {};
    if (inc.arches?.length && !inc.arches.includes(arch)) continue;
    if (inc.caps?.length && !inc.caps.every((c) => has.has(c))) continue;
    if (exc.arches?.length && exc.arches.includes(arch)) continue;
    if (exc.caps?.length && exc.caps.some((c) => has.has(c))) continue;
    const out: LinuxSyscall = { names: s.names, action: s.action };
    if (s.errnoRet !== undefined && s.errnoRet !== null) out.errnoRet = s.errnoRet;
    if (s.args?.length) out.args = s.args;
    syscalls.push(out);
  }
  const native = NATIVE_ARCH[nodeArch];
  const entry = t.archMap?.find((a) => a.architecture === native);
  const profile: LinuxSeccomp = { defaultAction: t.defaultAction, syscalls };
  if (t.defaultErrnoRet !== undefined) profile.defaultErrnoRet = t.defaultErrnoRet;
  if (entry) profile.architectures = [entry.architecture, ...(entry.subArchitectures ?? [])];
  return profile;
}

function fixture(name: string): LinuxSeccomp {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as LinuxSeccomp;
}

/** podman's default profile: the host's containers-common, else the fixture. */
export function podmanDefault(): { profile: LinuxSeccomp; source: string } {
  if (existsSync(CONTAINERS_COMMON_PROFILE)) {
    const t = JSON.parse(readFileSync(CONTAINERS_COMMON_PROFILE, 'utf8')) as Template;
    return { profile: fromTemplate(t, PODMAN_CAPS), source: CONTAINERS_COMMON_PROFILE };
  }
  return { profile: fixture('podman-default.json'), source: 'test/fixtures/seccomp/podman-default.json' };
}

/** containerd's DefaultProfile on amd64 for its default capabilities. */
export function containerdDefault(): LinuxSeccomp {
  return fixture('containerd-default.json');
}
