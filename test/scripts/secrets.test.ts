import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { openSeal, seal, sealingPublicKeyOf } from '../../edge/shared/sealing.js';
import { parseSigningSecrets } from '../../edge/shared/signing.js';
import { parseBackupKey } from '../../scripts/lib/backup/key.js';
import { createSecretsFile, generateSecrets } from '../../scripts/lib/secrets-file.js';
import { runScript } from '../support/run-script.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});
async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), 'meet-secrets-'));
  dirs.push(dir);
  return dir;
}

/** Parses the file the way `set -a; . file` does, through a real shell. */
async function sourced(file: string): Promise<Record<string, string>> {
  const { stdout } = await promisify(execFile)('sh', ['-c', 'set -a; . "$1"; env -0', 'sh', file], { env: {} });
  return Object.fromEntries(
    stdout
      .split('\0')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('generateSecrets', () => {
  it('makes values the stacks and services accept, different every time', () => {
    const one = generateSecrets();
    const two = generateSecrets();
    expect(one.jicofo_auth_password).toMatch(/^[0-9a-f]{48}$/);
    expect(one.jvb_auth_password).toMatch(/^[0-9a-f]{48}$/);
    expect(parseSigningSecrets(one.agent_signing_secrets)).toHaveLength(1);
    expect(sealingPublicKeyOf(one.agent_sealing_private_keys)).toBe(one.agent_sealing_public_key);
    expect(openSeal([one.agent_sealing_private_keys], seal(one.agent_sealing_public_key, 'pw', 'c'), 'c')).toBe('pw');
    expect(two.jicofo_auth_password).not.toBe(one.jicofo_auth_password);
    expect(two.agent_signing_secrets).not.toBe(one.agent_signing_secrets);
  });
});

describe('createSecretsFile', () => {
  it('writes a mode-0600 file that a shell sources into the TF_VAR_* variables', async () => {
    const file = join(await tempDir(), 'production.env');
    await createSecretsFile(file, 'production', 'alice');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const env = await sourced(file);
    expect(env.TF_VAR_jicofo_auth_password).toMatch(/^[0-9a-f]{48}$/);
    expect(env.TF_VAR_jvb_auth_password).toMatch(/^[0-9a-f]{48}$/);
    expect(env.TF_VAR_agent_signing_secrets).toMatch(/^whsec_/);
    expect(env.TF_VAR_metrics_token).toMatch(/^[0-9a-f]{64}$/);
    expect(sealingPublicKeyOf(env.TF_VAR_agent_sealing_private_keys!)).toBe(env.TF_VAR_agent_sealing_public_key);
    expect(env.TF_VAR_ssh_user).toBe('alice');
    // The backup key, as the stacks' variable and the backup CLI accept it; the backup bucket's credential is the operator's.
    expect(parseBackupKey(env.TF_VAR_backup_key!, 'TF_VAR_backup_key')).toHaveLength(32);
    expect(env.TF_VAR_backup_key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await readFile(file, 'utf8')).toContain(
      '# TF_VAR_backup_s3_access_key_id=\n# TF_VAR_backup_s3_secret_access_key=\n',
    );
    expect(env).not.toHaveProperty('TF_VAR_ssh_public_key');
    // Terraform users uncomment these (OpenTofu needs neither).
    expect(await readFile(file, 'utf8')).toContain(
      '# AWS_REQUEST_CHECKSUM_CALCULATION=when_required\n# AWS_RESPONSE_CHECKSUM_VALIDATION=when_required\n',
    );
    expect(env).not.toHaveProperty('AWS_ACCESS_KEY_ID');
  });

  it('never overwrites an existing file', async () => {
    const file = join(await tempDir(), 'production.env');
    await writeFile(file, 'keep me\n');
    await expect(createSecretsFile(file, 'production')).rejects.toThrow(
      `${file} already exists; secrets are never overwritten (rotate them instead)`,
    );
    expect(await readFile(file, 'utf8')).toBe('keep me\n');
  });

  it('refuses a bad environment name and writes nothing', async () => {
    const file = join(await tempDir(), 'x.env');
    await expect(createSecretsFile(file, 'Prod uction')).rejects.toThrow(
      'environment "Prod uction" must be lower-case letters, digits and dashes',
    );
    await expect(stat(file)).rejects.toThrow();
  });
});

describe('npm run secrets', () => {
  const run = (args: string[]) => runScript('scripts/secrets.mts', args);

  it('init writes the file and prints no secret', async () => {
    const file = join(await tempDir(), 'staging.env');
    const result = await run(['init', 'staging', file]);
    expect(result.code).toBe(0);
    const env = await sourced(file);
    for (const value of Object.values(env).filter((value) => value.length > 20)) {
      expect(result.stdout + result.stderr).not.toContain(value);
    }
    expect(result.stderr).toContain(`wrote ${file} (mode 0600) for "staging"`);
  });

  it('--help exits 0; bad usage exits 2 with the reason', async () => {
    expect((await run(['--help'])).stdout).toContain('usage: npm run secrets -- init <environment> <file>');
    const bad = await run(['init', 'staging']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('init needs an environment name and a file path');
    const user = await run(['init', 'staging', join(await tempDir(), 'f'), '--ssh-user', 'Not A User']);
    expect(user.code).toBe(2);
    expect(user.stderr).toContain('--ssh-user "Not A User" is not a shell name');
  });
});
