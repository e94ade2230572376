/** Both entry points share runServiceMain: a configuration problem is printed as it is and exits 1, no secret echoed. */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const SECRET = 'whsec_not-base64-but-secret-canary';

async function runMain(entry: string, env: Record<string, string>) {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, entry)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
  }).then(
    () => ({ code: 0, stderr: '' }),
    (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
  );
}

it.each([
  ['edge/agent/main.ts', { MEET_AGENT_SIGNING_SECRETS: SECRET }, 'MEET_AGENT_SEALING_KEYS'],
  ['edge/auth/main.ts', { MEET_AGENT_SIGNING_SECRETS: SECRET }, 'MEET_AGENTS'],
])('%s exits 1 on a bad configuration, naming the problem and never the secret', async (entry, env, named) => {
  const result = await runMain(entry, env);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(named);
  expect(result.stderr).not.toContain(SECRET);
  expect(result.stderr).not.toContain('failed to start');
});

it('edge/agent/main.ts exits 1 on a bad MEET_WATCHDOG_SECONDS, naming it', async () => {
  const { generateSealingKeyPair } = await import('../../../edge/shared/sealing.js');
  const { generateSigningSecret } = await import('../../../edge/shared/signing.js');
  const result = await runMain('edge/agent/main.ts', {
    MEET_AGENT_SIGNING_SECRETS: generateSigningSecret(),
    MEET_AGENT_SEALING_KEYS: generateSealingKeyPair().privateKey,
    MEET_PROSODY_SOCKET: '/nonexistent/prosody.sock',
    MEET_AGENT_PORT: '0',
    MEET_WATCHDOG_SECONDS: 'soon',
  });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('MEET_WATCHDOG_SECONDS: "soon" must be 0 (off)');
  expect(result.stderr).not.toContain('failed to start');
});
