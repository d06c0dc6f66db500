// linux.seccomp of the features document (features-linux.md): what this
// build, its libseccomp and this kernel can do, asked of them rather than
// assumed.
import type { Arch, LinuxSeccompAction, LinuxSeccompFlag, LinuxSeccompOperator, SeccompFeatures } from '../spec/types.js';
import { native, type Native } from '../native.js';
import { ACT, ACTIONS, ARCHES, FILTER_FLAG, FLAGS, OPERATORS } from './consts.js';

type Backend = Pick<Native, 'seccompAvailable' | 'seccompCompile' | 'seccompFlagSupported'>;

export function seccompFeatures(n: Backend = native()): SeccompFeatures {
  if (!n.seccompAvailable()) return { enabled: false };
  // Asked of libseccomp rather than listed: it refuses architectures it
  // does not know (the schema's list is libseccomp 2.6's, newer than some
  // hosts have), and one filter cannot mix byte orders, so next to the
  // always-present native architecture the big-endian ones of a
  // little-endian host (and the reverse) cannot be used either.
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
    actions: (Object.keys(ACTIONS) as LinuxSeccompAction[]).filter((a) => a !== 'SCMP_ACT_NOTIFY' || notifySupported(n)).sort(),
    operators: Object.keys(OPERATORS).sort() as LinuxSeccompOperator[],
    archs: archs.sort(),
    knownFlags,
    // TSYNC asks for nothing (the launcher is single-threaded), so it is
    // always supported, as in runc.
    supportedFlags: knownFlags.filter((f) => FLAGS[f] === 0 || n.seccompFlagSupported(FLAGS[f])),
  };
}

// A listener needs the kernel's NEW_LISTENER (5.0) and a libseccomp that
// takes the action (2.5): asked of both, as for the architectures.
function notifySupported(n: Backend): boolean {
  if (!n.seccompFlagSupported(FILTER_FLAG.NEW_LISTENER)) return false;
  try {
    n.seccompCompile({
      defaultAction: ACT.ALLOW,
      architectures: [],
      rules: [{ name: 'getpid', action: ACT.NOTIFY, args: [] }],
      syscallNames: ['getpid'],
      binaryTree: false,
    });
    return true;
  } catch {
    return false;
  }
}
