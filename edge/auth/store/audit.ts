/** The audit trail: ticketmaster → ticket → username, with timestamps. Callers pass no secrets, only names and selectors. */
import type { Db } from './db.js';

export type AuditEvent =
  | 'ticketmaster-added'
  | 'ticketmaster-revoked'
  | 'ticket-minted'
  | 'ticket-revoked'
  | 'ticket-redeemed'
  | 'account-created'
  | 'request-failed'
  | 'ticket-use-returned'
  | 'ticket-use-kept'
  | 'job-dead'
  | 'job-retried'
  | 'account-deleted'
  | 'account-delete-incomplete'
  | 'password-reset'
  /** The owner changed their password at /account (never the password itself). */
  | 'password-changed'
  /** `npm run rotate`: which secret, by whom; never a value. */
  | 'secret-rotated'
  /** `npm run restore`: which archive, by whom. */
  | 'backup-restored';

export interface AuditEntry {
  readonly at: number;
  readonly event: AuditEvent;
  readonly ticketmaster?: string | null;
  readonly ticketSelector?: string | null;
  readonly username?: string | null;
  readonly requestId?: string | null;
  readonly detail?: string | null;
}

export function audit(db: Db, entry: AuditEntry): void {
  db.prepare(
    `INSERT INTO audit (at, event, ticketmaster, ticket_selector, username, request_id, detail)
     VALUES (@at, @event, @ticketmaster, @ticketSelector, @username, @requestId, @detail)`,
  ).run({
    at: entry.at,
    event: entry.event,
    ticketmaster: entry.ticketmaster ?? null,
    ticketSelector: entry.ticketSelector ?? null,
    username: entry.username ?? null,
    requestId: entry.requestId ?? null,
    detail: entry.detail ?? null,
  });
}

export function listAudit(db: Db, limit = 1000): AuditEntry[] {
  return db
    .prepare(
      `SELECT at, event, ticketmaster, ticket_selector AS ticketSelector, username, request_id AS requestId, detail
       FROM audit ORDER BY id DESC LIMIT ?`,
    )
    .all(limit) as AuditEntry[];
}
