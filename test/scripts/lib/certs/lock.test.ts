/** The per-directory lock of `certs` runs, on a real filesystem with real processes (see also test/scripts/certs-lock.int.test.ts). */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeTempFiles, tempTarget } from '../../../../scripts/lib/certs/files.js';
import { acquireLock, LOCK_FILE, LockHeldError, tryLock, type HeldLock } from '../../../../scripts/lib/certs/lock.js';

let dir: string;
let lines: string[];
const progress = (line: string) => lines.push(line);
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meet-certs-lock-'));
  lines = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lockPath = () => join(dir, LOCK_FILE);
const readOwner = () => JSON.parse(readFileSync(lockPath(), 'utf8')) as Record<string, unknown>;
const held = async (command = 'renew'): Promise<HeldLock> => {
  const lock = await tryLock(dir, { command, progress });
  if ('heldBy' in lock) throw new Error(`expected the lock, ${lock.heldBy} has it`);
  return lock;
};
/** A pid that is certainly gone: a child that already exited (and was reaped). */
const deadPid = () => spawnSync('true').pid!;
const pidNamespace = () => {
  try {
    return spawnSync('readlink', [`/proc/${process.pid}/ns/pid`], { encoding: 'utf8' }).stdout.trim() || null;
  } catch {
    return null;
  }
};
const writeLock = (owner: Record<string, unknown>) => writeFileSync(lockPath(), `${JSON.stringify(owner)}\n`);

