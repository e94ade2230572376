/**
 * meet-auth's hold on its data directory, so that a restore (often a one-off container beside a stopped meet-edge)
 * can tell whether meet-auth still serves from it. `$MEET_DATA_DIR/meet-auth.lock` is an SQLite file: every running
 * meet-auth keeps a shared lock on it for as long as it runs, a restore takes the exclusive one. These are SQLite's
 * POSIX record locks, kept by the kernel on the file itself: they hold across containers that mount the directory
 * and across pid namespaces (where a pid file would name nobody), and they end with the process, kill -9 included.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const SERVING_LOCK_FILE = 'meet-auth.lock';

export interface HeldLock {
  release(): void;
}

/** The directory is held the other way round (by a restore, or by a running meet-auth); the message says which. */
export class DataDirBusyError extends Error {}

const isBusy = (error: unknown) => ['SQLITE_BUSY', 'SQLITE_LOCKED'].includes((error as { code?: string }).code ?? '');

function open(dataDir: string, hold: (db: Database.Database) => void, busy: string): HeldLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, SERVING_LOCK_FILE);
  const db = new Database(path);
  try {
    chmodSync(path, 0o600);
    db.pragma('busy_timeout = 0');
    hold(db);
  } catch (error) {
    db.close();
    if (isBusy(error)) throw new DataDirBusyError(busy);
    throw error;
  }
  return { release: () => db.close() };
}

/** meet-auth: a shared lock for as long as it runs (several may hold one); refused while a restore holds the directory. */
export function holdServingLock(dataDir: string): HeldLock {
  return open(
    dataDir,
    (db) => {
      db.exec('CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY)');
      // In EXCLUSIVE locking mode SQLite never gives a lock back: this read takes the shared lock and keeps it.
      db.pragma('locking_mode = EXCLUSIVE');
      db.prepare('SELECT count(*) FROM holder').get();
    },
    `a restore holds ${dataDir} (${SERVING_LOCK_FILE}): meet-auth starts once it has finished`,
  );
}

/** A restore: the exclusive lock, refused at once while any meet-auth serves from the directory. */
export function takeDataDir(dataDir: string): HeldLock {
  return open(
    dataDir,
    (db) => {
      db.pragma('locking_mode = EXCLUSIVE');
      // A written transaction takes the exclusive lock, which EXCLUSIVE locking mode then keeps.
      db.exec(
        'BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY); INSERT OR REPLACE INTO holder (id) VALUES (1); COMMIT',
      );
    },
    `meet-auth is running on ${dataDir}, or another restore is (it holds ${join(dataDir, SERVING_LOCK_FILE)}): stop meet-auth (production: docker stop meet-edge; locally: Ctrl-C), restore, then start it again; nothing was changed`,
  );
}
