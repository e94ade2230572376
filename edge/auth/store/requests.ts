/**
 * Account requests: the state machine behind `/create` and `/status/:id` (their jobs, one per server: outbox.ts).
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

export type RedeemOutcome =
  { readonly ok: true } | { readonly ok: false; readonly reason: 'ticket' | 'taken' | 'lookalike' };

/** One transaction: take a ticket use, reserve the name (UNIQUE), write one outbox job per server. */
export function redeem(db: Db, input: RedeemInput): RedeemOutcome {
  const { requestId, selector, issuer, username, jobs, now } = input;
  try {
    return db
      .transaction((): RedeemOutcome => {
        if (!consumeTicketUse(db, selector, now)) return { ok: false, reason: 'ticket' };
        db.prepare(
          `INSERT INTO requests (id, username, ticket_selector, status, created_at) VALUES (?, ?, ?, 'pending', ?)`,
        ).run(requestId, username, selector, now);
        // Throws SQLITE_CONSTRAINT_PRIMARYKEY when the name is taken, SQLITE_CONSTRAINT_UNIQUE when one that looks like
        // it is (the skeleton): the whole transaction rolls back.
        db.prepare('INSERT INTO usernames (username, request_id, reserved_at, skeleton) VALUES (?, ?, ?, ?)').run(
          username,
          requestId,
          now,
          skeleton(username),
        );
        const insertJob = db.prepare(
          `INSERT INTO jobs (id, request_id, server, status, sealed_password, next_attempt_at, updated_at)
         VALUES (?, ?, ?, 'pending', ?, ?, ?)`,
        );
        for (const job of jobs) insertJob.run(job.id, requestId, job.server, job.sealedPassword, now, now);
        audit(db, {
          at: now,
          event: 'ticket-redeemed',
          ticketmaster: issuer,
          ticketSelector: selector,
          username,
          requestId,
        });
        return { ok: true };
      })
      .immediate();
  } catch (error) {
    if (error instanceof SqliteError && error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
      return { ok: false, reason: 'taken' };
    if (
      error instanceof SqliteError &&
      error.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
      error.message.includes('usernames.skeleton')
    ) {
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
  return (
    db.prepare('SELECT 1 FROM usernames WHERE skeleton = ? AND username != ?').get(skeleton(username), username) !==
    undefined
  );
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
  const servers = db
    .prepare('SELECT server AS name, status FROM jobs WHERE request_id = ? ORDER BY server')
    .all(requestId) as {
    name: string;
    status: JobStatus;
  }[];
  return { ...request, ticketReturned: returned === 1, servers };
}

export interface Settlement {
  readonly requestId: string;
  /** The request's status after this outcome, and whether this outcome changed it. */
  readonly status: RequestStatus;
  readonly changed: boolean;
}

/** Moves a request to the status its jobs give it, with what failing once entails (see the top of this file). */
export function settleRequest(db: Db, requestId: string, now: number): Settlement {
  const request = db
    .prepare(
      `SELECT status, username, ticket_selector AS selector, ticket_returned_at AS returnedAt, failure_counted AS counted
       FROM requests WHERE id = ?`,
    )
    .get(requestId) as {
    status: RequestStatus;
    username: string;
    selector: string;
    returnedAt: number | null;
    counted: number;
  };
  const statuses = (
    db.prepare('SELECT status FROM jobs WHERE request_id = ?').all(requestId) as { status: JobStatus }[]
  ).map((row) => row.status);
  const next: RequestStatus = statuses.some((s) => s === 'conflict' || s === 'dead' || s === 'failed')
    ? 'failed'
    : statuses.every((s) => s === 'created')
      ? 'created'
      : 'pending';
  if (next === request.status) return { requestId, status: next, changed: false };
  db.prepare('UPDATE requests SET status = ?, finished_at = ? WHERE id = ?').run(
    next,
    next === 'pending' ? null : now,
    requestId,
  );
  if (next === 'created') {
    audit(db, {
      at: now,
      event: 'account-created',
      username: request.username,
      requestId,
      ticketSelector: request.selector,
    });
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
        audit(db, {
          at: now,
          event: 'ticket-use-kept',
          ticketSelector: request.selector,
          requestId,
          detail: 'too many failed requests on this ticket',
        });
      }
    }
  }
  return { requestId, status: next, changed: true };
}
