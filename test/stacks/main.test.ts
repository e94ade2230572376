import { execFile } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../stacks/tooling/bindings.js';
import { readStacks, readTree, tempDirs } from './app-helpers.js';

const temp = tempDirs('meet-app-');
afterAll(temp.removeAll);

describe('npm run synth (stacks/main.ts)', () => {
  it('works offline without credentials or terraform, and no secret set through the variables reaches cdktf.out/', async () => {
    const outdir = temp.make();
    // A terraform first on PATH that records any call: synth must make none (cdktf's DataResource would).
    const bin = temp.make();
    const calls = join(bin, 'calls.log');
    writeFileSync(join(bin, 'terraform'), `#!/bin/sh\necho "$@" >> ${calls}\nexit 1\n`);
    chmodSync(join(bin, 'terraform'), 0o755);
    const canary = 'CANARY-7f3a9c1e-secret-value';
    const env: NodeJS.ProcessEnv = {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: process.env.HOME,
      CHECKPOINT_DISABLE: '1',
      CDKTF_OUTDIR: outdir,
      TF_VAR_jicofo_auth_password: `${canary}-jicofo`,
      TF_VAR_jvb_auth_password: `${canary}-jvb`,
      TF_VAR_agent_signing_secrets: `whsec_${canary}`,
      TF_VAR_agent_sealing_private_keys: `${canary}-sealing`,
      TF_VAR_metrics_token: `${canary}-metrics-0123456789abcdef`,
      TF_VAR_backup_key: `${canary}-backup-key`,
      TF_VAR_backup_s3_access_key_id: `${canary}-backup-id`,
      TF_VAR_backup_s3_secret_access_key: `${canary}-backup-secret`,
      AWS_SECRET_ACCESS_KEY: `${canary}-aws`,
      OS_APPLICATION_CREDENTIAL_SECRET: `${canary}-os`,
    };
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'stacks/main.ts'], { cwd: REPO_ROOT, env });
    const stacks = readStacks(outdir);
    expect(Object.keys(stacks).sort()).toEqual([
      'production-cloud',
      'production-services',
      'staging-cloud',
      'staging-services',
    ]);
    expect(existsSync(calls)).toBe(false);
    const tree = readTree(outdir);
    expect(tree.size).toBeGreaterThan(4);
    for (const [path, bytes] of tree) expect(bytes.includes(Buffer.from('CANARY')), path).toBe(false);
    const secretVariables = Object.entries(stacks['production-services']!.variable ?? {})
      .filter(([, variable]) => variable.sensitive)
      .map(([name]) => name);
    expect(secretVariables.sort()).toEqual([
      'agent_sealing_private_keys',
      'agent_signing_secrets',
      'backup_key',
      'backup_s3_access_key_id',
      'backup_s3_secret_access_key',
      'jicofo_auth_password',
      'jvb_auth_password',
      'metrics_token',
    ]);
    // Staging has no `backup`: no backup secrets to give.
    expect(Object.keys(stacks['staging-services']!.variable ?? {}).filter((name) => name.startsWith('backup'))).toEqual(
      [],
    );
  });

  it('MEET_ENVIRONMENTS limits the environments and rejects unknown names', async () => {
    const outdir = temp.make();
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, CHECKPOINT_DISABLE: '1', CDKTF_OUTDIR: outdir };
    // The two runs at once: the refused one must leave the other's output alone.
    const [, failure] = await Promise.all([
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'stacks/main.ts'], {
        cwd: REPO_ROOT,
        env: { ...env, MEET_ENVIRONMENTS: 'staging' },
      }),
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'stacks/main.ts'], {
        cwd: REPO_ROOT,
        env: { ...env, MEET_ENVIRONMENTS: 'nope' },
      }).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      ),
    ]);
    expect(Object.keys(readStacks(outdir)).sort()).toEqual(['staging-cloud', 'staging-services']);
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain(
      'MEET_ENVIRONMENTS names unknown environment(s) nope; known: production, staging',
    );
  });
});
