/**
 * Where a stack keeps its state: the S3 backend on Cloud VPS object storage (as Cloud VPS projects do), or local
 * files. S3 credentials never appear here: backend blocks cannot take variables, so Terraform/OpenTofu reads
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment at deploy time.
 */
import { LocalBackend, S3Backend, type TerraformStack } from 'cdktf';
import type { EnvironmentConfig } from './config.js';

export type StateConfig = EnvironmentConfig['state'];

export function configureBackend(stack: TerraformStack, stackName: string, state: StateConfig): LocalBackend | S3Backend {
  if (state.kind === 'local') {
    // Relative to the synthesized stack directory, so the state survives a fresh `cdktf.out/`.
    return new LocalBackend(stack, { path: `../../../terraform.${stackName}.tfstate` });
  }
  return new S3Backend(stack, {
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
  });
}
