#!/bin/bash
# Runs one command as root in a pure cgroup v2 guest (qemu TCG, Debian's
# cloud kernel booted with cgroup_no_v1=all) and exits with its status.
# See scripts/vm/README.md.
#
# Usage: scripts/vm/run.sh [--timeout SECONDS] [--env NAME=VALUE]... [--timing] -- CMD [ARGS...]
#
# The guest sees the host's / read-only (with a tmpfs layer on top, so it can
# write anywhere but nothing reaches the host) and this checkout read-write at
# its host path. CMD runs in the current directory if that is inside the
# checkout, else in the checkout's top. Its whole environment: PATH,
# HOME=/root, HAKO_VM_GUEST=1, the caller's TERM, NO_COLOR, FORCE_COLOR,
# NODE_DISABLE_COLORS and CI when set, and the --env values (the value may
# hold anything). No stdin (/dev/null), no terminal. Its stdout and stderr
# come back on separate virtio-serial ports and are copied to ours as they
# arrive (so their relative order is lost).
#
# Exit status: CMD's, or 124 on timeout (default 1200 s from launch), 125 when
# the lane itself failed (boot error: the last lines of the guest's console
# are printed; the whole log stays in .tmp/vm/last-console.log), 3 when the
# lane cannot run on this machine (from build.sh, reason printed).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)
cache=$top/.tmp/vm

timeout=1200 timing=${HAKO_VM_TIMING:-0} systemd=${HAKO_VM_SYSTEMD:-0} cgmode=${HAKO_VM_CGROUP:-v2}
envs=()
usage() { echo "usage: $0 [--timeout SECONDS] [--env NAME=VALUE]... [--timing] [--systemd] -- CMD [ARGS...]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --timeout) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
    --timeout=*) timeout=${1#*=}; shift ;;
    --env) [ $# -ge 2 ] || usage; envs+=("$2"); shift 2 ;;
    --env=*) envs+=("${1#*=}"); shift ;;
    --timing) timing=1; shift ;;
    --systemd) systemd=1; shift ;;
    --) shift; break ;;
    *) usage ;;
  esac
done
[ $# -ge 1 ] || usage
[[ $timeout =~ ^[0-9]+$ ]] && [ "$timeout" -gt 0 ] || { echo "vm: --timeout wants whole seconds" >&2; exit 2; }
case $cgmode in
  v2) ;;
  hybrid) [ "$systemd" = 1 ] || { echo "vm: HAKO_VM_CGROUP=hybrid needs --systemd (systemd mounts the v1 hierarchies)" >&2; exit 2; } ;;
  *) echo "vm: HAKO_VM_CGROUP is v2 or hybrid, not '$cgmode'" >&2; exit 2 ;;
