/**
 * A ticketmaster's own tickets, as their page shows them: never the verifier (only its hash is stored anyway), the
 * uses left, the expiry, who redeemed each; and revoking one of their own (never another's).
 */
import { audit } from './audit.js';
import type { Db } from './db.js';
import type { TicketListing } from './tickets.js';

/** How far back the page lists tickets that can no longer be used. */
const OWN_TICKETS_DAYS = 30;
/** The most tickets the list shows (newest first); keeps the page within its weight budget. */
export const MAX_OWN_TICKETS = 100;

type Row = Omit<TicketListing, 'state' | 'usernames'> & { usernames: string | null };

export function ticketsOf(db: Db, issuerId: string, now = Date.now()): TicketListing[] {
  const since = now - OWN_TICKETS_DAYS * 86_400_000;
  const rows = db
    .prepare(
      `SELECT k.selector, t.name AS issuer, k.created_at AS createdAt, k.expires_at AS expiresAt,
              k.uses_allowed AS usesAllowed, k.uses, k.revoked_at AS revokedAt,
              (SELECT json_group_array(r.username) FROM requests r WHERE r.ticket_selector = k.selector) AS usernames
       FROM tickets k JOIN ticketmasters t ON t.id = k.issuer_id
       WHERE k.issuer_id = ? AND (k.created_at >= ? OR (k.revoked_at IS NULL AND k.expires_at > ? AND k.uses < k.uses_allowed))
       ORDER BY k.created_at DESC LIMIT ${MAX_OWN_TICKETS}`,
    )
    .all(issuerId, since, now) as Row[];
  return rows.map((row) => ({
    ...row,
    usernames: row.usernames ? (JSON.parse(row.usernames) as string[]) : [],
    state:
      row.revokedAt !== null
        ? 'revoked'
        : row.uses >= row.usesAllowed
          ? 'used'
          : row.expiresAt <= now
            ? 'expired'
            : 'active',
  }));
}

/** Revokes `selector` when it is one of `issuer`'s tickets and not yet revoked; false otherwise (changes nothing). */
export function revokeOwnTicket(
  db: Db,
  issuer: { id: string; name: string },
  selector: string,
  now = Date.now(),
): boolean {
  return db
    .transaction(() => {
      const changed =
        db
          .prepare('UPDATE tickets SET revoked_at = ? WHERE selector = ? AND issuer_id = ? AND revoked_at IS NULL')
          .run(now, selector, issuer.id).changes === 1;
      if (changed)
        audit(db, {
          at: now,
          event: 'ticket-revoked',
          ticketmaster: issuer.name,
          ticketSelector: selector,
          detail: 'by the ticketmaster, on their page',
        });
      return changed;
    })
    .immediate();
}
