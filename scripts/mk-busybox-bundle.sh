#!/bin/sh
# Builds bundles/busybox/rootfs from the host's busybox-static: the rootfs
# is a build output (not committed); config.json next to it is.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bundle=${1:-$here/bundles/busybox}
bb=${BUSYBOX:-/bin/busybox}
[ -x "$bb" ] || { echo "mk-busybox-bundle: $bb not found (apt-get install busybox-static)" >&2; exit 1; }
# The container has no libraries: a dynamic busybox would not run in it.
if ldd "$bb" >/dev/null 2>&1; then
  echo "mk-busybox-bundle: $bb is dynamically linked (apt-get install busybox-static)" >&2; exit 1
fi
rootfs=$bundle/rootfs
stamp=$rootfs/.hako-rootfs
if [ -f "$stamp" ] && [ "$stamp" -nt "$bb" ] && [ "$stamp" -nt "$0" ]; then exit 0; fi
rm -rf "$rootfs"
mkdir -p "$rootfs"
cd "$rootfs"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root home run var/tmp
chmod 1777 tmp var/tmp
cp "$bb" bin/busybox
for app in $(bin/busybox --list-full); do
  [ "$app" = bin/busybox ] && continue
  mkdir -p "$(dirname "$app")"
  ln -sf /bin/busybox "$app"
done
cat > etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > etc/group <<'G'
root:x:0:
daemon:x:1:
wheel:x:10:root
nogroup:x:65534:
G
echo hako > etc/hostname
: > etc/hosts
touch "$stamp"
