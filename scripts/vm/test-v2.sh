#!/bin/bash
# `make test-v2`: runs the cgroup test group as root in the pure cgroup v2
# guest (these hosts are hybrid, so v2 limits can only be observed there),
# and the LSM tests, which need AppArmor or SELinux (these hosts have
# neither): in the same guest, which boots with Debian's default AppArmor,
# then in a second one booted with SELinux and Debian's reference policy
# loaded in permissive mode.
#
# Usage: scripts/vm/test-v2.sh [PATTERN]
#   PATTERN  uvu's file pattern under out/test/integration (default: the
#            cgroup group and the LSM tests,
#            '^(cgroups|cleanup|resources|pause|update|events|lsm|rootless).*\.test\.js$',
#            or $HAKO_V2_TESTS); the SELinux guest runs when it matches
#            lsm.test.js
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
pattern=${1:-${HAKO_V2_TESTS:-'^(cgroups|cleanup|resources|pause|update|events|lsm|rootless).*\.test\.js$'}}
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
  echo "test-v2: guest $(uname -r), cgroup v2 controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control), LSMs: $(cat /sys/kernel/security/lsm)"
'
if [ -z "$matches" ]; then
  echo "test-v2: no cgroup tests yet (nothing in $tests matches /$pattern/i); checking the lane only"
  exec "$here/run.sh" --timeout "${HAKO_VM_TIMEOUT:-1200}" -- sh -c "$lane_check"
fi
lsm=false
grep -qx 'lsm.test.js' <<<"$matches" && lsm=true
if $lsm; then
  # What the LSM tests use from the host's / (the guest shares it):
  # apparmor_parser, and SELinux's reference policy with load_policy.
  need=()
  for p in apparmor selinux-policy-default policycoreutils; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
  if [ ${#need[@]} -gt 0 ]; then
    echo "test-v2: installing ${need[*]} (the LSM tests load their policies in the guest)"
    { apt-cache show "${need[@]}" >/dev/null 2>&1 || apt-get update -qq; } &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
      { echo "test-v2: FAILED: apt-get install ${need[*]}" >&2; exit 1; }
  fi
fi

echo "test-v2: in the cgroup v2 guest (AppArmor): $(echo "$matches" | tr '\n' ' ')"
# uvu from node_modules/.bin, as `npx uvu` would find it: npx itself (npm's
# startup) takes 45 s in the emulated guest, uvu's own start 2 s.
uvu=node_modules/.bin/uvu
[ -x "$uvu" ] || uvu="npx uvu"
# HAKO_TEST_LSM makes lsm.test.js fail, rather than skip, where the guest
# does not have the LSM it was booted for.
"$here/run.sh" --timeout "${HAKO_VM_TIMEOUT:-1200}" --timing --env HAKO_TEST_LSM=apparmor -- \
  sh -c "$lane_check"'exec '"$uvu"' "$0" "$1"' "$tests" "$pattern" || exit
$lsm || exit 0

# SELinux replaces AppArmor as the major LSM (the cloud kernel has both
# built in, AppArmor first). Files on the shared root have no labels
# (virtiofs keeps no xattrs here), which only a permissive policy lets pass:
# what is tested is that the process and the mounts get the labels asked for.
echo "test-v2: in the cgroup v2 guest (SELinux, permissive): lsm.test.js"
selinux_setup='
  /usr/sbin/load_policy || { echo "test-v2: load_policy failed" >&2; exit 1; }
  echo 0 >/sys/fs/selinux/enforce
  echo "test-v2: LSMs: $(cat /sys/kernel/security/lsm), SELinux policy $(cat /sys/fs/selinux/policyvers), permissive"
'
HAKO_VM_KERNEL_ARGS="${HAKO_VM_KERNEL_ARGS:+$HAKO_VM_KERNEL_ARGS }lsm=lockdown,capability,landlock,yama,selinux,bpf" \
  exec "$here/run.sh" --timeout "${HAKO_VM_TIMEOUT:-1200}" --timing --env HAKO_TEST_LSM=selinux -- \
  sh -c "$selinux_setup"'exec '"$uvu"' "$0" "$1"' "$tests" '^lsm\.test\.js$'
