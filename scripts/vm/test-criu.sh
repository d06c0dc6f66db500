#!/bin/bash
# `make test-criu`: checkpoint and restore (test/integration/checkpoint.test.ts,
# checkpoint-flags.test.ts and checkpoint-lazy.test.ts)
# in the cgroup v2 guest, whose Debian 6.1 kernel criu 3.17 works with (the
# development hosts' newer kernels make criu fail at its kernel probe).
# Debian's criu is installed on the host when missing (the guest shares the
# host's /; installing it enables nothing on the host). The kernel modules
# criu's socket dumping needs (the sock_diag family) and `criu check`'s other
# wants are loaded in the guest from the lane's unpacked kernel with
# busybox modprobe, before the test runs; `criu check` is printed.
#
# Usage: scripts/vm/test-criu.sh [PATTERN]
#   PATTERN  uvu's file pattern under out/test/integration (default
#            '^checkpoint(-flags|-lazy)?\.test\.js$', or $HAKO_CRIU_TESTS)
# Environment: HAKO_VM=optional and HAKO_VM_TIMEOUT as for test-v2.sh.
# Expects `make build` to have run.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)
cd "$top" || exit 1
pattern=${1:-${HAKO_CRIU_TESTS:-'^checkpoint(-flags|-lazy)?\.test\.js$'}}
tests=out/test/integration

"$here/build.sh"
rc=$?
if [ $rc = 3 ]; then
  if [ "${HAKO_VM:-}" = optional ]; then
    echo "test-criu: SKIPPED: the VM lane cannot run on this machine (reason above; HAKO_VM=optional)"
    exit 0
  fi
  echo "test-criu: FAILED: the VM lane cannot run on this machine (reason above); HAKO_VM=optional skips it" >&2
  exit 1
fi
[ $rc = 0 ] || exit $rc
[ -d "$tests" ] || { echo "test-criu: no $tests (run make build)" >&2; exit 1; }

if ! dpkg -s criu >/dev/null 2>&1; then
  echo "test-criu: installing criu (the guest runs the host's)"
  { apt-cache show criu >/dev/null 2>&1 || apt-get update -qq; } &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends criu >/dev/null ||
    { echo "test-criu: FAILED: apt-get install criu" >&2; exit 1; }
fi

# The guest kernel's modules, unpacked by build.sh in the checkout (which
# the guest sees at the same path).
. .tmp/vm/lane.env
kdir=$(ls -d "$top/.tmp/vm/$HAKO_VM_KPKG"/lib/modules/* 2>/dev/null | head -n1)
[ -n "$kdir" ] || { echo "test-criu: no unpacked kernel modules under .tmp/vm/$HAKO_VM_KPKG" >&2; exit 1; }

# In the guest: its modules where modprobe looks (the overlay root is
# writable, the host's files untouched), the modules loaded, criu's verdict.
guest_setup='
  kdir=$0
  mkdir -p /lib/modules && ln -sfn "$kdir" "/lib/modules/$(uname -r)"
  for m in unix_diag inet_diag tcp_diag udp_diag netlink_diag af_packet_diag tun veth nf_tables nft_ct ip_tables iptable_filter xt_mark nft_compat nf_conntrack_netlink; do
    busybox modprobe "$m" 2>/dev/null || echo "test-criu: modprobe $m failed" >&2
  done
  echo "test-criu: guest $(uname -r), $(criu --version | head -n1), criu check: $(criu check 2>&1 | tail -n1)"
'
echo "test-criu: in the cgroup v2 guest: $pattern"
uvu=node_modules/.bin/uvu
[ -x "$uvu" ] || uvu="npx uvu"
exec "$here/run.sh" --timeout "${HAKO_VM_TIMEOUT:-1200}" --timing --env HAKO_TEST_CRIU=1 -- \
  sh -c "$guest_setup"'exec '"$uvu"' "$1" "$2"' "$kdir" "$tests" "$pattern"
