/**
 * `npm run rotate -- ticketmaster <name>`: a new secret for the same ticketmaster id, so their tickets, counts and
 * audit trail stay theirs. The hash is replaced in one transaction with the audit entry: from that commit on the
 * old token fails its bcrypt verify (it is looked up by the same id), and the new one works.
 */
import { hash } from '@node-rs/bcrypt';
import { audit } from './audit.js';
import type { Db } from './db.js';
import { randomId } from './ids.js';
import { DEFAULT_BCRYPT_COST, TicketmasterError } from './ticketmasters.js';

const SECRET_BYTES = 32;

export interface RotatableTicketmaster {
  readonly id: string;
  readonly name: string;
}

/** The active ticketmaster of that name, or a TicketmasterError saying why not. Reads only. */
export function findActiveTicketmaster(db: Db, rawName: string): RotatableTicketmaster {
  const name = rawName.trim();
  const row = db.prepare('SELECT id, name, revoked_at AS revokedAt FROM ticketmasters WHERE name = ?').get(name) as
    { id: string; name: string; revokedAt: number | null } | undefined;
  if (!row) throw new TicketmasterError(`No ticketmaster is named "${name}".`);
  if (row.revokedAt !== null) throw new TicketmasterError(`Ticketmaster "${name}" is revoked; add a new one instead.`);
  return { id: row.id, name: row.name };
}

/** Replaces the token's secret; returns the new token. `who` goes into the audit entry. */
export async function rotateTicketmasterToken(
  db: Db,
  rawName: string,
  who: string,
  cost = DEFAULT_BCRYPT_COST,
  now = Date.now(),
): Promise<string> {
  const { id, name } = findActiveTicketmaster(db, rawName);
  const secret = randomId(SECRET_BYTES);
  const secretHash = await hash(secret, { cost });
  db.transaction(() => {
    // Revoked while we hashed: keep it revoked.
    const changed = db
      .prepare('UPDATE ticketmasters SET secret_hash = ? WHERE id = ? AND revoked_at IS NULL')
      .run(secretHash, id).changes;
    if (changed !== 1) throw new TicketmasterError(`Ticketmaster "${name}" was revoked meanwhile; nothing changed.`);
    audit(db, { at: now, event: 'secret-rotated', ticketmaster: name, detail: `ticketmaster token rotated by ${who}` });
  })();
  return `tm_${id}.${secret}`;
}
