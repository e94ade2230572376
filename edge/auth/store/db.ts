/**
 * Opens meet-auth's SQLite store: `$MEET_DATA_DIR/meet-auth.sqlite`, WAL, foreign keys, migrated.
 * The directory is made 0700 and the files 0600: they hold hashes and sealed blobs, not plaintext,
 * but nobody else needs to read them.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { skeleton } from '../../shared/lookalikes.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

export const DB_FILE = 'meet-auth.sqlite';

export function databasePath(dataDir: string): string {
  return join(dataDir, DB_FILE);
}

export function openDatabase(dataDir: string): Db {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = databasePath(dataDir);
  const db = cachePreparedStatements(new Database(file));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // Admin CLIs write while the server runs: wait for the lock instead of failing.
  db.pragma('busy_timeout = 5000');
  migrate(db);
  backfillSkeletons(db);
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(file + suffix)) chmodSync(file + suffix, 0o600);
  }
  return db;
}

/**
 * Gives every reserved name without one its skeleton (names reserved before the column existed). Of two old names
 * that look alike the first keeps it and the other stays NULL: both exist already, only new lookalikes are refused.
 */
function backfillSkeletons(db: Db): void {
  const missing = db.prepare('SELECT username FROM usernames WHERE skeleton IS NULL ORDER BY reserved_at').all() as {
    username: string;
  }[];
  if (missing.length === 0) return;
  const fill = db.prepare('UPDATE OR IGNORE usernames SET skeleton = ? WHERE username = ?');
  db.transaction(() => {
    for (const { username } of missing) fill.run(skeleton(username), username);
  }).immediate();
}

/**
 * The store modules prepare their (fixed) SQL inline where it is used, which reads best; compiling it once per
 * connection instead of once per call is what keeps a redemption cheap. None of our statements use
 * iterate(), pluck() or raw(), so one shared instance per SQL text is safe.
 */
function cachePreparedStatements(db: Db): Db {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    let statement = cache.get(sql);
    if (!statement) {
      statement = prepare(sql);
      if (cache.size < 500) cache.set(sql, statement);
    }
    return statement;
  }) as Db['prepare'];
  return db;
}

/**
 * The rate limiter's counters live in their own file: they change on every failed attempt, are not account
 * state (a restart may lose them), and on disk their memory stays bounded however many addresses flood us.
 */
const LIMITS_DB_FILE = 'rate-limits.sqlite';

export function openLimitsDatabase(dataDir: string): Db {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, LIMITS_DB_FILE);
  const db = cachePreparedStatements(new Database(file));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('busy_timeout = 1000');
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(file + suffix)) chmodSync(file + suffix, 0o600);
  }
  return db;
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this meet-auth (${MIGRATIONS.length})`);
  }
  db.transaction(() => {
    for (let version = current; version < MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }
  }).immediate();
}

/** A real write (a page to the WAL, committed), to learn whether the disk has room again. Throws SQLITE_FULL when not. */
export function probeStorage(db: Db, now: number): void {
  db.prepare('INSERT INTO storage_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at').run(
    now,
  );
}
