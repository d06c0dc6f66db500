// The busybox image the client tests import, built offline from
// bundles/busybox/rootfs (which `make build` makes from the host's
// busybox-static). Two archives share one layer and one config:
//
//  - an OCI image layout (oci-layout, index.json, blobs/sha256/...) for
//    `ctr image import`;
//  - a docker-archive (manifest.json, <config>.json, <layer>/layer.tar) for
//    `docker load`, the only format Docker 20.10 loads.
//
// Both formats are a handful of small JSON documents around one layer tar,
// so they are written here rather than with umoci or skopeo: no extra
// package to install, and the test shows exactly which fields the clients
// need. GNU tar (on every Debian) packs the files, with fixed owners, order
// and times so that the same rootfs always gives the same digests.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BUSYBOX_BUNDLE } from '../helpers.js';

/** What `ctr image import` and `docker load` name the image. A dotted host part: nobody would look for it in a registry. */
export const IMAGE_REF = 'hako.test/busybox:latest';

export interface Images {
  /** OCI image layout tar, for `ctr image import`. */
  oci: string;
  /** docker-archive tar, for `docker load`. */
  docker: string;
  ref: string;
}

const GOARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

// Build outputs of mk-busybox-bundle.sh that are not part of the image.
const NOT_IN_IMAGE = new Set(['.hako-rootfs']);

interface Blob {
  digest: string;
  size: number;
  hex: string;
}

function sha256(data: Buffer): Blob {
  const hex = createHash('sha256').update(data).digest('hex');
  return { digest: `sha256:${hex}`, size: data.length, hex };
}

/** Deterministic tar of `names` inside `dir`: owners 0:0, sorted, mtime 0. */
function tar(dir: string, names: string[], out: string): void {
  const r = spawnSync(
    'tar',
    [
      '--create',
      '--file',
      out,
      '--format=posix',
      '--pax-option=delete=atime,delete=ctime',
      '--numeric-owner',
      '--owner=0',
      '--group=0',
      '--sort=name',
      '--mtime=@0',
      '-C',
      dir,
      '--',
      ...names,
    ],
    { encoding: 'utf8' },
  );
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`tar ${out}: ${r.stderr.trim()}`);
}

function writeBlob(blobs: string, data: Buffer): Blob {
  const b = sha256(data);
  writeFileSync(path.join(blobs, b.hex), data);
  return b;
}

/** The image config's `config` part: what the container runs by default. */
export interface RunConfig {
  Env: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir: string;
}

/**
 * An OCI image layout tar (for `ctr image import`) of one uncompressed
 * layer, named `ref`; written under `work` (a scratch directory), the tar
 * at `out`. Returns the config blob, which a docker-archive shares.
 */
export function writeOciArchive(
  work: string,
  out: string,
  layerData: Buffer,
  ref: string,
  run: RunConfig,
  createdBy: string,
): { config: Blob; configData: Buffer; layer: Blob } {
  const ociDir = path.join(work, 'oci');
  const blobs = path.join(ociDir, 'blobs/sha256');
  mkdirSync(blobs, { recursive: true });
  const layer = writeBlob(blobs, layerData);
  const architecture = GOARCH[process.arch] ?? process.arch;
  const epoch = '1970-01-01T00:00:00Z';
  const configDoc = {
    created: epoch,
    architecture,
    os: 'linux',
    config: run,
    // The layer is not compressed: its digest is its diff id.
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
    history: [{ created: epoch, created_by: createdBy }],
  };
  const configData = Buffer.from(JSON.stringify(configDoc));
  const config = writeBlob(blobs, configData);
  const manifestData = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.size }],
    }),
  );
  const manifest = writeBlob(blobs, manifestData);
  const tag = ref.slice(ref.lastIndexOf(':') + 1);
  writeFileSync(path.join(ociDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    path.join(ociDir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: manifest.digest,
          size: manifest.size,
          platform: { architecture, os: 'linux' },
          // containerd names the image from the first (a full reference);
          // the second is the image-spec's tag, for other OCI tools.
          annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  tar(ociDir, ['blobs', 'index.json', 'oci-layout'], out);
  return { config, configData, layer };
}

/** A layer tar of `names` inside `dir`, read back. */
export function layerOf(work: string, dir: string, names: string[]): Buffer {
  const layerTar = path.join(work, 'layer.tar');
  tar(dir, names, layerTar);
  const data = readFileSync(layerTar);
  rmSync(layerTar);
  return data;
}

/** Builds both archives in `dir` (which must exist and be empty). */
export function buildImages(dir: string): Images {
  const rootfs = path.join(BUSYBOX_BUNDLE, 'rootfs');
  try {
    statSync(path.join(rootfs, 'bin/busybox'));
  } catch {
    throw new Error(`${rootfs}: no busybox rootfs (run make build)`);
  }
  const work = path.join(dir, 'work');
  mkdirSync(work);
  const layerData = layerOf(
    work,
    rootfs,
    readdirSync(rootfs).filter((n) => !NOT_IN_IMAGE.has(n)),
  );
  const oci = path.join(dir, 'busybox-oci.tar');
  const run = { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], WorkingDir: '/' };
  const { config, configData, layer } = writeOciArchive(work, oci, layerData, IMAGE_REF, run, 'hako test/clients/image.ts: bundles/busybox/rootfs');

  // docker-archive: the same config and layer under the names `docker save` uses.
  const dockerDir = path.join(work, 'docker');
  mkdirSync(path.join(dockerDir, layer.hex), { recursive: true });
  writeFileSync(path.join(dockerDir, layer.hex, 'layer.tar'), layerData);
  writeFileSync(path.join(dockerDir, `${config.hex}.json`), configData);
  writeFileSync(
    path.join(dockerDir, 'manifest.json'),
    JSON.stringify([{ Config: `${config.hex}.json`, RepoTags: [IMAGE_REF], Layers: [`${layer.hex}/layer.tar`] }]),
  );
  const docker = path.join(dir, 'busybox-docker.tar');
  tar(dockerDir, ['manifest.json', `${config.hex}.json`, layer.hex], docker);
  rmSync(work, { recursive: true, force: true });
  return { oci, docker, ref: IMAGE_REF };
}
