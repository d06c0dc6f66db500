#!/bin/bash
# `make test-v2`: runs the cgroup test group as root in the pure cgroup v2
# guest (these hosts are hybrid, so v2 limits can only be observed there).
#
# Usage: scripts/vm/test-v2.sh [PATTERN]
#   PATTERN  uvu's file pattern under out/test/integration (default: the
#            cgroup group, '^(cgroups|resources|pause|update|events).*\.test\.js$',
#            or $HAKO_V2_TESTS)
# Environment:
#   HAKO_VM=optional    when the lane cannot run on this machine (not root,
#                       qemu or virtiofsd not installable, no kernel package),
#                       say why and succeed instead of failing
#   HAKO_VM_TIMEOUT     seconds for the whole guest run (default 1200)
# Expects `make build` to have run (the Makefile target depends on it).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)
cd "$top" || exit 1
pattern=${1:-${HAKO_V2_TESTS:-'^(cgroups|resources|pause|update|events).*\.test\.js$'}}
tests=out/test/integration

"$here/build.sh"
rc=$?
if [ $rc = 3 ]; then
  if [ "${HAKO_VM:-}" = optional ]; then
    echo "test-v2: SKIPPED: the cgroup v2 VM lane cannot run on this machine (reason above; HAKO_VM=optional)"
    exit 0
  fi
  echo "test-v2: FAILED: the cgroup v2 VM lane cannot run on this machine (reason above); HAKO_VM=optional skips it" >&2
  exit 1
fi
[ $rc = 0 ] || exit $rc

# The files uvu would pick, found with uvu's own matcher (a case-insensitive
# RegExp on the path relative to $tests).
[ -d "$tests" ] || { echo "test-v2: no $tests (run make build)" >&2; exit 1; }
matches=$(node -e '
  require("uvu/parse").parse(process.argv[1], process.argv[2])
    .then(r => console.log(r.suites.map(s => s.name).join("\n")))
' "$tests" "$pattern") || exit 1

# Whether or not there are tests, the guest's cgroup setup is checked first:
# a lane that boots into the wrong hierarchy would make every test mean
# nothing.
lane_check='
  t=$(stat -f -c %T /sys/fs/cgroup)
  [ "$t" = cgroup2fs ] || { echo "test-v2: /sys/fs/cgroup is $t, not cgroup2" >&2; exit 1; }
  echo "test-v2: guest $(uname -r), cgroup v2 controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
'
if [ -z "$matches" ]; then
  echo "test-v2: no cgroup tests yet (nothing in $tests matches /$pattern/i); checking the lane only"
  exec "$here/run.sh" --timeout "${HAKO_VM_TIMEOUT:-1200}" -- sh -c "$lane_check"
fi
echo "test-v2: in the cgroup v2 guest: $(echo "$matches" | tr '\n' ' ')"
# uvu from node_modules/.bin, as `npx uvu` would find it: npx itself (npm's
# startup) takes 45 s in the emulated guest, uvu's own start 2 s.
uvu=node_modules/.bin/uvu
[ -x "$uvu" ] || uvu="npx uvu"
exec "$here/run.sh" --timeout "${HAKO_VM_TIMEOUT:-1200}" --timing -- \
  sh -c "$lane_check"'exec '"$uvu"' "$0" "$1"' "$tests" "$pattern"
