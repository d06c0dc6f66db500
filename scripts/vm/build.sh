#!/bin/bash
# Builds what the cgroup v2 guest needs (see scripts/vm/README.md), cached
# under .tmp/vm/ of the checkout:
#   - qemu-system-x86 (installed --no-install-recommends if missing; it ships
#     the C virtiofsd at /usr/lib/qemu/virtiofsd)
#   - Debian's cloud kernel, downloaded with `apt-get download` and unpacked
#     with `dpkg -x` (never installed: the host keeps its own kernel)
#   - an initramfs: static busybox, the virtio/virtiofs/overlay modules and
#     scripts/vm/init as /init
#   - .tmp/vm/lane.env, which run.sh sources to find them
#
# Usage: scripts/vm/build.sh [--quiet] [--refresh]
#   --refresh  ask apt again for the current cloud kernel (otherwise the
#              cached one is kept until this script or its inputs change)
# Exit status: 0 built (or already up to date), 3 the lane cannot run on this
# machine (the reason is printed: not root, not x86_64, qemu not installable,
# kernel not downloadable), 1 anything else (a bug: look at it).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)
cache=$top/.tmp/vm
quiet=0 refresh=0
for a in "$@"; do
  case $a in
    --quiet) quiet=1 ;;
    --refresh) refresh=1 ;;
    *) echo "usage: $0 [--quiet] [--refresh]" >&2; exit 2 ;;
  esac
done

say() { [ "$quiet" = 1 ] || echo "vm-build: $*" >&2; }
die() { echo "vm-build: $*" >&2; exit 1; }
unavailable() { echo "vm-build: the VM lane cannot run here: $*" >&2; exit 3; }

# The modules the guest's /init loads, in this order (from VMLANE.md): the
# virtio transport and console (the output ports), fuse+virtiofs (the host
# root and the checkout), overlay (a writable tmpfs layer over the read-only
# host root). Their dependencies from modules.dep are added before each.
MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_console fuse virtiofs overlay"
# Overridable to try other builds (and to check the "cannot run here" path).
QEMU=${HAKO_VM_QEMU_BIN:-/usr/bin/qemu-system-x86_64}
VIRTIOFSD=${HAKO_VM_VIRTIOFSD_BIN:-/usr/lib/qemu/virtiofsd}
BUSYBOX=/bin/busybox

[ "$(uname -m)" = x86_64 ] || unavailable "the guest is x86_64 (this host is $(uname -m))"
[ "$(id -u)" = 0 ] || unavailable "virtiofsd and apt need root"

# The stamp records everything the outputs depend on; when it matches, the
# build is done (this is the fast path every run.sh takes).
inputs_key() {
  cat "$here/build.sh" "$here/init" | sha256sum | cut -c1-16
}
stamp=$cache/stamp
key="inputs=$(inputs_key)"
up_to_date() {
  [ "$refresh" = 0 ] && [ -f "$stamp" ] && [ -f "$cache/lane.env" ] \
    && [ -x "$QEMU" ] && [ -x "$VIRTIOFSD" ] && [ -x "$BUSYBOX" ] \
    && [ "$(head -n1 "$stamp")" = "$key" ] && [ "$stamp" -nt "$BUSYBOX" ] \
    && grep -qxF "HAKO_VM_QEMU='$QEMU'" "$cache/lane.env" \
    && grep -qxF "HAKO_VM_VIRTIOFSD='$VIRTIOFSD'" "$cache/lane.env" \
    && (. "$cache/lane.env" && [ -f "$HAKO_VM_KERNEL" ] && [ -f "$HAKO_VM_INITRD" ])
}
up_to_date && exit 0

# One build at a time (two run.sh started together on a cold cache); the
# second finds the first one's result.
mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9
up_to_date && exit 0

command -v apt-get >/dev/null || unavailable "no apt-get (the lane uses Debian's packages)"

