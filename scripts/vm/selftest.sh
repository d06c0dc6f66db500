#!/bin/bash
# Proves the VM lane end to end: in the guest the only cgroup hierarchy is
# v2 with every controller delegated from the root, and a real runtime (the
# host's runc, reached through the shared host root) enforces limits there:
#   - memory.max 16 MiB: a process that buffers 64 MiB is OOM-killed
#   - pids.max 8: forking past it fails with EAGAIN
# Usage: scripts/vm/selftest.sh   (RUNC=/path/to/runc to use another runtime)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)
runc=${RUNC:-$(command -v runc || echo /usr/sbin/runc)}
[ -x "$runc" ] || { echo "selftest: no runc (set RUNC=)" >&2; exit 1; }

"$top/scripts/mk-busybox-bundle.sh"
# Bundles live in the checkout: the guest's /tmp is a fresh tmpfs. Their
# rootfs is the busybox bundle's, by absolute path (read-only in config).
dir=$top/.tmp/vmtest
rm -rf "$dir"
mkdir -p "$dir"
node - "$top/bundles/busybox" "$dir" <<'EOF'
const fs = require('fs');
const [src, dir] = process.argv.slice(2);
const base = JSON.parse(fs.readFileSync(`${src}/config.json`, 'utf8'));
base.root.path = `${src}/rootfs`;
const make = (name, script, resources) => {
  const c = structuredClone(base);
  c.process.args = ['sh', '-c', script];
  c.linux.cgroupsPath = `/hako-selftest/${name}`;
  // A cgroup namespace, so that the container's /sys/fs/cgroup is its own
  // cgroup (without one runc mounts the whole hierarchy from its root).
  c.linux.namespaces.push({ type: 'cgroup' });
  c.linux.resources = { ...c.linux.resources, ...resources };
  fs.mkdirSync(`${dir}/${name}`);
  fs.writeFileSync(`${dir}/${name}/config.json`, JSON.stringify(c, null, 2));
};
const MiB = 1024 * 1024;
make('memory',
  'cat /sys/fs/cgroup/memory.max; head -c 64m /dev/zero | tail >/dev/null; echo "tail status $?"; ' +
  'grep oom_kill /sys/fs/cgroup/memory.events',
  { memory: { limit: 16 * MiB, swap: 16 * MiB } });
// A failed fork ends a busybox sh script, so the sleeps are started in a
// subshell; afterwards only builtins run (every fork would fail until the
// sleeps are gone).
make('pids',
  'cat /sys/fs/cgroup/pids.max; (i=0; while [ $i -lt 20 ]; do sleep 30 & i=$((i+1)); done); ' +
  'echo "subshell status $?"; while read -r l; do echo "$l"; done </sys/fs/cgroup/pids.events; kill -9 -1; true',
  { pids: { limit: 8 } });
EOF

cat >"$dir/guest.sh" <<'EOF'
# Runs in the guest (sh): checks, then both containers; exits non-zero on
# the first thing that is not as expected.
set -u
runc=$1 dir=$2
fail() { echo "SELFTEST FAIL: $*" >&2; exit 1; }
echo "kernel $(uname -r); cgroup fs: $(stat -f -c %T /sys/fs/cgroup)"
[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || fail "/sys/fs/cgroup is not cgroup2"
grep -q ' cgroup ' /proc/mounts && fail "a cgroup v1 hierarchy is mounted"
echo "controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
echo "subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
for c in cpu memory pids io; do
  grep -qw $c /sys/fs/cgroup/cgroup.subtree_control || fail "$c not enabled in the root"
done
grep ' /sys/fs/cgroup ' /proc/mounts | grep -q nsdelegate || fail "cgroup2 mounted without nsdelegate"
"$runc" --version | head -n1

echo "--- memory.max 16 MiB, 64 MiB buffered by tail"
out=$(cd "$dir/memory" && "$runc" run selftest-mem 2>&1); rc=$?
echo "$out"
[ $rc = 0 ] || fail "runc run (memory) exited $rc"
echo "$out" | grep -qx 16777216 || fail "memory.max is not 16777216 in the container"
echo "$out" | grep -qx 'tail status 137' || fail "tail was not SIGKILLed"
echo "$out" | grep -q 'oom_kill [1-9]' || fail "memory.events shows no oom_kill"
dmesg | grep -q 'Memory cgroup out of memory' || fail "no memcg OOM in the kernel log"

echo "--- pids.max 8, 20 background sleeps"
out=$(cd "$dir/pids" && "$runc" run selftest-pids 2>&1); rc=$?
echo "$out"
[ $rc = 0 ] || fail "runc run (pids) exited $rc"
echo "$out" | grep -qx 8 || fail "pids.max is not 8 in the container"
echo "$out" | grep -q 'Resource temporarily unavailable' || fail "fork did not fail with EAGAIN"
echo "$out" | grep -q 'max [1-9]' || fail "pids.events shows no max"
[ -d /sys/fs/cgroup/hako-selftest/memory ] && fail "runc left its cgroup behind"
echo "SELFTEST OK"
EOF

exec "$here/run.sh" -- sh "$dir/guest.sh" "$runc" "$dir"
