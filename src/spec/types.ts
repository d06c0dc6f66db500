// The OCI types hako uses, generated from schemas/ (one source of truth).
// Type-only, so importing them loads nothing at run time.
export type * from './generated/config.js';
export type { State, ContainerStatus } from './generated/state.js';
export type {
  Features,
  LinuxFeatures,
  CgroupFeatures,
  SeccompFeatures,
  IntelRdtFeatures,
  MountExtensionsFeatures,
  MemoryPolicyFeatures,
} from './generated/features.js';
export type { LoadedSpec } from './load.js';