describe('tryLock', () => {
  it('creates the lock naming this run (pid, host, pid namespace, command, start), and release removes it', async () => {
    const lock = await held('issue');
    expect(readOwner()).toEqual({
      pid: process.pid,
      host: hostname(),
      pidNamespace: pidNamespace(),
      command: 'issue',
      startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      token: expect.stringMatching(/^[0-9a-f]{24}$/),
    });
    await lock.assertHeld();
    await lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a second run gets who holds it, and the lock stays the first run's", async () => {
    const first = await held('renew');
    const before = readFileSync(lockPath(), 'utf8');
    const second = await tryLock(dir, { command: 'issue', progress });
    expect(second).toEqual({
      heldBy: `another certs run (pid ${process.pid}), renew on host ${hostname()} since ${readOwner().startedAt},`,
    });
    expect(readFileSync(lockPath(), 'utf8')).toBe(before);
    await first.release();
    await (await held()).release();
  });

  it('takes over the lock of a process that is gone (same host and pid namespace), saying so', async () => {
    const pid = deadPid();
    writeLock({
      pid,
      host: hostname(),
      pidNamespace: pidNamespace(),
      command: 'renew',
      startedAt: new Date().toISOString(),
      token: 'dead',
    });
    const lock = await held();
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^removing the stale lock ${lockPath()} of another certs run \\(pid ${pid}\\) .*: its process ${pid} on ${hostname()} is gone$`,
        ),
      ),
    ]);
    expect(readOwner().pid).toBe(process.pid);
    await lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('cannot judge a pid of another host or pid namespace: waits for those until the lock is an hour old', async () => {
    for (const foreign of [
      { host: 'other-host', pidNamespace: pidNamespace() },
      { host: hostname(), pidNamespace: 'pid:[1]' },
    ]) {
      writeLock({ pid: deadPid(), ...foreign, command: 'renew', startedAt: new Date().toISOString(), token: 't' });
      expect(await tryLock(dir, { command: 'renew', progress })).toHaveProperty('heldBy');
      writeLock({
        pid: deadPid(),
        ...foreign,
        command: 'renew',
        startedAt: new Date(Date.now() - 61 * 60_000).toISOString(),
        token: 't',
      });
      const lock = await held();
      expect(lines.at(-1)).toMatch(/: it was taken 61 minutes ago, longer than a run lasts$/);
      await lock.release();
    }
  });

  it('a live process older than an hour is stale too (a hung run must not block renewals forever)', async () => {
    writeLock({
      pid: process.pid,
      host: hostname(),
      pidNamespace: pidNamespace(),
      command: 'renew',
      startedAt: new Date(Date.now() - 2 * 3_600_000).toISOString(),
      token: 'old',
    });
    await (await held()).release();
    expect(lines).toHaveLength(1);
  });

  it('an unreadable lock file counts from its modification time; a pid of 0 or below is never signalled', async () => {
    for (const content of [
      '',
      'garbage',
      JSON.stringify({
        pid: 0,
        host: hostname(),
        pidNamespace: pidNamespace(),
        startedAt: new Date().toISOString(),
        token: 'x',
      }),
    ]) {
      writeFileSync(lockPath(), content);
      const result = await tryLock(dir, { command: 'renew', progress });
      expect(result).toEqual({
        heldBy: expect.stringMatching(/^another certs run, unreadable lock file, written \d{4}-/),
      });
      const old = new Date(Date.now() - 2 * 3_600_000);
      utimesSync(lockPath(), old, old);
      await (await held()).release();
    }
  });

  it('assertHeld fails and release leaves the lock alone once another run took it over', async () => {
    const lock = await held();
    const other = JSON.stringify({
      pid: process.pid,
      host: hostname(),
      pidNamespace: pidNamespace(),
      command: 'issue',
      startedAt: new Date().toISOString(),
      token: 'other',
    });
    writeFileSync(lockPath(), other);
    await expect(lock.assertHeld()).rejects.toThrow(
      `lost the lock ${lockPath()}: another run found it stale and took it over`,
    );
    await lock.release();
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    expect(readFileSync(lockPath(), 'utf8')).toBe(other);
  });
});

describe('acquireLock', () => {
  it('waits for the holder, says so once, and takes the lock when it is released', async () => {
    const first = await held();
    setTimeout(() => void first.release(), 300);
    const started = Date.now();
    const second = await acquireLock(dir, { command: 'issue', progress, waitMs: 5000, pollMs: 20 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(lines).toEqual([
      `another certs run (pid ${process.pid}) holds the lock ${lockPath()} (renew on host ${hostname()} since ${lines[0]!.match(/since (\S+)\)/)![1]}); waiting up to 5 s for it to finish`,
      `the other run is done; took the lock ${lockPath()}`,
    ]);
    expect(readOwner().command).toBe('issue');
    await second.release();
  });

  it('gives up after waitMs with LockHeldError naming the holder; without waiting at once', async () => {
    const first = await held();
    const started = Date.now();
    const error = await acquireLock(dir, { command: 'issue', progress, waitMs: 400, pollMs: 20 }).catch(
      (caught: unknown) => caught,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^another certs run \\(pid ${process.pid}\\) still holds the lock ${lockPath()} after 0\\.4 s of waiting \\(renew on host .* since .*\\); try again later`,
      ),
    );
    const now = await acquireLock(dir, { command: 'issue', progress, waitMs: 0 }).catch(
      (caught: Error) => caught.message,
    );
    expect(now).toMatch(/^another certs run \(pid \d+\) holds the lock \S+ \(renew on host/);
    await first.release();
  });

  it('of many contenders exactly one holds the lock at any moment, and every one gets it in turn', async () => {
    let inside = 0;
    let most = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        const lock = await acquireLock(dir, { command: 'renew', progress: () => undefined, waitMs: 20_000, pollMs: 5 });
        inside += 1;
        most = Math.max(most, inside);
        await new Promise((resolve) => setTimeout(resolve, 10));
        await lock.assertHeld();
        inside -= 1;
        done += 1;
        await lock.release();
      }),
    );
    expect([most, done]).toEqual([1, 12]);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('removeTempFiles', () => {
  it("removes only regular files named like the atomic write's temp files, except those kept", async () => {
    const leftovers = ['.cert.key.4242.0123abcd.tmp', '.cert.crt.7.deadbeef.tmp', `.${LOCK_FILE}.9.00000000.tmp`];
    const others = ['cert.key', '.cert.key.tmp', '.cert.key.42.xyz.tmp', 'cert.key.42.0123abcd.tmp', 'notes.txt'];
    for (const name of [...leftovers, ...others]) writeFileSync(join(dir, name), 'x');
    mkdirSync(join(dir, '.dir.1.0123abcd.tmp'));
    expect(tempTarget('.cert.key.4242.0123abcd.tmp')).toBe('cert.key');
    expect(await removeTempFiles(dir, (target) => target === LOCK_FILE)).toEqual([
      '.cert.crt.7.deadbeef.tmp',
      '.cert.key.4242.0123abcd.tmp',
    ]);
    expect(readdirSync(dir).sort()).toEqual([...others, `.${LOCK_FILE}.9.00000000.tmp`, '.dir.1.0123abcd.tmp'].sort());
  });
});
