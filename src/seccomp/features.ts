// linux.seccomp of the features document (features-linux.md): what this
// build, its libseccomp and this kernel can do, asked of them rather than
// assumed.
import type { Arch, LinuxSeccompAction, LinuxSeccompFlag, LinuxSeccompOperator, SeccompFeatures } from '../spec/types.js';
import { native, type Native } from '../native.js';
import { ACT, ACTIONS, ARCHES, FLAGS, OPERATORS } from './consts.js';

type Backend = Pick<Native, 'seccompAvailable' | 'seccompCompile' | 'seccompFlagSupported'>;

export function seccompFeatures(n: Backend = native()): SeccompFeatures {
  if (!n.seccompAvailable()) return { enabled: false };
  // libseccomp refuses to add an architecture it does not know; the list in
  // the schema is that of libseccomp 2.6, newer than some hosts have.
  const archs = (Object.keys(ARCHES) as Arch[]).filter((a) => {
    try {
      n.seccompCompile({ defaultAction: ACT.ALLOW, architectures: [ARCHES[a]], rules: [], syscallNames: [], binaryTree: false });
      return true;
    } catch {
      return false;
    }
  });
  const knownFlags = Object.keys(FLAGS) as LinuxSeccompFlag[];
  return {
    enabled: true,
    actions: Object.keys(ACTIONS).sort() as LinuxSeccompAction[],
    operators: Object.keys(OPERATORS).sort() as LinuxSeccompOperator[],
    archs: archs.sort(),
    knownFlags,
    // TSYNC asks for nothing (the launcher is single-threaded), so it is
    // always supported, as in runc.
    supportedFlags: knownFlags.filter((f) => FLAGS[f] === 0 || n.seccompFlagSupported(FLAGS[f])),
  };
}