esac
for e in "${envs[@]}"; do
  [[ $e =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || { echo "vm: --env wants NAME=VALUE, not '$e'" >&2; exit 2; }
done

log() { echo "vm: $*" >&2; }
t0=$EPOCHREALTIME

# Build (or, usually, just check the stamp of) the kernel and initramfs;
# build.sh says something only when it has work to do.
"$here/build.sh"
rc=$?
[ $rc = 0 ] || exit $rc
# shellcheck disable=SC1091
. "$cache/lane.env"
t_built=$EPOCHREALTIME

# virtiofsd's -o source= would split a path at a comma.
case $top in *,*) log "the checkout path must not contain a comma: $top"; exit 125 ;; esac
cwd=$(pwd -P)
case $cwd/ in "$top"/*) ;; *) cwd=$top ;; esac

# Per-run files (sockets, fifos, logs) live outside the checkout: a unix
# socket path must stay under 108 bytes. Removed on exit.
run=$(mktemp -d "${TMPDIR:-/tmp}/hako-vm.XXXXXX") || exit 125
qpid="" vpids=() tails=() sfd="" # everything started here, by pid
# Stop one process we started: TERM, up to 3 s, then KILL; reap it.
stop() {
  local p=$1 i
  if kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p" 2>/dev/null
    for ((i = 0; i < 30; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  fi
  wait "$p" 2>/dev/null
}
cleanup() {
  local p i s
  [ -n "$sfd" ] && exec {sfd}<&-
  [ -n "$qpid" ] && stop "$qpid"
  for p in "${tails[@]}"; do stop "$p"; done
  for p in "${vpids[@]}"; do stop "$p"; done
  # virtiofsd 7.2 keeps a pid (lock) file named after its socket path in
  # /run/virtiofsd and leaves it behind when it ends.
  for s in root.sock share.sock; do
    p=$run/$s
    rm -f "/run/virtiofsd/${p//\//.}.pid"
  done
  [ -f "$run/console.log" ] && cp "$run/console.log" "$cache/last-console.log" 2>/dev/null
  rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Shell-quote for the guest's busybox sh.
q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }

# The command travels in a second, tiny cpio archive put before the cached
# initramfs (the kernel unpacks concatenated archives), so nothing per run
# touches the checkout and any argument survives intact.
mkdir -p "$run/conf"
{
  echo "HAKO_SHARE=$(q "$top")"
  echo "HAKO_CWD=$(q "$cwd")"
  echo "HAKO_SYSTEMD=$(q "$systemd")"
  echo "HAKO_CGROUP=$(q "$cgmode")"
  printf 'hako_command() {\n  exec env -i'
  # Output styling follows the caller's (test runners colour or not by it).
  pass=()
  for v in TERM NO_COLOR FORCE_COLOR NODE_DISABLE_COLORS CI; do
    [ -n "${!v+set}" ] && pass+=("$v=${!v}")
  done
  for e in PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root HAKO_VM_GUEST=1 \
    "${pass[@]}" "${envs[@]}"; do
    printf ' %s' "$(q "$e")"
  done
  # sh -c 'exec "$@"' keeps a CMD containing '=' from being read by env as
  # one more assignment.
  printf ' /bin/sh -c %s sh' "$(q 'exec "$@"')"
  for a in "$@"; do printf ' %s' "$(q "$a")"; done
  printf '\n}\n'
} >"$run/conf/hako-run.conf"
(cd "$run/conf" && echo hako-run.conf | "$HAKO_VM_BUSYBOX" cpio -o -H newc 2>/dev/null) >"$run/initrd.img" || exit 125
cat "$HAKO_VM_INITRD" >>"$run/initrd.img" || exit 125

t_launch=$EPOCHREALTIME
# virtiofsd: -f keeps it in the foreground (our child, stoppable by pid);
# sandbox=chroot because the default namespace sandbox fails here (pivot_root
# EBUSY). The host root is cached hard (it does not change under a test);
# the checkout with cache=auto, since the host may write it too.
"$HAKO_VM_VIRTIOFSD" -f --socket-path="$run/root.sock" -o source=/ -o cache=always -o sandbox=chroot \
  </dev/null >"$run/virtiofsd-root.log" 2>&1 &
vpids+=($!)
"$HAKO_VM_VIRTIOFSD" -f --socket-path="$run/share.sock" -o source="$top" -o cache=auto -o sandbox=chroot \
  </dev/null >"$run/virtiofsd-share.log" 2>&1 &
vpids+=($!)
for ((i = 0; i < 100; i++)); do
  [ -S "$run/root.sock" ] && [ -S "$run/share.sock" ] && break
  kill -0 "${vpids[0]}" 2>/dev/null && kill -0 "${vpids[1]}" 2>/dev/null || break
  sleep 0.05
done
if ! [ -S "$run/root.sock" ] || ! [ -S "$run/share.sock" ]; then
  log "virtiofsd did not start:"
  tail -n 5 "$run"/virtiofsd-*.log >&2
  exit 125
fi

# Output ports: qemu writes stdout and stderr to plain files (which never
# push back: a port the host is slow to read would hold the guest's writes
# in its virtqueue, and whatever is still there at poweroff is lost), and
# `tail -f --pid` copies them to ours as they grow, then the rest once qemu
# is gone. The status port is a fifo read by this script (opened read-write
# so that the open does not block).
: >"$run/stdout.log"
: >"$run/stderr.log"
mkfifo "$run/status" || exit 125
exec {sfd}<>"$run/status"

mem=${HAKO_VM_MEM:-4G}
# Pure cgroup v2, or (systemd only) systemd's hybrid layout: v1 controllers
# and the unified hierarchy beside them.
cgargs=cgroup_no_v1=all
[ "$cgmode" = hybrid ] && cgargs="systemd.unified_cgroup_hierarchy=0"
"$HAKO_VM_QEMU" \
  -accel tcg,thread=multi,tb-size=512 -cpu max -smp "${HAKO_VM_SMP:-2}" -m "$mem" \
  -object memory-backend-memfd,id=mem,size="$mem",share=on -machine q35,memory-backend=mem \
  -nodefaults -no-user-config -display none -no-reboot -nic none \
  -kernel "$HAKO_VM_KERNEL" -initrd "$run/initrd.img" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 $cgargs rdinit=/init ${HAKO_VM_KERNEL_ARGS:-}" \
  -chardev file,id=con,path="$run/console.log" -serial chardev:con \
  -chardev socket,id=fs0,path="$run/root.sock" -device vhost-user-fs-pci,chardev=fs0,tag=hostroot \
  -chardev socket,id=fs1,path="$run/share.sock" -device vhost-user-fs-pci,chardev=fs1,tag=checkout \
  -device virtio-serial-pci \
  -chardev file,id=out,path="$run/stdout.log" -device virtserialport,chardev=out,name=hako.stdout \
  -chardev file,id=err,path="$run/stderr.log" -device virtserialport,chardev=err,name=hako.stderr \
  -chardev file,id=st,path="$run/status" -device virtserialport,chardev=st,name=hako.status \
  </dev/null >"$run/qemu.log" 2>&1 {sfd}<&- &
qpid=$!
# -s: how often tail looks whether qemu is still there (it sees new data at
# once, through inotify).
tail -q -s 0.1 -c +1 -f --pid="$qpid" "$run/stdout.log" 2>/dev/null &
tails=($!)
tail -q -s 0.1 -c +1 -f --pid="$qpid" "$run/stderr.log" >&2 &
tails+=($!)

alive() { kill -0 "$1" 2>/dev/null; }
# The guest writes "start" when CMD starts and "exit N" when it ends. Waiting
# with read -t (no sleep processes) also notices qemu ending without a status.
deadline=$((SECONDS + timeout))
status="" t_start="" t_exit="" timedout=0
while :; do
  if IFS= read -r -t 1 -u "$sfd" line; then
    case $line in
      start) t_start=$EPOCHREALTIME ;;
      "exit "*) status=${line#exit }; t_exit=$EPOCHREALTIME; break ;;
    esac
  else
    alive "$qpid" || break
    if [ $SECONDS -ge $deadline ]; then timedout=1; break; fi
  fi
done
# After "exit N" the guest powers off at once; give it a few seconds.
for ((i = 0; i < 100; i++)); do
  alive "$qpid" || break
  read -r -t 0.05 -u "$sfd" _
done
alive "$qpid" && kill -TERM "$qpid" 2>/dev/null
wait "$qpid" 2>/dev/null
qrc=$?
# qemu is gone: the tails copy what is left and end.
wait "${tails[@]}" 2>/dev/null
t_end=$EPOCHREALTIME

if [ "$timing" = 1 ]; then
  d() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
  msg="build check $(d "$t0" "$t_built")s, boot (launch to command start) "
  [ -n "$t_start" ] && msg+="$(d "$t_launch" "$t_start")s" || msg+="-"
  [ -n "$t_exit" ] && msg+=", command $(d "$t_start" "$t_exit")s, poweroff $(d "$t_exit" "$t_end")s"
  msg+=", total $(d "$t0" "$t_end")s"
  log "timing: $msg"
fi

console_tail() {
  log "last lines of the guest console:"
  # A panic's own line is followed by a long backtrace: show it first.
  grep -m1 -e 'Kernel panic' -e 'BUG:' "$run/console.log" 2>/dev/null | sed 's/^/  | /' >&2
  tail -n "${1:-25}" "$run/console.log" 2>/dev/null | sed 's/^/  | /' >&2
  if [ -s "$run/qemu.log" ]; then log "qemu said:"; sed 's/^/  | /' "$run/qemu.log" >&2; fi
}
if [ $timedout = 1 ]; then
  log "timed out after ${timeout}s${t_start:+ (the command had started)}"
  console_tail 10
  exit 124
fi
# The guest repeats its status on the serial console (see init): the port's
# copy can be lost when poweroff overtakes it.
if [ -z "$status" ] && [ -n "$t_start" ]; then
  status=$(tr -d '\r' <"$run/console.log" 2>/dev/null | sed -n 's/^hako-vm exit \([0-9][0-9]*\)$/\1/p' | tail -n 1)
  [ -z "$status" ] || log "the exit status came by the serial console (the status port lost it)"
fi
if [ -z "$status" ]; then
  log "the guest stopped without an exit status (qemu exit $qrc${t_start:+, after the command started}): boot or init failure"
  console_tail 25
  exit 125
fi
exit "$status"
