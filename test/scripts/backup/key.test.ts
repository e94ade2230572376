/** Where a backup or restore takes its key from: MEET_BACKUP_KEY (production: meet-edge's environment) or the file. */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backupKeyOf, newBackupKey } from '../../../scripts/lib/backup/key.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
const dataDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meet-backup-key-'));
  dirs.push(dir);
  return dir;
};

describe('backupKeyOf', () => {
  it('takes MEET_BACKUP_KEY as it is and writes no file, even when asked to make one', async () => {
    const dir = await dataDir();
    const key = newBackupKey().trim();
    expect((await backupKeyOf({ MEET_DATA_DIR: dir, MEET_BACKUP_KEY: key }, true)).toString('base64url')).toBe(key);
    expect(existsSync(join(dir, 'keys'))).toBe(false);
  });

  it('without it: the file, made (0600) by the first backup, and read by a restore', async () => {
    const dir = await dataDir();
    await expect(backupKeyOf({ MEET_DATA_DIR: dir }, false)).rejects.toThrow(
      `cannot read the backup key ${join(dir, 'keys', 'backup.key')} (ENOENT)`,
    );
    const made = await backupKeyOf({ MEET_DATA_DIR: dir }, true);
    expect((await readFile(join(dir, 'keys', 'backup.key'), 'utf8')).trim()).toBe(made.toString('base64url'));
    expect(await backupKeyOf({ MEET_DATA_DIR: dir }, false)).toEqual(made);
  });

  it('refuses a bad value without echoing it, and both sources at once', async () => {
    const dir = await dataDir();
    const bad = 'not-a-key-but-a-secret-looking-string';
    const error = await backupKeyOf({ MEET_DATA_DIR: dir, MEET_BACKUP_KEY: bad }, true).catch(
      (caught: Error) => caught,
    );
    expect((error as Error).message).toBe('MEET_BACKUP_KEY does not hold a backup key (32 bytes, base64url)');
    await expect(
      backupKeyOf({ MEET_BACKUP_KEY: newBackupKey().trim(), MEET_BACKUP_KEY_FILE: join(dir, 'k') }, false),
    ).rejects.toThrow('both MEET_BACKUP_KEY and MEET_BACKUP_KEY_FILE are set: give one');
  });
});
