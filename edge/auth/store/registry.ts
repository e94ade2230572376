/**
 * The registry of account names as `npm run accounts` sees it: each reserved (folded) name with the request that
 * holds it, when it was asked for and which ticketmaster's ticket was used; and freeing a name once its account
 * is deleted everywhere, so it can be redeemed again.
 */
import { audit } from './audit.js';
import type { Db } from './db.js';
import type { RequestStatus } from './requests.js';

export interface RegistryEntry {
  readonly username: string;
  readonly requestId: string;
  readonly status: RequestStatus;
  /** When the account was asked for (ms). */
  readonly requestedAt: number;
  readonly finishedAt: number | null;
  readonly ticketmaster: string;
  readonly ticketSelector: string;
  /** Servers whose job is still being delivered (the account may yet appear there). */
  readonly pendingOn: readonly string[];
}

const SELECT = `
  SELECT u.username, r.id AS requestId, r.status, r.created_at AS requestedAt, r.finished_at AS finishedAt,
         tm.name AS ticketmaster, r.ticket_selector AS ticketSelector,
         (SELECT json_group_array(j.server) FROM jobs j WHERE j.request_id = r.id AND j.status = 'pending') AS pendingOn
  FROM usernames u
  JOIN requests r ON r.id = u.request_id
  JOIN tickets t ON t.selector = r.ticket_selector
  JOIN ticketmasters tm ON tm.id = t.issuer_id`;

type Row = Omit<RegistryEntry, 'pendingOn'> & { pendingOn: string };
const toEntry = (row: Row): RegistryEntry => ({ ...row, pendingOn: JSON.parse(row.pendingOn) as string[] });

export function listRegistry(db: Db): RegistryEntry[] {
  return (db.prepare(`${SELECT} ORDER BY u.username`).all() as Row[]).map(toEntry);
}

export function registryEntry(db: Db, username: string): RegistryEntry | null {
  const row = db.prepare(`${SELECT} WHERE u.username = ?`).get(username) as Row | undefined;
  return row ? toEntry(row) : null;
}

/** The request holding the reserved name `username`, or null when it is not reserved. */
function reservedBy(db: Db, username: string): string | null {
  const row = db.prepare('SELECT request_id AS requestId FROM usernames WHERE username = ?').get(username) as
    { requestId: string } | undefined;
  return row?.requestId ?? null;
}

/**
 * Records a delete (`detail`: what each server said) and, when `free`, releases the name so a ticket can make it
 * again. Only the reservation goes: the request and its audit trail stay.
 */
export function recordAccountDeleted(
  db: Db,
  username: string,
  detail: string,
  free: boolean,
  now = Date.now(),
): boolean {
  return db
    .transaction(() => {
      const requestId = reservedBy(db, username);
      const freed = free && requestId !== null;
      if (freed) db.prepare('DELETE FROM usernames WHERE username = ?').run(username);
      audit(db, {
        at: now,
        event: free ? 'account-deleted' : 'account-delete-incomplete',
        username,
        requestId,
        detail: freed ? `${detail}; name freed` : detail,
      });
      return freed;
    })
    .immediate();
}

/** Records a password reset: who and what each server said, never the password. */
export function recordPasswordReset(db: Db, username: string, detail: string, now = Date.now()): void {
  audit(db, { at: now, event: 'password-reset', username, requestId: reservedBy(db, username), detail });
}
