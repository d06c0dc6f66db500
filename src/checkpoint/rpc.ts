// criu's RPC messages (criu's images/rpc.proto, proto2), as much of them as
// checkpoint and restore use: criu_req with criu_opts out, criu_resp in.
// Field numbers are rpc.proto's; encoding is src/protowire.ts. Pure.
import { Reader, Writer } from '../protowire.js';

/** criu_req_type. */
export const REQ = {
  EMPTY: 0,
  DUMP: 1,
  RESTORE: 2,
  CHECK: 3,
  PRE_DUMP: 4,
  NOTIFY: 6,
  FEATURE_CHECK: 9,
  VERSION: 10,
} as const;

export const REQ_NAMES: Record<number, string> = Object.fromEntries(Object.entries(REQ).map(([k, v]) => [v, k]));

/** criu_cg_mode, by the names `--manage-cgroups-mode` takes (runc's). */
export const CG_MODE: Record<string, number> = {
  ignore: 0,
  none: 1,
  props: 2,
  soft: 3,
  full: 4,
  strict: 5,
};

export interface ExtMount {
  key: string;
  val: string;
}

export interface InheritFd {
  key: string;
  fd: number;
}

export interface CgroupRoot {
  /** The controller(s); absent for all (cgroup v2's one hierarchy). */
  ctrl?: string;
  path: string;
}

/** criu_opts: the fields hako sets. */
export interface CriuOpts {
  imagesDirFd: number;
  pid?: number;
  leaveRunning?: boolean;
  extUnixSk?: boolean;
  tcpEstablished?: boolean;
  evasiveDevices?: boolean;
  shellJob?: boolean;
  fileLocks?: boolean;
  logLevel?: number;
  logFile?: string;
  ps?: { address: string; port: number };
  notifyScripts?: boolean;
  root?: string;
  parentImg?: string;
  trackMem?: boolean;
  autoDedup?: boolean;
  workDirFd?: number;
  extMnt?: ExtMount[];
  manageCgroups?: boolean;
  cgRoot?: CgroupRoot[];
  rstSibling?: boolean;
  inheritFd?: InheritFd[];
  /** criu_cg_mode; 0 (IGNORE) is a choice, so written when set. */
  manageCgroupsMode?: number;
  external?: string[];
  emptyNs?: number;
  freezeCgroup?: string;
  lazyPages?: boolean;
  statusFd?: number;
  orphanPtsMaster?: boolean;
  configFile?: string;
  lsmProfile?: string;
  /** Namespaces the restored tasks join rather than get made (criu's names: ipc, uts, mnt, user, time). */
  joinNs?: { ns: string; nsFile: string }[];
}

export interface CriuReq {
  type: number;
  opts?: CriuOpts;
  notifySuccess?: boolean;
  features?: { memTrack?: boolean; lazyPages?: boolean };
}

function encodeOpts(o: CriuOpts): Writer {
  const w = new Writer()
    .always(1, o.imagesDirFd)
    .int(2, o.pid)
    .bool(3, o.leaveRunning)
    .bool(4, o.extUnixSk)
    .bool(5, o.tcpEstablished)
    .bool(6, o.evasiveDevices)
    .bool(7, o.shellJob)
    .bool(8, o.fileLocks);
  if (o.logLevel !== undefined) w.always(9, o.logLevel);
  w.str(10, o.logFile);
  if (o.ps) w.msg(11, new Writer().str(1, o.ps.address).always(2, o.ps.port));
  w.bool(12, o.notifyScripts).str(13, o.root).str(14, o.parentImg).bool(15, o.trackMem).bool(16, o.autoDedup);
  if (o.workDirFd !== undefined) w.always(17, o.workDirFd);
  w.msgs(
    23,
    o.extMnt?.map((m) => new Writer().str(1, m.key).str(2, m.val)),
  );
  w.bool(24, o.manageCgroups);
  w.msgs(
    25,
    o.cgRoot?.map((c) => new Writer().str(1, c.ctrl).str(2, c.path)),
  );
  w.bool(26, o.rstSibling);
  w.msgs(
    27,
    o.inheritFd?.map((f) => new Writer().str(1, f.key).always(2, f.fd)),
  );
  if (o.manageCgroupsMode !== undefined) w.always(34, o.manageCgroupsMode);
  w.strs(37, o.external);
  w.msgs(
    39,
    o.joinNs?.map((j) => new Writer().str(1, j.ns).str(2, j.nsFile)),
  );
  if (o.emptyNs !== undefined) w.always(38, o.emptyNs);
  w.str(44, o.freezeCgroup).bool(48, o.lazyPages);
  if (o.statusFd !== undefined) w.always(49, o.statusFd);
  return w.bool(50, o.orphanPtsMaster).str(51, o.configFile).str(53, o.lsmProfile);
}

export function encodeReq(r: CriuReq): Buffer {
  const w = new Writer().always(1, r.type);
  if (r.opts) w.msg(2, encodeOpts(r.opts));
  if (r.notifySuccess !== undefined) w.always(3, r.notifySuccess);
  if (r.features) w.msg(5, new Writer().bool(1, r.features.memTrack).bool(2, r.features.lazyPages));
  return w.bytes();
}

export interface CriuResp {
  type: number;
  success: boolean;
  /** criu_dump_resp.restored. */
  restored?: boolean;
  /** criu_restore_resp.pid. */
  restoredPid?: number;
  notify?: { script: string; pid: number };
  crErrno?: number;
  crErrmsg?: string;
  features?: { memTrack: boolean; lazyPages: boolean };
  version?: { major: number; minor: number; sublevel: number; gitid: string };
}

export function decodeResp(buf: Buffer): CriuResp {
  const r = new Reader(buf);
  const resp: CriuResp = { type: r.int(1), success: r.bool(2) };
  const dump = r.msg(3);
  if (dump) resp.restored = dump.bool(1);
  const restore = r.msg(4);
  if (restore) resp.restoredPid = restore.int(1);
  const notify = r.msg(5);
  if (notify) resp.notify = { script: notify.str(1), pid: notify.int(2) };
  if (r.has(7)) resp.crErrno = r.int(7);
  if (r.has(9)) resp.crErrmsg = r.str(9);
  const f = r.msg(8);
  if (f) resp.features = { memTrack: f.bool(1), lazyPages: f.bool(2) };
  const v = r.msg(10);
  if (v) resp.version = { major: v.int(1), minor: v.int(2), sublevel: v.int(4), gitid: v.str(3) };
  return resp;
}

/** criu's version as runc compares it: major*10000 + minor*100 + sublevel. */
export function versionNumber(v: { major: number; minor: number; sublevel: number }): number {
  return v.major * 10000 + v.minor * 100 + v.sublevel;
}
