/**
 * Where a stack keeps its state, and how another stack reads it: the S3 backend on Cloud VPS object storage (as
 * Cloud VPS projects do), or local files. S3 credentials never appear here: backend blocks cannot take
 * variables, so Terraform/OpenTofu reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment.
 */
import {
  DataTerraformRemoteStateLocal,
  DataTerraformRemoteStateS3,
  LocalBackend,
  S3Backend,
  type S3BackendConfig,
  type TerraformRemoteState,
  type TerraformStack,
} from 'cdktf';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from './config.js';

export type StateConfig = EnvironmentConfig['state'];

/**
 * The backend block also takes `use_lockfile` (Terraform ≥ 1.10, OpenTofu ≥ 1.10: a `<key>.tflock` object created
 * with If-None-Match, so a second deploy of the same stack fails to lock instead of writing over the first).
 * cdktf 0.21's S3BackendConfig lacks the field but renders every prop snake-cased, so it is passed through.
 * An object store that ignores If-None-Match lets both writers "win" the lock: locking is then only advisory.
 */
type LockingS3Config = S3BackendConfig & { readonly useLockfile: boolean };

function lockingConfig(config: S3BackendConfig): S3BackendConfig {
  const locking: LockingS3Config = { ...config, useLockfile: true };
  return locking;
}

function s3Config(stackName: string, state: Extract<StateConfig, { kind: 's3' }>): S3BackendConfig {
  return {
    bucket: state.bucket,
    key: `${state.keyPrefix}/${stackName}.tfstate`,
    region: state.region,
    endpoints: { s3: state.endpoint },
    usePathStyle: true,
    // Ceph RGW is not AWS: no region list, no STS/IAM, no EC2 metadata, no new-style checksums.
    skipRegionValidation: true,
    skipCredentialsValidation: true,
    skipRequestingAccountId: true,
    skipMetadataApiCheck: true,
    skipS3Checksum: true,
  };
}

/** Relative to the synthesized stack directory (<outdir>/stacks/<stack>), so state survives a fresh cdktf.out/. */
const localPath = (stackName: string) => `../../../terraform.${stackName}.tfstate`;

export function configureBackend(
  stack: TerraformStack,
  stackName: string,
  state: StateConfig,
): LocalBackend | S3Backend {
  return state.kind === 'local'
    ? new LocalBackend(stack, { path: localPath(stackName) })
    : new S3Backend(stack, lockingConfig(s3Config(stackName, state)));
}

/** Reads the outputs of `stackName` (kept with the same backend settings). */
export function remoteState(scope: Construct, id: string, stackName: string, state: StateConfig): TerraformRemoteState {
  return state.kind === 'local'
    ? new DataTerraformRemoteStateLocal(scope, id, { path: localPath(stackName) })
    : new DataTerraformRemoteStateS3(scope, id, s3Config(stackName, state));
}

const OUTPUT_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * `${data.terraform_remote_state.<id>.outputs.<output>["<key>"]}` as a plain string: the same JSON as
 * `state.getString(...)`, without a token per read (each captures a full stack trace and is resolved again on every
 * synth pass, per extra JVB host: docs/decisions/plain-docker-resources.md). Same stack only: cdktf does not see it.
 */
export function remoteStateOutput(state: TerraformRemoteState, output: string, key?: string): string {
  if (!OUTPUT_NAME.test(output)) throw new Error(`remote state output name "${output}" is not a Terraform identifier`);
  const index = key === undefined ? '' : `[${JSON.stringify(key)}]`;
  return `\${data.terraform_remote_state.${state.friendlyUniqueId}.outputs.${output}${index}}`;
}
