/**
 * The agent's inbox: every job it accepts, stored durably (SQLite, WAL, synchronous=FULL) before it answers,
 * and shared by the agent process and the cron run of scripts/create-accounts.mts.
 *
 * Claiming is a lease: inside BEGIN IMMEDIATE (one writer at a time) a worker takes due jobs, marks them
 * "attempting" (before any create is tried) and stamps them with its owner id and a lease deadline. Nobody
 * else takes a leased job until the lease runs out or its owner process is gone, so two runs never work on
 * one job at once. The sealed password is deleted as soon as a job is finished (secure_delete zeroes it).
 *
 * Only receiving a job is synced to disk before it returns (synchronous=FULL): that is the promise made to
 * meet-auth; jobs arriving together share one transaction (group commit, receiveSoon). The worker's bookkeeping
 * (claims, results, retries) goes through a second connection with synchronous=NORMAL: in WAL mode it survives
 * any crash of the process and only a power cut may lose the last few, which the worker recovers from anyway (a
 * job found created again counts as created when its own password verifies). That saves two fsyncs per account.
 */
import Database from 'better-sqlite3';
import { chmodSync } from 'node:fs';
import { hostname } from 'node:os';
import { GroupCommit } from '../shared/group-commit.js';

export type JobStatus = 'pending' | 'attempting' | 'created' | 'conflict' | 'failed';
export type FinalStatus = 'created' | 'conflict' | 'failed';

export interface StoredJob {
  readonly id: string;
  readonly username: string;
  readonly status: JobStatus;
  readonly detail: string | null;
  readonly attempts: number;
}

export interface ClaimedJob {
  readonly id: string;
  readonly username: string;
  readonly sealedPassword: string;
  readonly attempts: number;
  readonly receivedAt: number;
  /**
   * Whether an earlier claim of this very job got as far as the create (it was left "attempting": a crash, or
   * Prosody failing mid-create). Only then may an existing account be this job's own work.
   */
  readonly attemptedBefore: boolean;
}

export interface NewJob {
  readonly id: string;
  readonly username: string;
  readonly sealedPassword: string;
}

export type ReceiveResult =
  | { readonly kind: 'stored'; readonly job: StoredJob; readonly isNew: boolean }
  /** The id is known with another username: a forged or corrupted repeat, refused. */
  | { readonly kind: 'mismatch' };

const MIGRATIONS = [
  `CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     username TEXT NOT NULL,
     sealed_password TEXT,
     status TEXT NOT NULL CHECK (status IN ('pending', 'attempting', 'created', 'conflict', 'failed')),
     detail TEXT,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL,
     lease_owner TEXT,
     lease_until INTEGER,
     received_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX jobs_due ON jobs (next_attempt_at) WHERE status IN ('pending', 'attempting');`,
  // Claims look up live leases on every call: without this they scan every job ever received.
  `CREATE INDEX jobs_leased ON jobs (lease_until) WHERE status IN ('pending', 'attempting');`,
  // Ids of signed account-administration requests, kept past their signature window so none is accepted twice.
  `CREATE TABLE seen_requests (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) STRICT;
   CREATE INDEX seen_requests_expiry ON seen_requests (expires_at);`,
  // One row the worker rewrites while the disk is full, to learn when there is room again (storage-health.ts).
  `CREATE TABLE storage_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL) STRICT;`,
  // Kept by their signed timestamp instead of the wall clock (see firstSighting); the old rows expired 360 s after it.
  `CREATE TABLE seen_signed (id TEXT PRIMARY KEY, signed_at INTEGER NOT NULL) STRICT;
   CREATE INDEX seen_signed_at ON seen_signed (signed_at);
   INSERT INTO seen_signed (id, signed_at) SELECT id, expires_at - 360000 FROM seen_requests;
   DROP TABLE seen_requests;`,
];

/** Signed requests more than this older than the newest accepted one are refused, and their ids forgotten. */
export const REPLAY_WINDOW_MS = 660_000;

export type Sighting = 'first' | 'replayed' | 'too-old';

/** A worker's identity in lease columns: host, pid and a random part (pids are reused). */
export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
}

