/**
 * The outbox: one job per server of each account request (written by redeem in requests.ts), which the dispatcher
 * delivers to that server's agent. A job is leased while in flight, records each attempt's outcome, and settles
 * its request once every server has answered; dead jobs keep their seal for a while so an admin can retry them.
 */
import { skeleton } from '../../shared/lookalikes.js';
import { audit } from './audit.js';
import type { Db } from './db.js';
import { isLookalikeReserved, settleRequest, type JobStatus, type RequestStatus, type Settlement } from './requests.js';

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
  return (
    db.prepare(`UPDATE jobs SET next_attempt_at = ? WHERE id = ? AND status = 'pending'`).run(until, jobId).changes ===
    1
  );
}

export type JobOutcome =
  | { readonly status: 'created' | 'conflict' | 'dead' | 'failed'; readonly detail?: string }
  | { readonly status: 'retry'; readonly nextAttemptAt: number; readonly detail: string }
  /** The agent has the job and is working on it ("pending"): ask again at nextAttemptAt; not a failed attempt. */
  | { readonly status: 'recheck'; readonly nextAttemptAt: number; readonly detail: string };

/** Records one delivery attempt's outcome and settles the request when every server has answered. */
export function recordJobOutcome(db: Db, jobId: string, outcome: JobOutcome, now: number): Settlement | null {
  return db
    .transaction((): Settlement | null => {
      const job = db.prepare(`SELECT request_id AS requestId, server, status FROM jobs WHERE id = ?`).get(jobId) as
        { requestId: string; server: string; status: JobStatus } | undefined;
      if (!job || job.status !== 'pending') return null;
      const detail = outcome.detail?.slice(0, 200) ?? null;
      if (outcome.status === 'retry' || outcome.status === 'recheck') {
        const counted = outcome.status === 'retry' ? 1 : 0;
        db.prepare(
          `UPDATE jobs SET attempts = attempts + ?, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?`,
        ).run(counted, outcome.nextAttemptAt, detail, now, jobId);
        return { requestId: job.requestId, status: 'pending', changed: false };
      }
      // A dead job keeps its seal so an admin can retry it; finished jobs drop theirs at once.
      const keepSeal = outcome.status === 'dead';
      db.prepare(
        `UPDATE jobs SET status = ?, attempts = attempts + 1, last_error = ?, updated_at = ?,
              sealed_password = CASE WHEN ? THEN sealed_password ELSE NULL END
       WHERE id = ?`,
      ).run(outcome.status, detail, now, keepSeal ? 1 : 0, jobId);
      if (outcome.status === 'dead')
        audit(db, { at: now, event: 'job-dead', requestId: job.requestId, detail: `${job.server}: ${detail ?? ''}` });
      return settleRequest(db, job.requestId, now);
    })
    .immediate();
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

class RetryError extends Error {}

/**
 * Puts a dead job back in the queue. When that leaves its request with no dead or conflicting server, the
 * request is pending again and takes its name back (refused if someone else has reserved it since).
 */
export function retryDeadJob(db: Db, jobId: string, now = Date.now()): void {
  db.transaction(() => {
    const job = db
      .prepare(
        `SELECT request_id AS requestId, server, status, sealed_password IS NOT NULL AS hasSeal FROM jobs WHERE id = ?`,
      )
      .get(jobId) as { requestId: string; server: string; status: JobStatus; hasSeal: number } | undefined;
    if (!job) throw new RetryError(`No job has the id ${jobId}.`);
    if (job.status !== 'dead')
      throw new RetryError(`Job ${jobId} is ${job.status}, not dead; only dead jobs can be retried.`);
    if (!job.hasSeal)
      throw new RetryError(
        `Job ${jobId} no longer holds its sealed password (kept for a limited time); the user must redeem a ticket again.`,
      );
    const request = db.prepare('SELECT username, status FROM requests WHERE id = ?').get(job.requestId) as {
      username: string;
      status: RequestStatus;
    };
    const others = db.prepare(`SELECT status FROM jobs WHERE request_id = ? AND id != ?`).all(job.requestId, jobId) as {
      status: JobStatus;
    }[];
    if (others.some((other) => other.status === 'conflict' || other.status === 'failed')) {
      throw new RetryError(
        `Request ${job.requestId} has a server in conflict or that refused it for good; it cannot complete.`,
      );
    }
    const revives = request.status === 'failed' && !others.some((other) => other.status === 'dead');
    if (revives) {
      const holder = db
        .prepare('SELECT request_id AS requestId FROM usernames WHERE username = ?')
        .get(request.username) as { requestId: string } | undefined;
      if (holder && holder.requestId !== job.requestId) {
        throw new RetryError(
          `The name "${request.username}" has since been reserved by request ${holder.requestId}; this job cannot be retried.`,
        );
      }
      if (!holder) {
        if (isLookalikeReserved(db, request.username)) {
          throw new RetryError(
            `A name that looks like "${request.username}" has since been reserved; this job cannot be retried.`,
          );
        }
        db.prepare('INSERT INTO usernames (username, request_id, reserved_at, skeleton) VALUES (?, ?, ?, ?)').run(
          request.username,
          job.requestId,
          now,
          skeleton(request.username),
        );
      }
      db.prepare(`UPDATE requests SET status = 'pending', finished_at = NULL WHERE id = ?`).run(job.requestId);
    }
    db.prepare(
      `UPDATE jobs SET status = 'pending', attempts = 0, next_attempt_at = ?, last_error = NULL, updated_at = ? WHERE id = ?`,
    ).run(now, now, jobId);
    audit(db, {
      at: now,
      event: 'job-retried',
      requestId: job.requestId,
      username: request.username,
      detail: job.server,
    });
  }).immediate();
}

/** Drops the seals of jobs dead for longer than the retention: no ciphertext of a password lingers for ever. */
export function purgeDeadSeals(db: Db, olderThan: number): number {
  return db
    .prepare(
      `UPDATE jobs SET sealed_password = NULL WHERE status = 'dead' AND sealed_password IS NOT NULL AND updated_at < ?`,
    )
    .run(olderThan).changes;
}

export function countJobs(db: Db): Record<JobStatus, number> {
  const counts: Record<JobStatus, number> = { pending: 0, created: 0, conflict: 0, dead: 0, failed: 0 };
  for (const row of db.prepare('SELECT status, count(*) AS n FROM jobs GROUP BY status').all() as {
    status: JobStatus;
    n: number;
  }[]) {
    counts[row.status] = row.n;
  }
  return counts;
}
