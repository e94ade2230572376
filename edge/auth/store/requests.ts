/**
 * Account requests and their outbox jobs: the state machine behind `/create` and `/status/:id`.
 *
 * A request is `pending` until every server has answered: `created` when all created the account, `failed`
 * as soon as one is in `conflict` (the name exists only there, made by hand) or `dead` (gave up). On failure,
 * once: the name's reservation is released and the ticket's use given back (within tickets.ts's RETURNS_PER_USE:
 * failures count against the ticket), so neither is lost to an outage or a hand-made account. Accounts already
 * made on other servers stay (never overwritten); a later redemption of that name is a conflict there.
 */
import { SqliteError } from 'better-sqlite3';
import { skeleton } from '../../shared/lookalikes.js';
import { GroupCommit } from '../../shared/group-commit.js';
import { audit } from './audit.js';
import type { Db } from './db.js';
import { consumeTicketUse, returnTicketUse } from './tickets.js';

export type RequestStatus = 'pending' | 'created' | 'failed';
/** `failed`: the agent refused the job for a reason no retry can fix (see its last_error); `dead`: gave up reaching it. */
export type JobStatus = 'pending' | 'created' | 'conflict' | 'dead' | 'failed';

export interface NewJob {
  readonly id: string;
  readonly server: string;
  readonly sealedPassword: string;
}

export interface RedeemInput {
  readonly requestId: string;
  readonly selector: string;
  readonly issuer: string;
  readonly username: string;
  readonly jobs: readonly NewJob[];
  readonly now: number;
}

export type RedeemOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: 'ticket' | 'taken' | 'lookalike' };

