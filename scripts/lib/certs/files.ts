/**
 * Durable file replacement for the certificate files: a reader (nginx, meet-auth, the next run) sees either the
 * old file or the complete new one, never a torn write, and a crash never leaves a half-written key in place.
 */
import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A fresh temp path beside `path` (same directory, so rename stays on one filesystem): `.<name>.<pid>.<8 hex>.tmp`. */
export function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** The name a temp file of tempPath() stands in for, or null for any other name. */
export function tempTarget(name: string): string | null {
  return /^\.(.+)\.\d+\.[0-9a-f]{8}\.tmp$/.exec(name)?.[1] ?? null;
}

/**
 * Removes the temp files a run killed mid-write left in `dir` (regular files named by tempPath(), except those
 * `keep` spares) and returns their names. Call it only while no other run writes there (under the lock).
 */
export async function removeTempFiles(
  dir: string,
  keep: (target: string, mtimeMs: number) => boolean = () => false,
): Promise<string[]> {
  const removed: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const target = tempTarget(name);
    if (target === null) continue;
    const info = await lstat(join(dir, name)).catch(() => null);
    if (!info?.isFile() || keep(target, info.mtimeMs)) continue;
    await rm(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** Writes `data` to a new temp file with exactly `mode` and fsyncs it; returns its path. */
async function writeTemp(path: string, data: string | Buffer, mode: number): Promise<string> {
  const temp = tempPath(path);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.chmod(mode); // the umask may have narrowed it
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  return temp;
}

/** fsync a directory, so renames in it survive a crash. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function ensureDirectory(dir: string, mode: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
}

/**
 * Replaces several files in one directory: all are written and fsynced as temp files first, then renamed into
 * place in the given order, then the directory is fsynced. If anything fails before the renames, no target changes.
 */
export async function replaceFiles(
  dir: string,
  files: readonly { name: string; data: string | Buffer; mode: number }[],
): Promise<void> {
  const temps: string[] = [];
  try {
    for (const file of files) temps.push(await writeTemp(join(dir, file.name), file.data, file.mode));
    for (const [index, file] of files.entries()) await rename(temps[index]!, join(dir, file.name));
  } catch (error) {
    await Promise.all(temps.map((temp) => rm(temp, { force: true })));
    throw error;
  }
  await syncDirectory(dir);
}

/**
 * Creates `path` with `data` unless it already exists (then returns false and leaves it alone): two runs that
 * race to create the account key end up using the same one.
 */
export async function createFileOnce(path: string, data: string | Buffer, mode: number): Promise<boolean> {
  const temp = await writeTemp(path, data, mode);
  try {
    await link(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
  await syncDirectory(dirname(path));
  return true;
}