/** A lease held by a process that no longer exists on this host is free at once (after kill -9, a crash). */
function ownerIsGone(owner: string): boolean {
  const [host, pid] = owner.split(':');
  if (host !== hostname() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

interface Row {
  id: string;
  username: string;
  sealed_password: string | null;
  status: JobStatus;
  detail: string | null;
  attempts: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  received_at: number;
}

const toStored = (row: Row): StoredJob => ({
  id: row.id,
  username: row.username,
  status: row.status,
  detail: row.detail,
  attempts: row.attempts,
});

/** Compiles each (fixed) SQL text once per connection: preparing costs more than running these statements. */
function statements(db: Database.Database): (sql: string) => Database.Statement {
  const cache = new Map<string, Database.Statement>();
  return (sql) => {
    let statement = cache.get(sql);
    if (!statement) cache.set(sql, (statement = db.prepare(sql)));
    return statement;
  };
}

export class Inbox {
  /** Receives jobs, synced to disk before it returns (synchronous=FULL). */
  readonly #db: Database.Database;
  /** The worker's bookkeeping, synchronous=NORMAL (see the file comment). */
  readonly #work: Database.Database;
  readonly #sql: (sql: string) => Database.Statement;
  readonly #workSql: (sql: string) => Database.Statement;
  readonly #arrivals: GroupCommit<NewJob, ReceiveResult>;

  constructor(path: string) {
    this.#db = new Database(path, { timeout: 10_000 });
    // Owner-only, set before the WAL exists: SQLite gives the -wal and -shm files the database file's mode.
    chmodSync(path, 0o600);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('secure_delete = ON');
    const version = this.#db.pragma('user_version', { simple: true }) as number;
    for (const [index, sql] of MIGRATIONS.entries()) {
      if (index < version) continue;
      this.#db
        .transaction(() => {
          this.#db.exec(sql);
          this.#db.pragma(`user_version = ${index + 1}`);
        })
        .immediate();
    }
    this.#work = new Database(path, { timeout: 10_000 });
    this.#work.pragma('synchronous = NORMAL');
    // The worker deletes the sealed passwords: zeroed on disk, not just unlinked from the b-tree.
    this.#work.pragma('secure_delete = ON');
    this.#sql = statements(this.#db);
    this.#workSql = statements(this.#work);
    this.#arrivals = new GroupCommit(this.#db, (job) => this.#store(job, Date.now()));
  }

  /** Stores a new job, or returns the stored one when its id is known (a retry). Synced before it returns. */
  receive(job: NewJob, now = Date.now()): ReceiveResult {
    return this.#db.transaction(() => this.#store(job, now)).immediate();
  }

  /**
   * Like receive (durable before it resolves), but jobs that arrive in the same turn of the event loop share one
   * transaction and so one fsync (group commit): under a burst the disk is synced once per batch, not per job.
   */
  receiveSoon(job: NewJob): Promise<ReceiveResult> {
    return this.#arrivals.submit(job);
  }

  #store(job: NewJob, now: number): ReceiveResult {
    const inserted = this.#sql(
      `INSERT INTO jobs (id, username, sealed_password, status, next_attempt_at, received_at, updated_at)
       VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ).run(job.id, job.username, job.sealedPassword, now, now, now);
    const stored = this.get(job.id)!;
    if (stored.username !== job.username) return { kind: 'mismatch' };
    return { kind: 'stored', job: stored, isNew: inserted.changes === 1 };
  }

  /**
   * Records the id of a signed request, durably. 'replayed' when the id was recorded before; 'too-old' when its
   * signed timestamp lies more than REPLAY_WINDOW_MS (twice the ±300 s signature window, plus a minute) before the
   * newest one accepted: exactly the ids forgotten by then. Nothing here reads a clock, so whatever the wall clock
   * does, an id is either still recorded or its timestamp refused. (A legit request is never that old: two clocks
   * within ±300 s of the agent's cannot sign 660 s apart at once.)
   */
  firstSighting(id: string, signedAtMs: number): Sighting {
    return this.#db
      .transaction((): Sighting => {
        const newest = (
          this.#sql('SELECT max(signed_at) AS newest FROM seen_signed').get() as { newest: number | null }
        ).newest;
        if (newest !== null && signedAtMs < newest - REPLAY_WINDOW_MS) return 'too-old';
        if (
          this.#sql('INSERT INTO seen_signed (id, signed_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING').run(
            id,
            signedAtMs,
          ).changes === 0
        )
          return 'replayed';
        this.#sql('DELETE FROM seen_signed WHERE signed_at < ?').run(
          Math.max(newest ?? signedAtMs, signedAtMs) - REPLAY_WINDOW_MS,
        );
        return 'first';
      })
      .immediate();
  }

  get(id: string): StoredJob | undefined {
    const row = this.#sql('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    return row && toStored(row);
  }

  /**
   * Takes up to `limit` due jobs for `owner` and marks them attempting. Skips a job whose username another live
   * lease holds, so one name is never created by two workers at once.
   */
  claim(owner: string, limit: number, leaseMs: number, now = Date.now()): ClaimedJob[] {
    return this.#work
      .transaction((): ClaimedJob[] => {
        // Live leases are few (workers x concurrency); those of vanished processes are free again.
        const leasedRows = this.#workSql(
          `SELECT * FROM jobs WHERE status IN ('pending', 'attempting') AND lease_until > ?`,
        ).all(now) as Row[];
        const orphaned = leasedRows.filter((row) => ownerIsGone(row.lease_owner ?? ''));
        const busyNames = new Set(leasedRows.filter((row) => !orphaned.includes(row)).map((row) => row.username));
        const free = this.#workSql(
          `SELECT * FROM jobs WHERE status IN ('pending', 'attempting') AND next_attempt_at <= ?
           AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at, received_at LIMIT ?`,
        ).all(now, now, limit * 2 + 8) as Row[];
        const candidates = [...orphaned.filter((row) => row.next_attempt_at <= now), ...free];
        const take = this.#workSql(
          `UPDATE jobs SET status = 'attempting', attempts = attempts + 1, lease_owner = ?, lease_until = ?, updated_at = ?
           WHERE id = ?`,
        );
        const claimed: ClaimedJob[] = [];
        for (const row of candidates) {
          if (claimed.length >= limit) break;
          if (row.sealed_password === null || busyNames.has(row.username)) continue;
          busyNames.add(row.username);
          take.run(owner, now + leaseMs, now, row.id);
          claimed.push({
            id: row.id,
            username: row.username,
            sealedPassword: row.sealed_password,
            attempts: row.attempts + 1,
            receivedAt: row.received_at,
            attemptedBefore: row.status === 'attempting',
          });
        }
        return claimed;
      })
      .immediate();
  }

  /** Records a final result and deletes the sealed password. Only the lease holder may; false otherwise. */
  finish(id: string, owner: string, status: FinalStatus, detail: string | null, now = Date.now()): boolean {
    const result = this.#workSql(
      `UPDATE jobs SET status = ?, detail = ?, sealed_password = NULL, lease_owner = NULL, lease_until = NULL,
       updated_at = ? WHERE id = ? AND lease_owner = ? AND status = 'attempting'`,
    ).run(status, detail, now, id, owner);
    return result.changes === 1;
  }

  /** Gives a job back after a transient failure, due again at `retryAt`. */
  retryLater(id: string, owner: string, detail: string, retryAt: number, now = Date.now()): boolean {
    const result = this.#workSql(
      `UPDATE jobs SET detail = ?, next_attempt_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
       WHERE id = ? AND lease_owner = ? AND status = 'attempting'`,
    ).run(detail, retryAt, now, id, owner);
    return result.changes === 1;
  }

  /** A real, committed write, to learn whether the disk has room again; throws SQLITE_FULL when not. */
  probeStorage(now = Date.now()): void {
    this.#workSql(
      'INSERT INTO storage_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at',
    ).run(now);
  }

  /** When the next unleased job falls due (ms epoch), or undefined when nothing waits. */
  nextDueAt(): number | undefined {
    const row = this.#sql(
      `SELECT MIN(MAX(next_attempt_at, COALESCE(lease_until, 0))) AS due FROM jobs WHERE status IN ('pending', 'attempting')`,
    ).get() as { due: number | null };
    return row.due ?? undefined;
  }

  counts(): Record<JobStatus, number> {
    const counts: Record<JobStatus, number> = { pending: 0, attempting: 0, created: 0, conflict: 0, failed: 0 };
    for (const row of this.#sql('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status').all() as {
      status: JobStatus;
      n: number;
    }[]) {
      counts[row.status] = row.n;
    }
    return counts;
  }

  close(): void {
    this.#arrivals.close();
    this.#work.close();
    this.#db.close();
  }
}
