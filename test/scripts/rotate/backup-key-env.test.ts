/** `rotate backup-key` where the key is MEET_BACKUP_KEY (inside meet-edge): refused as bad input, nothing written. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { newBackupKey } from '../../../scripts/lib/backup/key.js';
import { runRotateCli } from '../../../scripts/lib/rotate/cli.js';
import { capture, hashTree } from '../../support/admin-cli.js';

it('refuses to rotate a key file that the backups do not use, changing nothing', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'meet-rotate-backup-env-'));
  try {
    const key = newBackupKey().trim();
    const before = await hashTree(dataDir);
    const result = await capture((io) => runRotateCli(['backup-key'], io), {
      MEET_DATA_DIR: dataDir,
      MEET_BACKUP_KEY: key,
    });
    expect(result.code).toBe(2);
    expect(result.err.join('\n')).toContain(
      'MEET_BACKUP_KEY is set (meet-edge has the key from TF_VAR_backup_key): there is no key file to rotate',
    );
    expect(result.err.join('\n')).not.toContain(key);
    expect(await hashTree(dataDir)).toEqual(before);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
