/**
 * The backup key: 32 random bytes (base64url, one line) in `MEET_BACKUP_KEY_FILE` (default
 * `$MEET_DATA_DIR/keys/backup.key`), mode 0600, made by the first backup; or, in production, `MEET_BACKUP_KEY` in
 * meet-edge's environment (a sensitive Terraform variable). Kept like the other secrets, never in an archive: a
 * restore on a new machine needs it brought there first.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DEFAULTS } from '../../../common/config.js';

export const backupKeyPath = (env: Record<string, string | undefined>) =>
  env.MEET_BACKUP_KEY_FILE || join(env.MEET_DATA_DIR || DEFAULTS.dataDir, 'keys', 'backup.key');

export const newBackupKey = () => `${randomBytes(32).toString('base64url')}\n`;

export function parseBackupKey(text: string, path: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64url');
  if (key.length !== 32 || key.toString('base64url') !== text.trim())
    throw new Error(`${path} does not hold a backup key (32 bytes, base64url)`);
  return key;
}

async function readBackupKey(path: string): Promise<Buffer> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`cannot read the backup key ${path} (${error.code ?? error.message}); set MEET_BACKUP_KEY_FILE`);
  });
  if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
  return parseBackupKey(text, path);
}

/** The key, made now (0600, exclusively) when there is none yet. */
async function ensureBackupKey(path: string): Promise<Buffer> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    await writeFile(path, newBackupKey(), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readBackupKey(path);
}

/**
 * The key of this run: MEET_BACKUP_KEY when set (never written anywhere), else the file (made first when `create`).
 * Errors name the variable or the file, never the value.
 */
export async function backupKeyOf(env: Record<string, string | undefined>, create: boolean): Promise<Buffer> {
  const inline = env.MEET_BACKUP_KEY;
  if (inline !== undefined && inline !== '') {
    if (env.MEET_BACKUP_KEY_FILE) throw new Error('both MEET_BACKUP_KEY and MEET_BACKUP_KEY_FILE are set: give one');
    return parseBackupKey(inline, 'MEET_BACKUP_KEY');
  }
  return create ? ensureBackupKey(backupKeyPath(env)) : readBackupKey(backupKeyPath(env));
}
