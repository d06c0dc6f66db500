#!/bin/sh
# Makes an OCI image archive (an image layout in a tar: what `ctr image
# import` reads) of one root filesystem, offline: one uncompressed layer, a
# config and a manifest, named NAME. docs/containerd.md uses it on
# bundles/busybox/rootfs where no registry can be reached:
#
#   scripts/mk-oci-archive.sh bundles/busybox/rootfs docker.io/library/busybox:latest busybox-oci.tar
#
# The same rootfs always gives the same digests (fixed owners, order and
# times), as test/clients/image.ts does for the client suites.
set -eu
usage="usage: mk-oci-archive.sh ROOTFS NAME:TAG OUT.tar"
[ $# -eq 3 ] || { echo "$usage" >&2; exit 2; }
rootfs=$1 name=$2 out=$3
[ -d "$rootfs" ] || { echo "mk-oci-archive: $rootfs: not a directory" >&2; exit 1; }
case $name in *:*) tag=${name##*:} ;; *) echo "mk-oci-archive: $name: give the tag too (NAME:TAG)" >&2; exit 1 ;; esac
# OCI names architectures as Go does.
case $(uname -m) in
  x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; armv7l | armv6l) arch=arm ;; ppc64le) arch=ppc64le ;;
  s390x) arch=s390x ;; riscv64) arch=riscv64 ;; i?86) arch=386 ;; *) arch=$(uname -m) ;;
esac
out=$(realpath -m "$out")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/blobs/sha256"

# blob FILE: moves FILE into the layout under its digest; prints "DIGEST SIZE".
blob() {
  d=$(sha256sum "$1" | cut -d' ' -f1)
  s=$(stat -c %s "$1")
  mv "$1" "$work/blobs/sha256/$d"
  echo "sha256:$d $s"
}

# .hako-rootfs is mk-busybox-bundle.sh's build stamp, not part of the image.
tar --create --file "$work/layer" --format=posix --pax-option=delete=atime,delete=ctime \
  --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 --exclude=./.hako-rootfs -C "$rootfs" .
set -- $(blob "$work/layer"); layer=$1 layer_size=$2

epoch=1970-01-01T00:00:00Z
# The layer is not compressed: its digest is its diff id.
printf '{"created":"%s","architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
  "$epoch" "$arch" "$layer" >"$work/config"
set -- $(blob "$work/config"); config=$1 config_size=$2

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" >"$work/manifest"
set -- $(blob "$work/manifest"); manifest=$1 manifest_size=$2

# containerd names the image from io.containerd.image.name (a full
# reference); org.opencontainers.image.ref.name is the tag other tools read.
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest" "$manifest_size" "$arch" "$name" "$tag" >"$work/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$work/oci-layout"
tar --create --file "$out" --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$work" blobs index.json oci-layout
