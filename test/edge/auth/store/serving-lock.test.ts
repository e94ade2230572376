/**
 * The data directory's lock between meet-auth (shared, for as long as it runs) and a restore (exclusive), across
 * processes as between meet-edge and a one-off container: the kernel's locks on meet-auth.lock, gone with the process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirBusyError, holdServingLock, takeDataDir } from '../../../../edge/auth/store/serving-lock.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
const dataDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meet-serving-lock-'));
  dirs.push(dir);
  return dir;
};

/** Another process holding the lock `kind` on dir until killed; resolves once it holds it (or with its refusal). */
async function holder(kind: 'serve' | 'restore', dir: string): Promise<{ child: ChildProcess; said: string }> {
  const code = `import { holdServingLock, takeDataDir } from ${JSON.stringify(join(ROOT, 'edge/auth/store/serving-lock.ts'))};
try { (${JSON.stringify(kind)} === 'serve' ? holdServingLock : takeDataDir)(process.argv[1]); console.log('held'); setInterval(() => {}, 1000); }
catch (error) { console.log(error.message); process.exit(3); }`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, said: chunk.toString().trim() };
}

describe('the serving lock', () => {
  it('a restore is refused while any meet-auth holds the directory, and takes it once the last one is gone (kill -9 too)', async () => {
    const dir = await dataDir();
    const first = await holder('serve', dir);
    const second = await holder('serve', dir);
    expect([first.said, second.said]).toEqual(['held', 'held']);
    expect(() => takeDataDir(dir)).toThrow(DataDirBusyError);
    expect(() => takeDataDir(dir)).toThrow(
      `meet-auth is running on ${dir}, or another restore is (it holds ${join(dir, 'meet-auth.lock')})`,
    );
    first.child.kill('SIGTERM');
    await once(first.child, 'exit');
    expect(() => takeDataDir(dir)).toThrow(DataDirBusyError);
    // No stale lock after a crash: the kernel drops it with the process.
    second.child.kill('SIGKILL');
    await once(second.child, 'exit');
    takeDataDir(dir).release();
    expect((await stat(join(dir, 'meet-auth.lock'))).mode & 0o777).toBe(0o600);
  });

  it('meet-auth refuses to start while a restore holds the directory, and starts once it is done', async () => {
    const dir = await dataDir();
    const restore = await holder('restore', dir);
    expect(restore.said).toBe('held');
    expect(() => holdServingLock(dir)).toThrow(
      `a restore holds ${dir} (meet-auth.lock): meet-auth starts once it has finished`,
    );
    expect((await holder('restore', dir)).said).toMatch(/^meet-auth is running on .*, or another restore is/);
    restore.child.kill('SIGKILL');
    await once(restore.child, 'exit');
    const served = holdServingLock(dir);
    expect(() => takeDataDir(dir)).toThrow(DataDirBusyError);
    served.release();
    takeDataDir(dir).release();
  });
});
