/** The one-step rotations: `ticketmaster <name>` (in meet-auth's store) and `backup-key` (a file). */
import { chmod, copyFile, readFile, rename, writeFile } from 'node:fs/promises';
import { audit } from '../../../edge/auth/store/audit.js';
import { openDatabase } from '../../../edge/auth/store/db.js';
import { findActiveTicketmaster, rotateTicketmasterToken } from '../../../edge/auth/store/ticketmaster-rotation.js';
import { parseBackupKey, newBackupKey } from '../backup/key.js';
import type { Plan } from './plan.js';
import Database from 'better-sqlite3';
import { databasePath } from '../../../edge/auth/store/db.js';
import { existsSync, readFileSync } from 'node:fs';

/** A database file read into memory, its header's WAL marks (bytes 18-19) set back to rollback-journal. */
function inMemoryCopy(path: string): Database.Database {
  const bytes = readFileSync(path);
  bytes[18] = 1;
  bytes[19] = 1;
  return new Database(bytes);
}

export function planTicketmaster(options: {
  dataDir: string;
  name: string;
  who: string;
  cost: number;
  out: (line: string) => void;
}): Plan {
  const path = databasePath(options.dataDir);
  if (!existsSync(path)) throw new Error(`there is no meet-auth database at ${path}`);
  // Without creating anything, so a dry run changes no byte: a read-only open of a WAL database would create its
  // -wal and -shm files when they are not there (no meet-auth running), so then read a copy in memory instead.
  const peek = existsSync(`${path}-wal`)
    ? new Database(path, { readonly: true, fileMustExist: true })
    : inMemoryCopy(path);
  let name: string;
  try {
    name = findActiveTicketmaster(peek, options.name).name;
  } finally {
    peek.close();
  }
  return {
    what: `ticketmaster "${name}"`,
    steps: [
      {
        title: `replace the token of ticketmaster "${name}" (the old one is refused from this moment; tickets and audit trail stay theirs) and print the new one`,
        async run() {
          const db = openDatabase(options.dataDir);
          try {
            options.out(await rotateTicketmasterToken(db, name, options.who, options.cost));
          } finally {
            db.close();
          }
        },
      },
    ],
    onFailure: 'The old token still works (nothing was committed). Run the same command again.',
  };
}

export async function planBackupKey(options: { dataDir: string; path: string; who: string }): Promise<Plan> {
  const { path } = options;
  parseBackupKey(
    await readFile(path, 'utf8').catch(() => {
      throw new Error(`there is no backup key at ${path} yet (the first backup makes one)`);
    }),
    path,
  );
  const next = `${path}.next`;
  return {
    what: `backup-key (${path})`,
    steps: [
      {
        title: `generate a new backup key in ${next} (mode 0600)`,
        async run() {
          await writeFile(next, newBackupKey(), { mode: 0o600 });
        },
      },
      {
        title: `use it for every later backup: ${path} replaced, the previous key kept as ${path}.prev (archives made before now need it: MEET_BACKUP_KEY_FILE=${path}.prev npm run restore -- ARCHIVE)`,
        async run() {
          await copyFile(path, `${path}.prev`);
          await chmod(`${path}.prev`, 0o600);
          await rename(next, path);
          const db = openDatabase(options.dataDir);
          try {
            audit(db, { at: Date.now(), event: 'secret-rotated', detail: `backup-key rotated by ${options.who}` });
          } finally {
            db.close();
          }
        },
      },
    ],
    onFailure: `${path} is unchanged and still the key of new backups. Run the same command again.`,
  };
}
