/**
 * One `certs` run at a time per directory. The daily timer and an admin by hand may start `renew`/`issue` at the
 * same moment; without this both would order from the CA (spending Let's Encrypt's rate limit twice) and
 * interleave their writes. The lock is a file created only if absent (written beside it, then hard-linked into
 * place, so it is never seen half-written) that names its run: pid, host, pid namespace, command, start time.
 *
 * A lock is stale, and taken over, when its process is gone (judged only on the same host and pid namespace,
 * where the pid means something: the runs are `docker exec`s into one container) or when it is older than an
 * hour (longer than any run lasts; covers runs on another host and hung processes). Removing a lock, stale or
 * our own, first renames it aside and checks it is the one we meant; one that is not is put back.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, readlink, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createFileOnce, tempPath } from './files.js';

export const LOCK_FILE = '.certs.lock';
/** Older locks are stale whoever holds them; a run (CA polling included) takes minutes. */
export const STALE_AFTER_MS = 3_600_000;

export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** This process's pid namespace (`pid:[4026531836]`), null where /proc does not tell. */
  readonly pidNamespace: string | null;
  /** What the run does ("renew", "issue", "status"). */
  readonly command: string;
  /** ISO time the lock was taken. */
  readonly startedAt: string;
  /** Tells two runs of one process apart (and our lock from a later one with the same pid). */
  readonly token: string;
}