# apt-get install only what is missing; update the lists first only when apt
# does not know the package (a fresh machine may have empty lists).
apt_install() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} = 0 ] && return 0
  say "installing ${missing[*]}"
  if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq || unavailable "apt-get update failed"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || unavailable "apt-get install ${missing[*]} failed"
}
apt_install qemu-system-x86 busybox-static
[ -x "$QEMU" ] || unavailable "$QEMU missing after installing qemu-system-x86"
[ -x "$VIRTIOFSD" ] || unavailable "$VIRTIOFSD missing (qemu-system-x86 7.2 ships it; newer ones need the virtiofsd package)"
# The guest is emulated (TCG): /dev/kvm is not needed, but qemu must run.
"$QEMU" -accel help 2>/dev/null | grep -qx tcg || unavailable "$QEMU does not run or has no TCG"
if ldd "$BUSYBOX" >/dev/null 2>&1; then die "$BUSYBOX is dynamically linked (busybox-static replaces it)"; fi

mkdir -p "$cache/debs"

# --- the kernel ------------------------------------------------------------
# linux-image-cloud-amd64 is a metapackage; its dependency names the current
# kernel package. Keep the cached one unless asked (or it is missing).
kpkg=""
if [ "$refresh" = 0 ] && [ -f "$cache/lane.env" ]; then
  kpkg=$(sed -n "s/^HAKO_VM_KPKG='\(.*\)'$/\1/p" "$cache/lane.env")
  [ -d "$cache/$kpkg" ] || kpkg=""
fi
if [ -z "$kpkg" ]; then
  find_kpkg() { apt-cache depends linux-image-cloud-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | head -n1; }
  kpkg=$(find_kpkg)
  if [ -z "$kpkg" ]; then apt-get update -qq || unavailable "apt-get update failed"; kpkg=$(find_kpkg); fi
  [ -n "$kpkg" ] || unavailable "apt does not know linux-image-cloud-amd64"
fi
kroot=$cache/$kpkg
if [ ! -f "$kroot/.unpacked" ]; then
  say "downloading $kpkg"
  rm -f "$cache/debs/${kpkg}"_*.deb
  # Run as root, apt-get download warns that _apt cannot write here: that is
  # harmless (it downloads unsandboxed), so only real errors are shown.
  (cd "$cache/debs" && apt-get download -q "$kpkg" 2>&1 | grep -v -e 'unsandboxed' -e '^Get:' -e '^Fetched' >&2 || true)
  deb=$(ls "$cache/debs/${kpkg}"_*.deb 2>/dev/null | head -n1)
  [ -n "$deb" ] || unavailable "apt-get download $kpkg failed"
  rm -rf "$kroot"
  dpkg -x "$deb" "$kroot"
  # modules.dep is made by depmod when the package is installed, so it is
  # not in the .deb: busybox's depmod writes it (kmod may not be installed).
  kv=$(ls "$kroot/lib/modules" | head -n1)
  "$BUSYBOX" depmod -b "$kroot" "$kv" || die "depmod $kv failed"
  touch "$kroot/.unpacked"
  rm -f "$deb" # the unpacked tree is what is used
  # Older kernels (before a --refresh) are of no further use.
  for d in "$cache"/linux-image-*; do [ "$d" = "$kroot" ] || rm -rf "$d"; done
fi
kver=$(ls "$kroot/lib/modules" | head -n1)
kernel=$kroot/boot/vmlinuz-$kver
[ -f "$kernel" ] || die "$kernel missing in the unpacked $kpkg"
moddir=$kroot/lib/modules/$kver

