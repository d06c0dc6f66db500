#!/bin/bash
# `make test-systemd`: the systemd cgroup driver's tests in guests that boot
# systemd as PID 1 (these hosts have none): first on pure cgroup v2, then on
# systemd's hybrid layout (v1 controllers, the unified hierarchy beside
# them), each with HAKO_TEST_SYSTEMD=1 so that a guest without systemd fails
# rather than skips.
#
# Usage: scripts/vm/test-systemd.sh [PATTERN]
#   PATTERN  uvu's file pattern under out/test/integration, for every
#            layout (or $HAKO_SYSTEMD_TESTS). By default v2 runs
#            '^systemd.*\.test\.js$' (the driver and podman), hybrid
#            '^systemd-cgroup\.test\.js$': podman's calls are the same on both
#            layouts, and the guest costs ~25 s more for it.
# Environment:
#   HAKO_VM=optional        skip, saying why, where the lane cannot run
#   HAKO_VM_TIMEOUT         seconds for each guest run (default 1200)
#   HAKO_SYSTEMD_LAYOUTS    which guests, default "v2 hybrid"
# Expects `make build` to have run.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)
cd "$top" || exit 1
pattern=${1:-${HAKO_SYSTEMD_TESTS:-}}
tests=out/test/integration

"$here/build.sh"
rc=$?
if [ $rc = 3 ]; then
  if [ "${HAKO_VM:-}" = optional ]; then
    echo "test-systemd: SKIPPED: the VM lane cannot run on this machine (reason above; HAKO_VM=optional)"
    exit 0
  fi
  echo "test-systemd: FAILED: the VM lane cannot run on this machine (reason above); HAKO_VM=optional skips it" >&2
  exit 1
fi
[ $rc = 0 ] || exit $rc
[ -d "$tests" ] || { echo "test-systemd: no $tests (run make build)" >&2; exit 1; }
# The guests boot the host's own systemd and dbus-daemon (over the shared
# root): install them where the image lacks them (they need not run here).
need=()
[ -x /lib/systemd/systemd ] || need+=(systemd)
[ -x /usr/bin/dbus-daemon ] || need+=(dbus)
if [ ${#need[@]} -gt 0 ]; then
  echo "test-systemd: installing ${need[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; } \
    || { echo "test-systemd: FAILED: apt-get install ${need[*]} failed" >&2; exit 1; }
fi
[ -x /lib/systemd/systemd ] || { echo "test-systemd: FAILED: /lib/systemd/systemd is missing after installing systemd" >&2; exit 1; }

# uvu from node_modules/.bin: npx alone takes 45 s in the emulated guest.
uvu=node_modules/.bin/uvu
[ -x "$uvu" ] || uvu="npx uvu"
for layout in ${HAKO_SYSTEMD_LAYOUTS:-v2 hybrid}; do
  # The guest must really be what it was booted for, or the tests mean nothing.
  check='
    [ "$(cat /proc/1/comm)" = systemd ] || { echo "test-systemd: PID 1 is $(cat /proc/1/comm), not systemd" >&2; exit 1; }
    t=$(stat -f -c %T /sys/fs/cgroup)
    case $0 in
      v2) [ "$t" = cgroup2fs ] || { echo "test-systemd: /sys/fs/cgroup is $t, not cgroup2" >&2; exit 1; } ;;
      hybrid) [ "$t" = tmpfs ] && [ -d /sys/fs/cgroup/unified ] || { echo "test-systemd: /sys/fs/cgroup is not a hybrid layout ($t)" >&2; exit 1; } ;;
    esac
    echo "test-systemd: guest $(uname -r), $(systemctl --version | head -n1), cgroups $0, system $(systemctl is-system-running)"
  '
  p=$pattern
  if [ -z "$p" ]; then
    case $layout in
      hybrid) p='^systemd-cgroup\.test\.js$' ;;
      *) p='^systemd.*\.test\.js$' ;;
    esac
  fi
  echo "test-systemd: in the guest with systemd as PID 1 ($layout): /$p/"
  HAKO_VM_CGROUP=$layout "$here/run.sh" --systemd --timeout "${HAKO_VM_TIMEOUT:-1200}" --timing --env HAKO_TEST_SYSTEMD=1 -- \
    sh -c "$check"'shift; exec '"$uvu"' "$@"' "$layout" x "$tests" "$p" || exit
done