/** One transaction: take a ticket use, reserve the name (UNIQUE), write one outbox job per server. */
export function redeem(db: Db, input: RedeemInput): RedeemOutcome {
  const { requestId, selector, issuer, username, jobs, now } = input;
  try {
    return db.transaction((): RedeemOutcome => {
      if (!consumeTicketUse(db, selector, now)) return { ok: false, reason: 'ticket' };
      db.prepare(`INSERT INTO requests (id, username, ticket_selector, status, created_at) VALUES (?, ?, ?, 'pending', ?)`).run(
        requestId,
        username,
        selector,
        now,
      );
      // Throws SQLITE_CONSTRAINT_PRIMARYKEY when the name is taken, SQLITE_CONSTRAINT_UNIQUE when one that looks like
      // it is (the skeleton): the whole transaction rolls back.
      db.prepare('INSERT INTO usernames (username, request_id, reserved_at, skeleton) VALUES (?, ?, ?, ?)').run(username, requestId, now, skeleton(username));
      const insertJob = db.prepare(
        `INSERT INTO jobs (id, request_id, server, status, sealed_password, next_attempt_at, updated_at)
         VALUES (?, ?, ?, 'pending', ?, ?, ?)`,
      );
      for (const job of jobs) insertJob.run(job.id, requestId, job.server, job.sealedPassword, now, now);
      audit(db, { at: now, event: 'ticket-redeemed', ticketmaster: issuer, ticketSelector: selector, username, requestId });
      return { ok: true };
    }).immediate();
  } catch (error) {
    if (error instanceof SqliteError && error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return { ok: false, reason: 'taken' };
    if (error instanceof SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE' && error.message.includes('usernames.skeleton')) {
      // SQLite may check the skeleton's index before the name's own key: the same name is "taken", not a lookalike.
      return { ok: false, reason: isUsernameTaken(db, username) ? 'taken' : 'lookalike' };
    }
    throw error;
  }
}

const redemptionBatches = new WeakMap<Db, GroupCommit<RedeemInput, RedeemOutcome>>();

/**
 * Like redeem, but the redemptions of one turn of the event loop share a transaction (group commit, each in its
 * own savepoint): under a burst meet-auth takes many per turn. Resolves once the redemption is committed.
 */
export function redeemSoon(db: Db, input: RedeemInput): Promise<RedeemOutcome> {
  let batches = redemptionBatches.get(db);
  if (!batches) redemptionBatches.set(db, (batches = new GroupCommit(db, (one: RedeemInput) => redeem(db, one))));
  return batches.submit(input);
}

export function isUsernameTaken(db: Db, username: string): boolean {
  return db.prepare('SELECT 1 FROM usernames WHERE username = ?').get(username) !== undefined;
}

/** Whether a reserved name other than `username` has its confusable skeleton (looks like it). */
export function isLookalikeReserved(db: Db, username: string): boolean {
  return db.prepare('SELECT 1 FROM usernames WHERE skeleton = ? AND username != ?').get(skeleton(username), username) !== undefined;
}

export interface RequestView {
  readonly id: string;
  readonly username: string;
  readonly status: RequestStatus;
  /** Whether the failure of this request gave its ticket's use back (see RETURNS_PER_USE). */
  readonly ticketReturned: boolean;
  readonly servers: readonly { readonly name: string; readonly status: JobStatus }[];
}

export function getRequest(db: Db, requestId: string): RequestView | null {
  const row = db
    .prepare('SELECT id, username, status, ticket_returned_at IS NOT NULL AS returned FROM requests WHERE id = ?')
    .get(requestId) as { id: string; username: string; status: RequestStatus; returned: number } | undefined;
  if (!row) return null;
  const { returned, ...request } = row;
  const servers = db.prepare('SELECT server AS name, status FROM jobs WHERE request_id = ? ORDER BY server').all(requestId) as {
    name: string;
    status: JobStatus;
  }[];
  return { ...request, ticketReturned: returned === 1, servers };
}

export interface DueJob {
  readonly id: string;
  readonly requestId: string;
  readonly server: string;
  readonly username: string;
  readonly sealedPassword: string;
  readonly attempts: number;
}

export interface DueJobFilter {
  /** Only this agent's jobs. */
  readonly server: string;
  /** Jobs being delivered right now (leased in memory), left out by the query itself. */
  readonly exclude?: readonly string[];
}

/**
 * Up to `limit` jobs of one agent that are due now, oldest first. Jobs in flight are excluded in the query (not
 * filtered afterwards), so a full batch of them can never hide the due jobs behind it.
 */
export function dueJobs(db: Db, now: number, limit: number, filter: DueJobFilter): DueJob[] {
  return db
    .prepare(
      `SELECT j.id, j.request_id AS requestId, j.server, r.username, j.sealed_password AS sealedPassword, j.attempts
       FROM jobs j JOIN requests r ON r.id = j.request_id
       WHERE j.status = 'pending' AND j.next_attempt_at <= ? AND j.sealed_password IS NOT NULL AND j.server = ?
         AND j.id NOT IN (SELECT value FROM json_each(?))
       ORDER BY j.next_attempt_at LIMIT ?`,
    )
    .all(now, filter.server, JSON.stringify(filter.exclude ?? []), limit) as DueJob[];
}

export function getJob(db: Db, jobId: string): DueJob | null {
  return (
    (db
      .prepare(
        `SELECT j.id, j.request_id AS requestId, j.server, r.username, j.sealed_password AS sealedPassword, j.attempts
         FROM jobs j JOIN requests r ON r.id = j.request_id WHERE j.id = ? AND j.status = 'pending' AND j.sealed_password IS NOT NULL`,
      )
      .get(jobId) as DueJob | undefined) ?? null
  );
}

/** Claims a due job for one send: pushes its next attempt past the send's timeout so a poll does not pick it twice. */
export function leaseJob(db: Db, jobId: string, now: number, until: number): boolean {
  return (
    db
      .prepare(`UPDATE jobs SET next_attempt_at = ? WHERE id = ? AND status = 'pending' AND next_attempt_at <= ?`)
      .run(until, jobId, now).changes === 1
  );
}

/** Keeps a job leased while its delivery goes on (asking again after "pending"); false once it is no longer pending. */
export function extendJobLease(db: Db, jobId: string, until: number): boolean {
  return db.prepare(`UPDATE jobs SET next_attempt_at = ? WHERE id = ? AND status = 'pending'`).run(until, jobId).changes === 1;
}

export type JobOutcome =
  | { readonly status: 'created' | 'conflict' | 'dead' | 'failed'; readonly detail?: string }
  | { readonly status: 'retry'; readonly nextAttemptAt: number; readonly detail: string }
  /** The agent has the job and is working on it ("pending"): ask again at nextAttemptAt; not a failed attempt. */
  | { readonly status: 'recheck'; readonly nextAttemptAt: number; readonly detail: string };

export interface Settlement {
  readonly requestId: string;
  /** The request's status after this outcome, and whether this outcome changed it. */
  readonly status: RequestStatus;
  readonly changed: boolean;
}

/** Records one delivery attempt's outcome and settles the request when every server has answered. */
export function recordJobOutcome(db: Db, jobId: string, outcome: JobOutcome, now: number): Settlement | null {
  return db.transaction((): Settlement | null => {
    const job = db.prepare(`SELECT request_id AS requestId, server, status FROM jobs WHERE id = ?`).get(jobId) as
      | { requestId: string; server: string; status: JobStatus }
      | undefined;
    if (!job || job.status !== 'pending') return null;
    const detail = outcome.detail?.slice(0, 200) ?? null;
    if (outcome.status === 'retry' || outcome.status === 'recheck') {
      const counted = outcome.status === 'retry' ? 1 : 0;
      db.prepare(`UPDATE jobs SET attempts = attempts + ?, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?`).run(
        counted,
        outcome.nextAttemptAt,
        detail,
        now,
        jobId,
      );
      return { requestId: job.requestId, status: 'pending', changed: false };
    }
    // A dead job keeps its seal so an admin can retry it; finished jobs drop theirs at once.
    const keepSeal = outcome.status === 'dead';
    db.prepare(
      `UPDATE jobs SET status = ?, attempts = attempts + 1, last_error = ?, updated_at = ?,
              sealed_password = CASE WHEN ? THEN sealed_password ELSE NULL END
       WHERE id = ?`,
    ).run(outcome.status, detail, now, keepSeal ? 1 : 0, jobId);
    if (outcome.status === 'dead') audit(db, { at: now, event: 'job-dead', requestId: job.requestId, detail: `${job.server}: ${detail ?? ''}` });
    return settleRequest(db, job.requestId, now);
  }).immediate();
}

function settleRequest(db: Db, requestId: string, now: number): Settlement {
  const request = db
    .prepare(
      `SELECT status, username, ticket_selector AS selector, ticket_returned_at AS returnedAt, failure_counted AS counted
       FROM requests WHERE id = ?`,
    )
    .get(requestId) as { status: RequestStatus; username: string; selector: string; returnedAt: number | null; counted: number };
  const statuses = (db.prepare('SELECT status FROM jobs WHERE request_id = ?').all(requestId) as { status: JobStatus }[]).map((row) => row.status);
  const next: RequestStatus = statuses.some((s) => s === 'conflict' || s === 'dead' || s === 'failed')
    ? 'failed'
    : statuses.every((s) => s === 'created')
      ? 'created'
      : 'pending';
  if (next === request.status) return { requestId, status: next, changed: false };
  db.prepare('UPDATE requests SET status = ?, finished_at = ? WHERE id = ?').run(next, next === 'pending' ? null : now, requestId);
  if (next === 'created') {
    audit(db, { at: now, event: 'account-created', username: request.username, requestId, ticketSelector: request.selector });
  }
  if (next === 'failed') {
    audit(db, { at: now, event: 'request-failed', username: request.username, requestId, detail: statuses.join(' ') });
    db.prepare('DELETE FROM usernames WHERE request_id = ?').run(requestId);
    if (request.returnedAt === null && !request.counted) {
      db.prepare('UPDATE requests SET failure_counted = 1 WHERE id = ?').run(requestId);
      if (returnTicketUse(db, request.selector)) {
        db.prepare('UPDATE requests SET ticket_returned_at = ? WHERE id = ?').run(now, requestId);
        audit(db, { at: now, event: 'ticket-use-returned', ticketSelector: request.selector, requestId });
      } else {
        audit(db, { at: now, event: 'ticket-use-kept', ticketSelector: request.selector, requestId, detail: 'too many failed requests on this ticket' });
      }
    }
  }
  return { requestId, status: next, changed: true };
}

export interface JobListing {
  readonly id: string;
  readonly requestId: string;
  readonly server: string;
  readonly username: string;
  readonly status: JobStatus;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly updatedAt: number;
  readonly retryable: boolean;
}

export function listJobs(db: Db, filter: { status?: JobStatus } = {}): JobListing[] {
  const rows = db
    .prepare(
      `SELECT j.id, j.request_id AS requestId, j.server, r.username, j.status, j.attempts, j.last_error AS lastError,
              j.updated_at AS updatedAt, (j.status = 'dead' AND j.sealed_password IS NOT NULL) AS retryable
       FROM jobs j JOIN requests r ON r.id = j.request_id
       WHERE (@status IS NULL OR j.status = @status) ORDER BY j.updated_at`,
    )
    .all({ status: filter.status ?? null }) as (Omit<JobListing, 'retryable'> & { retryable: number })[];
  return rows.map((row) => ({ ...row, retryable: row.retryable === 1 }));
}

export class RetryError extends Error {}

/**
 * Puts a dead job back in the queue. When that leaves its request with no dead or conflicting server, the
 * request is pending again and takes its name back (refused if someone else has reserved it since).
 */
export function retryDeadJob(db: Db, jobId: string, now = Date.now()): void {
  db.transaction(() => {
    const job = db
      .prepare(`SELECT request_id AS requestId, server, status, sealed_password IS NOT NULL AS hasSeal FROM jobs WHERE id = ?`)
      .get(jobId) as { requestId: string; server: string; status: JobStatus; hasSeal: number } | undefined;
    if (!job) throw new RetryError(`No job has the id ${jobId}.`);
    if (job.status !== 'dead') throw new RetryError(`Job ${jobId} is ${job.status}, not dead; only dead jobs can be retried.`);
    if (!job.hasSeal) throw new RetryError(`Job ${jobId} no longer holds its sealed password (kept for a limited time); the user must redeem a ticket again.`);
    const request = db.prepare('SELECT username, status FROM requests WHERE id = ?').get(job.requestId) as { username: string; status: RequestStatus };
    const others = db.prepare(`SELECT status FROM jobs WHERE request_id = ? AND id != ?`).all(job.requestId, jobId) as { status: JobStatus }[];
    if (others.some((other) => other.status === 'conflict' || other.status === 'failed')) {
      throw new RetryError(`Request ${job.requestId} has a server in conflict or that refused it for good; it cannot complete.`);
    }
    const revives = request.status === 'failed' && !others.some((other) => other.status === 'dead');
    if (revives) {
      const holder = db.prepare('SELECT request_id AS requestId FROM usernames WHERE username = ?').get(request.username) as { requestId: string } | undefined;
      if (holder && holder.requestId !== job.requestId) {
        throw new RetryError(`The name "${request.username}" has since been reserved by request ${holder.requestId}; this job cannot be retried.`);
      }
      if (!holder) {
        if (isLookalikeReserved(db, request.username)) {
          throw new RetryError(`A name that looks like "${request.username}" has since been reserved; this job cannot be retried.`);
        }
        db.prepare('INSERT INTO usernames (username, request_id, reserved_at, skeleton) VALUES (?, ?, ?, ?)').run(request.username, job.requestId, now, skeleton(request.username));
      }
      db.prepare(`UPDATE requests SET status = 'pending', finished_at = NULL WHERE id = ?`).run(job.requestId);
    }
    db.prepare(`UPDATE jobs SET status = 'pending', attempts = 0, next_attempt_at = ?, last_error = NULL, updated_at = ? WHERE id = ?`).run(
      now,
      now,
      jobId,
    );
    audit(db, { at: now, event: 'job-retried', requestId: job.requestId, username: request.username, detail: job.server });
  }).immediate();
}

/** Drops the seals of jobs dead for longer than the retention: no ciphertext of a password lingers for ever. */
export function purgeDeadSeals(db: Db, olderThan: number): number {
  return db
    .prepare(`UPDATE jobs SET sealed_password = NULL WHERE status = 'dead' AND sealed_password IS NOT NULL AND updated_at < ?`)
    .run(olderThan).changes;
}

export function countJobs(db: Db): Record<JobStatus, number> {
  const counts: Record<JobStatus, number> = { pending: 0, created: 0, conflict: 0, dead: 0, failed: 0 };
  for (const row of db.prepare('SELECT status, count(*) AS n FROM jobs GROUP BY status').all() as { status: JobStatus; n: number }[]) {
    counts[row.status] = row.n;
  }
  return counts;
}

/** A real write (a page to the WAL, committed), to learn whether the disk has room again. Throws SQLITE_FULL when not. */
export function probeStorage(db: Db, now: number): void {
  db.prepare('INSERT INTO storage_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at').run(now);
}
