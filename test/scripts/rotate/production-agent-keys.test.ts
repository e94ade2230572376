/**
 * `npm run rotate -- agent-signing | agent-sealing --secrets-file FILE --env NAME`: the steps on the operator's
 * secrets file, pausing for each deploy (resumed by running the same command again), in the order that keeps
 * every request working; the file always valid, 0600, its previous version kept.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sealingPublicKeyOf } from '../../../edge/shared/sealing.js';
import { runRotateCli } from '../../../scripts/lib/rotate/cli.js';
import { readSecretVariable } from '../../../scripts/lib/rotate/secrets-file-edit.js';
import { createSecretsFile } from '../../../scripts/lib/secrets-file.js';
import { capture, hashTree } from '../../support/admin-cli.js';

let dir: string;
let file: string;
const env = () => ({ MEET_DATA_DIR: join(dir, 'data'), MEET_ADMIN: 'ops-test' });
const rotate = (args: string[]) =>
  capture((io) => runRotateCli([...args, '--secrets-file', file, '--env', 'staging'], io), env());
const variable = async (name: string) => readSecretVariable(await readFile(file, 'utf8'), name)!;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meet-prod-rotate-'));
  file = join(dir, 'staging.env');
  await createSecretsFile(file, 'staging');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('agent-signing in production', () => {
  it('adds the new secret, pauses for the deploy, then drops the old one, pauses again, audits', async () => {
    const old = await variable('agent_signing_secrets');
    const first = await rotate(['agent-signing']);
    expect(first.code, first.err.join('\n')).toBe(0);
    expect(first.err.join('\n')).toMatch(/paused after step 1: deploy now: .*npx cdktf deploy staging-services/);
    const both = (await variable('agent_signing_secrets')).split(' ');
    expect(both).toHaveLength(2);
    expect(both[0]).toBe(old);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const second = await rotate(['agent-signing']);
    expect(second.err.join('\n')).toMatch(/resuming .*paused after step 1/s);
    expect(await variable('agent_signing_secrets')).toBe(both[1]);
    const third = await rotate(['agent-signing']);
    expect(third.code).toBe(0);
    expect(third.err.join('\n')).toContain('done: agent-signing');
    expect(await readFile(`${file}.audit`, 'utf8')).toMatch(/secret-rotated agent-signing .* by ops-test/);
    expect([...first.err, ...second.err, ...third.err].join('\n')).not.toContain(both[1]!);
  });
});

describe('agent-sealing in production', () => {
  it('agents accept the new key, then meet-auth seals to it, then (once drained) the old key goes', async () => {
    const old = await variable('agent_sealing_private_keys');
    const oldPublic = await variable('agent_sealing_public_key');
    await rotate(['agent-sealing']);
    const both = (await variable('agent_sealing_private_keys')).split(' ');
    expect(both).toEqual([old, expect.any(String)]);
    expect(await variable('agent_sealing_public_key')).toBe(oldPublic);
    await rotate(['agent-sealing']);
    expect(await variable('agent_sealing_public_key')).toBe(sealingPublicKeyOf(both[1]!));
    expect(await variable('agent_sealing_private_keys')).toBe(both.join(' '));
    const refused = await rotate(['agent-sealing']);
    expect(refused.err.join('\n')).toMatch(/--old-seals-drained/);
    expect(await variable('agent_sealing_private_keys')).toBe(both.join(' '));
    await rotate(['agent-sealing', '--old-seals-drained']);
    expect(await variable('agent_sealing_private_keys')).toBe(both[1]);
    const last = await rotate(['agent-sealing']);
    expect(last.err.join('\n')).toContain('done: agent-sealing');
    expect(await readFile(`${file}.prev`, 'utf8')).toContain(both.join(' '));
  });

  it('--dry-run changes no byte; --agent cannot pick one agent in production', async () => {
    const before = await hashTree(dir);
    const result = await rotate(['agent-sealing', '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.err.join('\n')).toMatch(/would take these steps/);
    expect(await hashTree(dir)).toEqual(before);
    const agent = await rotate(['agent-signing', '--agent', 'jitsi']);
    expect(agent.code).toBe(2);
  });
});
