/**
 * Ticketmasters: named, per-person credentials `tm_<id>.<secret>`. The id part is looked up (so one request
 * costs at most one bcrypt verify); only a bcrypt hash of the secret is stored. Revoking one voids every
 * ticket of theirs that still has uses left.
 */
import { hash, verify } from '@node-rs/bcrypt';
import { SqliteError } from 'better-sqlite3';
import { audit } from './audit.js';
import type { Db } from './db.js';
import { idLength, randomId } from './ids.js';

const ID_BYTES = 12;
const SECRET_BYTES = 32;
export const DEFAULT_BCRYPT_COST = 10;
const TOKEN_SHAPE = new RegExp(
  `^tm_([A-Za-z0-9_-]{${idLength(ID_BYTES)}})\\.([A-Za-z0-9_-]{${idLength(SECRET_BYTES)}})$`,
);
const NAME_SHAPE = /^[\p{L}\p{N}][\p{L}\p{N} ._@-]{0,63}$/u;

export interface Ticketmaster {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

export interface TicketmasterSummary extends Ticketmaster {
  readonly ticketsIssued: number;
  readonly accountsRequested: number;
}

export class TicketmasterError extends Error {}

function checkTicketmasterName(name: string): string {
  const trimmed = name.trim();
  if (!NAME_SHAPE.test(trimmed)) {
    throw new TicketmasterError(
      'A ticketmaster name is 1 to 64 letters, digits, spaces or ". _ @ -", starting with a letter or digit.',
    );
  }
  return trimmed;
}

/** Adds a ticketmaster and returns their token; the token exists nowhere else afterwards. */
export async function addTicketmaster(
  db: Db,
  rawName: string,
  cost = DEFAULT_BCRYPT_COST,
  now = Date.now(),
): Promise<string> {
  const name = checkTicketmasterName(rawName);
  if (db.prepare('SELECT 1 FROM ticketmasters WHERE name = ?').get(name)) {
    throw new TicketmasterError(
      `A ticketmaster named "${name}" already exists (revoked ones keep their name for the audit trail).`,
    );
  }
  const id = randomId(ID_BYTES);
  const secret = randomId(SECRET_BYTES);
  const secretHash = await hash(secret, { cost });
  try {
    db.transaction(() => {
      db.prepare('INSERT INTO ticketmasters (id, name, secret_hash, created_at) VALUES (?, ?, ?, ?)').run(
        id,
        name,
        secretHash,
        now,
      );
      audit(db, { at: now, event: 'ticketmaster-added', ticketmaster: name });
    })();
  } catch (error) {
    // Someone added the same name while we were hashing.
    if (error instanceof SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE')
      throw new TicketmasterError(`A ticketmaster named "${name}" already exists.`);
    throw error;
  }
  return `tm_${id}.${secret}`;
}

export function listTicketmasters(db: Db): TicketmasterSummary[] {
  return db
    .prepare(
      `SELECT t.id, t.name, t.created_at AS createdAt, t.revoked_at AS revokedAt,
              (SELECT count(*) FROM tickets k WHERE k.issuer_id = t.id) AS ticketsIssued,
              (SELECT count(*) FROM requests r JOIN tickets k ON k.selector = r.ticket_selector WHERE k.issuer_id = t.id)
                AS accountsRequested
       FROM ticketmasters t ORDER BY t.name`,
    )
    .all() as TicketmasterSummary[];
}

/** Revokes a ticketmaster and voids their tickets that still have uses left. Returns how many tickets were voided. */
export function revokeTicketmaster(db: Db, rawName: string, now = Date.now()): number {
  const name = rawName.trim();
  return db.transaction(() => {
    const row = db.prepare('SELECT id, revoked_at AS revokedAt FROM ticketmasters WHERE name = ?').get(name) as
      { id: string; revokedAt: number | null } | undefined;
    if (!row) throw new TicketmasterError(`No ticketmaster is named "${name}".`);
    if (row.revokedAt !== null) throw new TicketmasterError(`Ticketmaster "${name}" is already revoked.`);
    db.prepare('UPDATE ticketmasters SET revoked_at = ? WHERE id = ?').run(now, row.id);
    const voided = db
      .prepare('UPDATE tickets SET revoked_at = ? WHERE issuer_id = ? AND revoked_at IS NULL AND uses < uses_allowed')
      .run(now, row.id).changes;
    audit(db, {
      at: now,
      event: 'ticketmaster-revoked',
      ticketmaster: name,
      detail: `${voided} unredeemed ticket(s) voided`,
    });
    return voided;
  })();
}

export type TokenCheck =
  | { readonly ok: true; readonly ticketmaster: Ticketmaster }
  /** `credential` is the token's id part (the per-credential rate-limit key, with the client's address); null when malformed. */
  | { readonly ok: false; readonly credential: string | null };

/** Splits a token into its id part, without touching the database; null when malformed. */
export function ticketmasterIdOf(token: string): string | null {
  return TOKEN_SHAPE.exec(token.trim())?.[1] ?? null;
}

/** One hash per cost to verify unknown ids against, so they cost what a known id costs. */
const dummyHashes = new Map<number, Promise<string>>();

function dummyHash(cost: number): Promise<string> {
  let made = dummyHashes.get(cost);
  if (!made) dummyHashes.set(cost, (made = hash(randomId(SECRET_BYTES), { cost })));
  return made;
}

/** The cost of the newest ticketmaster's hash (what new tokens get), else the default. */
function currentCost(db: Db): number {
  const row = db
    .prepare('SELECT secret_hash AS secretHash FROM ticketmasters ORDER BY created_at DESC LIMIT 1')
    .get() as { secretHash: string } | undefined;
  const cost = Number(/^\$2[abxy]?\$(\d{2})\$/.exec(row?.secretHash ?? '')?.[1]);
  return Number.isInteger(cost) && cost >= 4 && cost <= 31 ? cost : DEFAULT_BCRYPT_COST;
}

/**
 * Verifies a ticketmaster token: one indexed lookup, then exactly one bcrypt verify, also for an id nobody has
 * (against a dummy hash of the current cost), so the answer's timing does not tell which ids exist.
 */
export async function verifyTicketmasterToken(db: Db, token: string): Promise<TokenCheck> {
  const match = TOKEN_SHAPE.exec(token.trim());
  if (!match) return { ok: false, credential: null };
  const [, id, secret] = match as unknown as [string, string, string];
  const row = db
    .prepare(
      'SELECT id, name, secret_hash AS secretHash, created_at AS createdAt, revoked_at AS revokedAt FROM ticketmasters WHERE id = ?',
    )
    .get(id) as (Ticketmaster & { secretHash: string }) | undefined;
  const matches = await verify(secret, row?.secretHash ?? (await dummyHash(currentCost(db))));
  if (!row || !matches || row.revokedAt !== null) return { ok: false, credential: id };
  const { secretHash: _omit, ...ticketmaster } = row;
  return { ok: true, ticketmaster };
}
