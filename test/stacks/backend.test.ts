import { TerraformOutput, Testing, TerraformStack } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { configureBackend, remoteState, remoteStateOutput, type StateConfig } from '../../stacks/backend.js';
import { synthJson } from './helpers.js';

const backendOf = (state: StateConfig) => {
  const stack = new TerraformStack(Testing.app(), 'prod-cloud');
  configureBackend(stack, 'prod-cloud', state);
  return synthJson(stack).terraform!.backend as Record<string, Record<string, unknown>>;
};

describe('configureBackend', () => {
  it('S3 on Cloud VPS object storage: path style, no AWS-only checks, and no credentials in the block', () => {
    const backend = backendOf({
      kind: 's3',
      bucket: 'meet:tofu-state',
      endpoint: 'https://object.eqiad1.wikimediacloud.org',
      region: 'eqiad1',
      keyPrefix: 'meet',
    });
    expect(backend).toEqual({
      s3: {
        bucket: 'meet:tofu-state',
        key: 'meet/prod-cloud.tfstate',
        region: 'eqiad1',
        endpoints: { s3: 'https://object.eqiad1.wikimediacloud.org' },
        use_path_style: true,
        skip_region_validation: true,
        skip_credentials_validation: true,
        skip_requesting_account_id: true,
        skip_metadata_api_check: true,
        skip_s3_checksum: true,
        // State locking: a <key>.tflock object created with If-None-Match (cdktf 0.21 has no prop for it).
        use_lockfile: true,
      },
    });
    expect(JSON.stringify(backend)).not.toMatch(/access_key|secret_key|token/);
  });

  it('local state for an environment without S3, beside the repository root', () => {
    expect(backendOf({ kind: 'local' })).toEqual({ local: { path: '../../../terraform.prod-cloud.tfstate' } });
  });
});

describe('remoteStateOutput', () => {
  it("renders what the remote state's getString renders, as a plain string (no token), with or without a key", () => {
    const stack = new TerraformStack(Testing.app(), 'prod-services');
    const state = remoteState(stack, 'cloud', 'prod-cloud', { kind: 'local' });
    const plain = [remoteStateOutput(state, 'jvb_private_ips', 'jvb-1'), remoteStateOutput(state, 'jitsi_private_ip')];
    const tokens = [state.getString('jvb_private_ips["jvb-1"]'), state.getString('jitsi_private_ip')];
    plain.forEach((value, index) => {
      new TerraformOutput(stack, `plain-${index}`, { value });
      new TerraformOutput(stack, `token-${index}`, { value: tokens[index] });
    });
    const outputs = synthJson(stack).output!;
    expect(plain[0]).toBe('${data.terraform_remote_state.cloud.outputs.jvb_private_ips["jvb-1"]}');
    expect(outputs['plain-0']!.value).toBe(outputs['token-0']!.value);
    expect(outputs['plain-1']!.value).toBe(outputs['token-1']!.value);
  });

  it('refuses an output name that is not a Terraform identifier', () => {
    const stack = new TerraformStack(Testing.app(), 'prod-services');
    const state = remoteState(stack, 'cloud', 'prod-cloud', { kind: 'local' });
    expect(() => remoteStateOutput(state, 'jvb_ips}["x"]')).toThrow(
      'remote state output name "jvb_ips}["x"]" is not a Terraform identifier',
    );
  });
});
