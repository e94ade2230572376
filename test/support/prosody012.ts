/**
 * Prosody 0.12 side by side with the installed 13, for the prosodyctl fallback tests: Debian bookworm's
 * package fetched with `apt-get download` and unpacked with `dpkg -x` (no install), its prosody/prosodyctl
 * scripts pointed at the unpacked libraries. It uses the same Lua 5.4 and Lua libraries as 13.
 * Cached in MEET_PROSODY012_DIR (default <tmp>/meet-prosody-0.12).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireInstalled } from './installed.js';

requireInstalled('apt (Debian packages fetched at test time)', 'test/support/prosody012.ts');

const run = promisify(execFile);

export interface Prosody012 {
  readonly prosody: string;
  readonly prosodyctl: string;
}

async function candidateVersion(): Promise<string> {
  const { stdout } = await run('apt-cache', ['madison', 'prosody']);
  const version = stdout
    .split('\n')
    .map((line) => line.split('|')[1]?.trim())
    .find((v) => v?.startsWith('0.12.'));
  if (!version) throw new Error('apt knows no prosody 0.12.x (is Debian bookworm main in the apt sources?)');
  return version;
}

export async function ensureProsody012(): Promise<Prosody012> {
  const dir = process.env.MEET_PROSODY012_DIR ?? join(tmpdir(), 'meet-prosody-0.12');
  const result = { prosody: join(dir, 'bin', 'prosody'), prosodyctl: join(dir, 'bin', 'prosodyctl') };
  if (existsSync(result.prosodyctl)) return result;
  const work = await mkdtemp(join(tmpdir(), 'prosody012-'));
  try {
    await run('apt-get', ['download', `prosody=${await candidateVersion()}`], { cwd: work });
    const deb = (await readdir(work)).find((name) => name.endsWith('.deb'));
    if (!deb) throw new Error('apt-get download produced no .deb');
    const root = join(work, 'root');
    await run('dpkg', ['-x', join(work, deb), root]);
    await mkdir(join(root, 'bin'));
    for (const name of ['prosody', 'prosodyctl']) {
      const script = (await readFile(join(root, 'usr', 'bin', name), 'utf8'))
        .replace(/^CFG_SOURCEDIR=.*$/m, `CFG_SOURCEDIR='${join(dir, 'usr', 'lib', 'prosody')}';`)
        .replace(/^CFG_PLUGINDIR=.*$/m, `CFG_PLUGINDIR='${join(dir, 'usr', 'lib', 'prosody', 'modules')}/';`);
      await writeFile(join(root, 'bin', name), script);
      await chmod(join(root, 'bin', name), 0o755);
    }
    await rm(dir, { recursive: true, force: true });
    await rename(root, dir);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return result;
}
