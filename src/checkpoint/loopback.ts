// The restored container's loopback. criu makes the network namespace of
// a restored container empty (runc's choice, which hako follows: runc does
// not manage network devices, whoever set up the network sets it up again
// from the prestart hook), and an empty network namespace starts with lo
// down. hako brings lo up in every network namespace it makes at create
// (src/launch/namespaces.ts), so it does at restore, when criu says the
// namespaces exist and before criu restores sockets: a TCP connection over
// 127.0.0.1 (--tcp-established) cannot be put back otherwise.
import { closeSync, constants, openSync } from 'node:fs';
import { native } from '../native.js';
import * as nl from '../launch/netlink.js';
import type { Spec } from '../spec/types.js';

/** Whether restore brings lo up: the config makes a network namespace of its own (one given by path is someone else's). */
export function restoreBringsLoopbackUp(spec: Spec): boolean {
  return (spec.linux?.namespaces ?? []).some((n) => n.type === 'network' && !n.path);
}

/** lo up in the network namespace of `pid` (through a netlink socket made there by the addon; we never enter it). */
export function loopbackUpIn(pid: number): void {
  const ns = openSync(`/proc/${pid}/ns/net`, constants.O_RDONLY);
  let sock = -1;
  try {
    sock = native().netlinkSocket(ns);
    const [reply] = native().netlinkTalk(sock, nl.getLinkRequest(1, { name: 'lo' }));
    if (!reply) throw new Error('no loopback interface in the restored network namespace');
    const lo = nl.parseLink(reply);
    if (!(lo.flags & nl.IFF.UP)) native().netlinkTalk(sock, nl.setLinkRequest(2, lo.index, { up: true }));
  } finally {
    if (sock >= 0) native().close(sock);
    closeSync(ns);
  }
}
