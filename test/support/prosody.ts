/**
 * A throwaway real Prosody for tests: its own config, data and admin socket in a fresh temp dir, client port on
 * a free loopback port, removed again by `dispose()`. Any test may use it:
 *
 *   const prosody = await startTestProsody();
 *   afterAll(() => prosody.dispose());
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalProsody, type LocalProsody } from '../../scripts/lib/local-prosody.js';
import { requireInstalled } from './installed.js';
import { freePort } from './ports.js';

requireInstalled('Prosody', 'test/support/prosody.ts');

export interface TestProsody extends LocalProsody {
  /** Runs `prosodyctl --config <this config> ...args`, writing `input` to its stdin. Never throws on exit code. */
  prosodyctl(args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  dispose(): Promise<void>;
}

export async function startTestProsody(
  options: { prosodyBinary?: string; prosodyctlBinary?: string; domain?: string } = {},
): Promise<TestProsody> {
  // Short prefix: a unix socket path must stay under 108 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'prosody-'));
  const c2sPort = await freePort();
  let prosody: LocalProsody;
  try {
    prosody = await startLocalProsody({ dir, c2sPort, ...options });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const prosodyctlBinary = options.prosodyctlBinary ?? 'prosodyctl';
  return {
    ...prosody,
    prosodyctl: (args, input) =>
      new Promise((resolve) => {
        const child = execFile(
          prosodyctlBinary,
          ['--config', prosody.configPath, ...args],
          { encoding: 'utf8', timeout: 20_000 },
          (error, stdout, stderr) => {
            const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
        child.stdin?.end(input ?? '');
      }),
    async dispose() {
      await prosody.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