# --- the initramfs -----------------------------------------------------------
say "building the initramfs for $kver"
stage=$cache/initramfs.d
rm -rf "$stage"
mkdir -p "$stage"/{bin,dev,proc,sys,lib/modules,lower,upper,newroot}
cp "$BUSYBOX" "$stage/bin/busybox"
cp "$here/init" "$stage/init"
chmod 755 "$stage/init"
# Applet links made here rather than by /init: every step of the boot is
# emulated, so work done on the host is work the guest skips.
for app in $("$BUSYBOX" --list); do [ "$app" = busybox ] || ln -s busybox "$stage/bin/$app"; done
# The kernel opens /dev/console for init's stdio before /init can mount
# devtmpfs: without this node init has no stdout/stderr at all.
mknod -m 600 "$stage/dev/console" c 5 1

# modules.dep lines read "kernel/x/a.ko: kernel/y/b.ko kernel/z/c.ko" (all
# of a's dependencies, direct or not). Each dependency is itself added after
# its own dependencies, so the load order is right whatever order the line
# lists them in. Modules built into this kernel (modules.builtin) need no
# loading.
declare -A seen=()
order=()
mod_path() { # NAME -> path relative to $moddir, or nothing
  local n=${1//-/_}
  awk -F: -v n="$n" '{ p=$1; b=p; sub(/.*\//, "", b); sub(/\.ko(\.[a-z]+)?$/, "", b); gsub(/-/, "_", b); if (b == n) { print p; exit } }' "$moddir/modules.dep"
}
add_module() { # PATH (relative to $moddir)
  local p=$1 deps i
  [ -n "${seen[$p]:-}" ] && return 0
  deps=$(awk -F': *' -v p="$p" '$1 == p { print $2; exit }' "$moddir/modules.dep")
  # shellcheck disable=SC2206
  local arr=($deps)
  for ((i = ${#arr[@]} - 1; i >= 0; i--)); do add_module "${arr[i]}"; done
  seen[$p]=1
  order+=("$p")
}
for m in $MODULES; do
  p=$(mod_path "$m")
  if [ -z "$p" ]; then
    if grep -qE "/${m//_/[-_]}\.ko$" "$moddir/modules.builtin" 2>/dev/null; then
      say "$m is built into $kver"
      continue
    fi
    die "module $m is neither in $moddir/modules.dep nor built in"
  fi
  add_module "$p"
done
: > "$stage/lib/modules/load"
for p in "${order[@]}"; do
  b=$(basename "$p")
  # busybox insmod reads the file as is: store the modules uncompressed.
  case $b in
    *.ko.xz) xz -dc "$moddir/$p" > "$stage/lib/modules/${b%.xz}"; b=${b%.xz} ;;
    *.ko.zst) zstd -qdc "$moddir/$p" > "$stage/lib/modules/${b%.zst}"; b=${b%.zst} ;;
    *.ko.gz) gzip -dc "$moddir/$p" > "$stage/lib/modules/${b%.gz}"; b=${b%.gz} ;;
    *) cp "$moddir/$p" "$stage/lib/modules/$b" ;;
  esac
  echo "$b" >> "$stage/lib/modules/load"
done
say "modules: $(tr '\n' ' ' < "$stage/lib/modules/load")"

initrd=$cache/initramfs.cpio.gz
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) | gzip -6 > "$initrd.new"
mv "$initrd.new" "$initrd"
rm -rf "$stage"

# What run.sh needs, as shell assignments (replaced whole: a run.sh may be
# reading it; the stamp comes last).
cat > "$cache/lane.env.new" <<EOF
HAKO_VM_KPKG='$kpkg'
HAKO_VM_KVER='$kver'
HAKO_VM_KERNEL='$kernel'
HAKO_VM_INITRD='$initrd'
HAKO_VM_QEMU='$QEMU'
HAKO_VM_VIRTIOFSD='$VIRTIOFSD'
HAKO_VM_BUSYBOX='$BUSYBOX'
EOF
mv "$cache/lane.env.new" "$cache/lane.env"
printf '%s\nkernel=%s\n' "$key" "$kpkg" > "$stamp"
say "ready: $kpkg, initramfs $(du -k "$initrd" | cut -f1) KiB"
