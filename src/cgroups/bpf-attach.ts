// Swapping a cgroup's eBPF device filter for a new one through the addon,
// the way runc does (libcontainer/cgroups/devices/ebpf_linux.go): the new
// program replaces the old atomically where the kernel can (BPF_F_REPLACE,
// 5.6), otherwise it is attached next to the old ones, which are then
// detached. Both attached at once means both must allow, so access is never
// wider than either rule set during the swap.
import { native, isNativeError } from '../native.js';
import { DEVICE_FILTER_LICENSE } from './devices-bpf.js';
import { CgroupError } from './cgroup-error.js';

export interface DeviceFilterAttacher {
  /** Makes `program` the only device filter hako has on the cgroup `dir`. */
  attach(dir: string, program: Uint8Array): void;
}

export const nativeDeviceFilterAttacher: DeviceFilterAttacher = {
  attach(dir, program) {
    const n = native();
    const C = n.constants;
    const closeAll = (fds: number[]) => fds.forEach((fd) => n.close(fd));
    const dirFd = n.openPath(dir, C.O_RDONLY | C.O_DIRECTORY | C.O_CLOEXEC);
    try {
      let prog: number;
      try {
        prog = n.bpfLoadDeviceFilter(Buffer.from(program.buffer, program.byteOffset, program.byteLength), DEVICE_FILTER_LICENSE);
      } catch (e) {
        throw new CgroupError(`loading the device filter for ${dir}: ${(e as Error).message}`, isNativeError(e) ? e.code : undefined);
      }
      const olds: number[] = [];
      try {
        for (const id of n.bpfQueryDeviceFilters(dirFd)) {
          try {
            olds.push(n.bpfProgFdById(id));
          } catch (e) {
            if (!isNativeError(e, 'ENOENT')) throw e; // detached meanwhile
          }
        }
        if (olds.length === 1) {
          try {
            n.bpfAttachDeviceFilter(dirFd, prog, olds[0]);
            return;
          } catch (e) {
            // EINVAL: a kernel without BPF_F_REPLACE; fall back below.
            if (!isNativeError(e, 'EINVAL')) throw e;
          }
        }
        n.bpfAttachDeviceFilter(dirFd, prog);
        for (const fd of olds) {
          try {
            n.bpfDetachDeviceFilter(dirFd, fd);
          } catch (e) {
            if (!isNativeError(e, 'ENOENT')) throw e;
          }
        }
      } catch (e) {
        if (e instanceof CgroupError) throw e;
        throw new CgroupError(`attaching the device filter to ${dir}: ${(e as Error).message}`, isNativeError(e) ? e.code : undefined);
      } finally {
        closeAll(olds);
        n.close(prog);
      }
    } finally {
      n.close(dirFd);
    }
  },
};