export interface HeldLock {
  readonly path: string;
  /** Throws when the lock is no longer ours (another run judged it stale and took it): then write nothing. */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

export interface LockOptions {
  readonly command: string;
  readonly progress: (line: string) => void;
  /** How long to wait for another run's lock; 0: do not wait. */
  readonly waitMs: number;
  /** @default 250 */
  readonly pollMs?: number;
}

/** The current holder as found on disk; `owner` is null when the file cannot be parsed. */
interface Found {
  readonly raw: string;
  readonly owner: LockOwner | null;
  readonly mtimeMs: number;
}

export class LockHeldError extends Error {}

let cachedNamespace: string | null | undefined;
async function pidNamespace(): Promise<string | null> {
  cachedNamespace ??= await readlink('/proc/self/ns/pid').catch(() => null);
  return cachedNamespace;
}

function parseOwner(raw: string): LockOwner | null {
  try {
    const value = JSON.parse(raw) as Partial<LockOwner>;
    // pid 0 or below would make kill() address a process group.
    if (
      !Number.isInteger(value.pid) ||
      value.pid! <= 0 ||
      typeof value.host !== 'string' ||
      typeof value.token !== 'string' ||
      typeof value.startedAt !== 'string'
    )
      return null;
    return {
      pid: value.pid!,
      host: value.host,
      pidNamespace: value.pidNamespace ?? null,
      command: String(value.command ?? '?'),
      startedAt: value.startedAt,
      token: value.token,
    };
  } catch {
    return null;
  }
}

async function readLock(path: string): Promise<Found | null> {
  try {
    const [raw, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { raw, owner: parseOwner(raw), mtimeMs: info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null; // released a moment ago
    throw error;
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH'; // EPERM: it exists, as another user
  }
}

/** Why the lock found is stale, or null while its run may still be going. */
async function staleness(found: Found, now: number): Promise<string | null> {
  const { owner } = found;
  const since = owner && Number.isFinite(Date.parse(owner.startedAt)) ? Date.parse(owner.startedAt) : found.mtimeMs;
  if (now - since > STALE_AFTER_MS)
    return `it was taken ${Math.round((now - since) / 60_000)} minutes ago, longer than a run lasts`;
  if (
    owner &&
    owner.host === hostname() &&
    owner.pidNamespace === (await pidNamespace()) &&
    !processExists(owner.pid)
  ) {
    return `its process ${owner.pid} on ${owner.host} is gone`;
  }
  return null;
}

/** Who holds it, for messages: "another certs run (pid 12)" and the details. */
function holder(found: Found): { who: string; details: string } {
  const { owner } = found;
  if (!owner)
    return {
      who: 'another certs run',
      details: `unreadable lock file, written ${new Date(found.mtimeMs).toISOString()}`,
    };
  return {
    who: `another certs run (pid ${owner.pid})`,
    details: `${owner.command} on host ${owner.host} since ${owner.startedAt}`,
  };
}

/**
 * Removes `path` only if it still holds `expected`: renamed aside (atomic, so two removers cannot both take one
 * file), checked, and put back when it turned out to be another run's lock.
 */
async function removeIfUnchanged(path: string, expected: string): Promise<void> {
  const aside = tempPath(path);
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    if ((await readFile(aside, 'utf8')) !== expected) {
      // EEXIST: yet another run has taken the free path meanwhile; the one we moved sees it at assertHeld.
      await link(aside, path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
    }
  } finally {
    await rm(aside, { force: true });
  }
}

/** Takes the lock in `dir` if it is free or stale; otherwise says who holds it. Never waits. */
export async function tryLock(
  dir: string,
  options: Omit<LockOptions, 'waitMs' | 'pollMs'>,
): Promise<HeldLock | { readonly heldBy: string }> {
  const result = await attemptLock(dir, options);
  if (!('held' in result)) return result;
  const { who, details } = holder(result.held);
  return { heldBy: `${who}, ${details},` };
}

async function attemptLock(
  dir: string,
  options: Omit<LockOptions, 'waitMs' | 'pollMs'>,
): Promise<HeldLock | { held: Found }> {
  const path = join(dir, LOCK_FILE);
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    pidNamespace: await pidNamespace(),
    command: options.command,
    startedAt: new Date().toISOString(),
    token: randomBytes(12).toString('hex'),
  };
  const raw = `${JSON.stringify(owner)}\n`;
  // A few rounds: the holder may release, or a stale lock be removed, between our steps.
  for (let round = 0; ; round += 1) {
    let created: boolean;
    try {
      created = await createFileOnce(path, raw, 0o644);
    } catch (error) {
      // Our temp file can vanish before the link when a lock holder clears leftover temp files: try again.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && round < 5) continue;
      throw error;
    }
    if (created) {
      return {
        path,
        assertHeld: async () => {
          if ((await readFile(path, 'utf8').catch(() => null)) !== raw)
            throw new Error(`lost the lock ${path}: another run found it stale and took it over`);
        },
        release: () => removeIfUnchanged(path, raw),
      };
    }
    const found = await readLock(path);
    if (found === null) {
      if (round < 10) continue;
      throw new Error(`the lock ${path} keeps changing hands; try again`);
    }
    const stale = await staleness(found, Date.now());
    if (stale === null || round >= 5) return { held: found };
    options.progress(`removing the stale lock ${path} of ${holder(found).who} (${holder(found).details}): ${stale}`);
    await removeIfUnchanged(path, found.raw);
  }
}

/**
 * Takes the lock in `dir`, waiting up to `waitMs` for another run to finish (saying so once). Throws
 * LockHeldError naming the holder when it is still held then.
 */
export async function acquireLock(dir: string, options: LockOptions): Promise<HeldLock> {
  const deadline = Date.now() + options.waitMs;
  const seconds = options.waitMs / 1000;
  let waited = false;
  for (;;) {
    const result = await attemptLock(dir, options);
    if (!('held' in result)) {
      if (waited) options.progress(`the other run is done; took the lock ${result.path}`);
      return result;
    }
    const { who, details } = holder(result.held);
    const path = join(dir, LOCK_FILE);
    if (Date.now() >= deadline) {
      throw new LockHeldError(
        `${who} ${waited ? 'still holds' : 'holds'} the lock ${path}${waited ? ` after ${seconds} s of waiting` : ''} (${details}); ` +
          'try again later (a lock is stale once its process is gone or after an hour)',
      );
    }
    if (!waited)
      options.progress(`${who} holds the lock ${path} (${details}); waiting up to ${seconds} s for it to finish`);
    waited = true;
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(options.pollMs ?? 250, Math.max(0, deadline - Date.now()))),
    );
  }
}
