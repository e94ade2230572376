/**
 * Tickets `<selector>.<verifier>` (split token): the selector is the primary key we look up, and only
 * sha256(verifier) is stored, compared in constant time. The verifier has 256 random bits, so a fast hash
 * is enough and a leaked database holds no usable ticket.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { audit } from './audit.js';
import type { Db } from './db.js';
import { idLength, randomId } from './ids.js';

const SELECTOR_BYTES = 12;
const VERIFIER_BYTES = 32;
const TICKET_SHAPE = new RegExp(
  `^([A-Za-z0-9_-]{${idLength(SELECTOR_BYTES)}})\\.([A-Za-z0-9_-]{${idLength(VERIFIER_BYTES)}})$`,
);
const SELECTOR_SHAPE = new RegExp(`^[A-Za-z0-9_-]{${idLength(SELECTOR_BYTES)}}$`);

const HOUR_MS = 3_600_000;
export const DEFAULT_TICKET_HOURS = 7 * 24;
export const MAX_TICKET_HOURS = 30 * 24;
export const MAX_TICKET_USES = 100;

export class TicketError extends Error {}

export interface MintOptions {
  /** Hours until the ticket expires: 1 to 720, default 168 (7 days). */
  readonly expiresInHours?: number;
  /** How many accounts it may create: 1 to 100, default 1. */
  readonly uses?: number;
}

export interface MintedTicket {
  readonly ticket: string;
  readonly selector: string;
  readonly expiresAt: number;
  readonly usesAllowed: number;
}

function hashVerifier(verifier: string): Buffer {
  return createHash('sha256').update(verifier, 'utf8').digest();
}

