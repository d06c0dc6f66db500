#!/bin/bash
# `make test`'s lanes, in order, stopping at the first that fails, then the
# closing line that counts the tests of all of them (test/summary.ts). The
# output goes to a log that is shown as it grows: a process a test left
# behind holding our stdout cannot hold up the end of the run, as it could
# with a pipe into tee.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp /tmp/hako-test-log.XXXXXX)
trap 'rm -f "$log"' EXIT
(
  make --no-print-directory test-unit test-integration test-security test-clients &&
    HAKO_VM=optional ./scripts/vm/test-v2.sh &&
    HAKO_VM=optional ./scripts/vm/test-systemd.sh &&
    HAKO_VM=optional ./scripts/vm/test-criu.sh
) >"$log" 2>&1 </dev/null &
lanes=$!
tail -n +1 -F --pid="$lanes" "$log" 2>/dev/null
wait "$lanes"
rc=$?
node out/test/summary.js "$log"
exit "$rc"