export function mintTicket(
  db: Db,
  issuer: { id: string; name: string },
  options: MintOptions = {},
  now = Date.now(),
): MintedTicket {
  const hours = options.expiresInHours ?? DEFAULT_TICKET_HOURS;
  const uses = options.uses ?? 1;
  if (!Number.isInteger(hours) || hours < 1 || hours > MAX_TICKET_HOURS) {
    throw new TicketError(`Expiry must be a whole number of hours from 1 to ${MAX_TICKET_HOURS}.`);
  }
  if (!Number.isInteger(uses) || uses < 1 || uses > MAX_TICKET_USES) {
    throw new TicketError(`Uses must be a whole number from 1 to ${MAX_TICKET_USES}.`);
  }
  const selector = randomId(SELECTOR_BYTES);
  const verifier = randomId(VERIFIER_BYTES);
  const expiresAt = now + hours * HOUR_MS;
  db.transaction(() => {
    db.prepare(
      `INSERT INTO tickets (selector, verifier_hash, issuer_id, created_at, expires_at, uses_allowed)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(selector, hashVerifier(verifier), issuer.id, now, expiresAt, uses);
    audit(db, {
      at: now,
      event: 'ticket-minted',
      ticketmaster: issuer.name,
      ticketSelector: selector,
      detail: `uses ${uses}, ${hours} h`,
    });
  })();
  return { ticket: `${selector}.${verifier}`, selector, expiresAt, usesAllowed: uses };
}

export type TicketCheck =
  | { readonly ok: true; readonly selector: string; readonly issuer: string }
  /** `credential` is the selector of an existing ticket: the per-credential rate-limit key (null when unknown). */
  | { readonly ok: false; readonly credential: string | null };

/**
 * Checks a ticket without consuming it: right shape, known selector, matching verifier, not revoked,
 * not expired, a use left, issuer not revoked. Every failure looks the same to the caller's client.
 */
export function checkTicket(db: Db, ticket: string, now = Date.now()): TicketCheck {
  const match = TICKET_SHAPE.exec(ticket.trim());
  if (!match) return { ok: false, credential: null };
  const [, selector, verifier] = match as unknown as [string, string, string];
  const row = db
    .prepare(
      `SELECT k.verifier_hash AS verifierHash, k.expires_at AS expiresAt, k.uses, k.uses_allowed AS usesAllowed,
              k.revoked_at AS revokedAt, t.name AS issuer, t.revoked_at AS issuerRevokedAt
       FROM tickets k JOIN ticketmasters t ON t.id = k.issuer_id WHERE k.selector = ?`,
    )
    .get(selector) as
    | {
        verifierHash: Buffer;
        expiresAt: number;
        uses: number;
        usesAllowed: number;
        revokedAt: number | null;
        issuer: string;
        issuerRevokedAt: number | null;
      }
    | undefined;
  // An unknown selector is not a credential: counting it would let a flood of made-up ones fill memory.
  if (!row) return { ok: false, credential: null };
  const genuine = timingSafeEqual(row.verifierHash, hashVerifier(verifier));
  const usable =
    row.revokedAt === null && row.issuerRevokedAt === null && row.expiresAt > now && row.uses < row.usesAllowed;
  if (!genuine || !usable) return { ok: false, credential: selector };
  return { ok: true, selector, issuer: row.issuer };
}

/** Atomically takes one use of a ticket; false when it was used up, revoked or expired meanwhile. */
export function consumeTicketUse(db: Db, selector: string, now: number): boolean {
  return (
    db
      .prepare(
        `UPDATE tickets SET uses = uses + 1
         WHERE selector = ? AND revoked_at IS NULL AND expires_at > ? AND uses < uses_allowed
           AND issuer_id NOT IN (SELECT id FROM ticketmasters WHERE revoked_at IS NOT NULL)`,
      )
      .run(selector, now).changes === 1
  );
}

/**
 * A failed request gives its ticket's use back at most this many times per use the ticket was made for: enough
 * for someone who picked a name a server already has to pick another, never an unbounded series of redemptions
 * (each one a job on every server) from one ticket.
 */
export const RETURNS_PER_USE = 3;

/**
 * Counts a failed request against its ticket and gives the use back while the ticket's failures stay within
 * RETURNS_PER_USE per use; true when the use was given back.
 */
export function returnTicketUse(db: Db, selector: string): boolean {
  const row = db
    .prepare(
      'UPDATE tickets SET failures = failures + 1 WHERE selector = ? RETURNING failures, uses_allowed AS usesAllowed',
    )
    .get(selector) as { failures: number; usesAllowed: number } | undefined;
  if (!row || row.failures > RETURNS_PER_USE * row.usesAllowed) return false;
  return db.prepare('UPDATE tickets SET uses = uses - 1 WHERE selector = ? AND uses > 0').run(selector).changes === 1;
}

export interface TicketListing {
  readonly selector: string;
  readonly issuer: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly usesAllowed: number;
  readonly uses: number;
  readonly revokedAt: number | null;
  readonly state: 'active' | 'used' | 'expired' | 'revoked';
  /** Folded usernames requested with this ticket (who invited whom). */
  readonly usernames: readonly string[];
}

export function listTickets(db: Db, options: { all?: boolean } = {}, now = Date.now()): TicketListing[] {
  const rows = db
    .prepare(
      `SELECT k.selector, t.name AS issuer, k.created_at AS createdAt, k.expires_at AS expiresAt,
              k.uses_allowed AS usesAllowed, k.uses, k.revoked_at AS revokedAt,
              (SELECT group_concat(r.username, ' ') FROM requests r WHERE r.ticket_selector = k.selector) AS usernames
       FROM tickets k JOIN ticketmasters t ON t.id = k.issuer_id ORDER BY k.created_at`,
    )
    .all() as (Omit<TicketListing, 'state' | 'usernames'> & { usernames: string | null })[];
  const listed = rows.map((row) => ({
    ...row,
    usernames: row.usernames ? row.usernames.split(' ') : [],
    state: (row.revokedAt !== null
      ? 'revoked'
      : row.uses >= row.usesAllowed
        ? 'used'
        : row.expiresAt <= now
          ? 'expired'
          : 'active') as TicketListing['state'],
  }));
  return options.all ? listed : listed.filter((ticket) => ticket.state === 'active');
}

export function revokeTicket(db: Db, selector: string, now = Date.now()): void {
  if (!SELECTOR_SHAPE.test(selector))
    throw new TicketError('That is not a ticket selector (the part of a ticket before the dot).');
  db.transaction(() => {
    const row = db
      .prepare(
        'SELECT k.revoked_at AS revokedAt, t.name AS issuer FROM tickets k JOIN ticketmasters t ON t.id = k.issuer_id WHERE k.selector = ?',
      )
      .get(selector) as { revokedAt: number | null; issuer: string } | undefined;
    if (!row) throw new TicketError(`No ticket has the selector ${selector}.`);
    if (row.revokedAt !== null) throw new TicketError(`Ticket ${selector} is already revoked.`);
    db.prepare('UPDATE tickets SET revoked_at = ? WHERE selector = ?').run(now, selector);
    audit(db, { at: now, event: 'ticket-revoked', ticketmaster: row.issuer, ticketSelector: selector });
  })();
}

/** The selector of a ticket string (for revoking from a pasted ticket); null when malformed. */
export function selectorOf(ticket: string): string | null {
  return TICKET_SHAPE.exec(ticket.trim())?.[1] ?? null;
}
