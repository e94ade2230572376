/** The store on its own: migrations, ticket lifecycle (expiry, uses, revoke, list), ticketmasters, audit trail. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../../edge/auth/store/audit.js';
import { migrate, openDatabase, type Db } from '../../../edge/auth/store/db.js';
import { MIGRATIONS } from '../../../edge/auth/store/migrations.js';
import { recordJobOutcome } from '../../../edge/auth/store/outbox.js';
import { getRequest, redeem } from '../../../edge/auth/store/requests.js';
import {
  addTicketmaster,
  listTicketmasters,
  revokeTicketmaster,
  TicketmasterError,
  verifyTicketmasterToken,
} from '../../../edge/auth/store/ticketmasters.js';
import {
  checkTicket,
  consumeTicketUse,
  listTickets,
  mintTicket,
  revokeTicket,
  selectorOf,
  TicketError,
} from '../../../edge/auth/store/tickets.js';

let dir: string;
let db: Db;
let issuer: { id: string; name: string };
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meet-auth-store-'));
  db = openDatabase(dir);
  await addTicketmaster(db, 'Ada', 4);
  issuer = db.prepare('SELECT id, name FROM ticketmasters').get() as typeof issuer;
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;

describe('database', () => {
  it('uses WAL and foreign keys, and migrating again is a no-op', () => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    migrate(db);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
  });

  it('refuses a database from a newer meet-auth', () => {
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    expect(() => migrate(db)).toThrow(/newer/);
  });
});

describe('tickets', () => {
  it('are <selector>.<verifier> with a 128+ bit verifier; only sha256(verifier) is stored, looked up by selector', () => {
    const { ticket, selector } = mintTicket(db, issuer);
    const [sel, verifier] = ticket.split('.') as [string, string];
    expect(sel).toBe(selector);
    expect(Buffer.from(verifier, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    const row = db.prepare('SELECT * FROM tickets WHERE selector = ?').get(selector) as Record<string, unknown>;
    expect(JSON.stringify(row)).not.toContain(verifier);
    expect((row.verifier_hash as Buffer).length).toBe(32);
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT * FROM tickets k JOIN ticketmasters t ON t.id = k.issuer_id WHERE k.selector = ?`,
      )
      .all('x') as { detail: string }[];
    expect(plan.map((step) => step.detail).join(' ')).toMatch(
      /SEARCH k USING INDEX sqlite_autoindex_tickets_1 \(selector=\?\)/,
    );
    expect(selectorOf(ticket)).toBe(selector);
  });

  it('default to 7 days and 1 use; expire; uses counted; ticket trimmed', () => {
    const now = Date.now();
    const { ticket, expiresAt, usesAllowed } = mintTicket(db, issuer, {}, now);
    expect(expiresAt - now).toBe(7 * 24 * HOUR);
    expect(usesAllowed).toBe(1);
    expect(checkTicket(db, ` ${ticket}\n`, now).ok).toBe(true);
    expect(checkTicket(db, ticket, expiresAt - 1).ok).toBe(true);
    expect(checkTicket(db, ticket, expiresAt).ok).toBe(false);
    const multi = mintTicket(db, issuer, { uses: 2 }, now);
    expect(consumeTicketUse(db, multi.selector, now)).toBe(true);
    expect(checkTicket(db, multi.ticket, now).ok).toBe(true);
    expect(consumeTicketUse(db, multi.selector, now)).toBe(true);
    expect(checkTicket(db, multi.ticket, now).ok).toBe(false);
    expect(consumeTicketUse(db, multi.selector, now)).toBe(false);
  });

  it('refuse out-of-range options', () => {
    for (const options of [{ uses: 0 }, { uses: 101 }, { uses: 1.5 }, { expiresInHours: 0 }, { expiresInHours: 721 }]) {
      expect(() => mintTicket(db, issuer, options)).toThrow(TicketError);
    }
  });

  it('can be revoked, and list shows state, uses and issuer', () => {
    const now = Date.now();
    const a = mintTicket(db, issuer, { uses: 3 }, now);
    const b = mintTicket(db, issuer, { expiresInHours: 1 }, now - 2 * HOUR);
    const c = mintTicket(db, issuer, {}, now);
    revokeTicket(db, c.selector);
    expect(checkTicket(db, c.ticket).ok).toBe(false);
    expect(() => revokeTicket(db, c.selector)).toThrow(/already revoked/);
    expect(() => revokeTicket(db, 'AAAAAAAAAAAAAAAA')).toThrow(/No ticket/);
    expect(listTickets(db).map((t) => t.selector)).toEqual([a.selector]);
    const all = Object.fromEntries(listTickets(db, { all: true }).map((t) => [t.selector, t]));
    expect(all[a.selector]).toMatchObject({ state: 'active', uses: 0, usesAllowed: 3, issuer: 'Ada' });
    expect(all[b.selector]!.state).toBe('expired');
    expect(all[c.selector]!.state).toBe('revoked');
  });

  it('a wrong verifier for a real selector fails without throwing (constant-time compare over digests)', () => {
    const { selector } = mintTicket(db, issuer);
    expect(checkTicket(db, `${selector}.${'A'.repeat(43)}`)).toEqual({ ok: false, credential: selector });
    expect(checkTicket(db, 'garbage')).toEqual({ ok: false, credential: null });
  });
});

describe('ticketmasters', () => {
  it('tokens are tm_<id>.<secret>, stored as bcrypt, one verify per check', async () => {
    const token = await addTicketmaster(db, 'Grace', 4);
    expect(token).toMatch(/^tm_[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
    const row = db.prepare(`SELECT secret_hash FROM ticketmasters WHERE name = 'Grace'`).get() as {
      secret_hash: string;
    };
    expect(row.secret_hash).toMatch(/^\$2[aby]\$04\$/);
    expect(row.secret_hash).not.toContain(token.split('.')[1]);
    expect((await verifyTicketmasterToken(db, token)).ok).toBe(true);
    expect((await verifyTicketmasterToken(db, `${token}x`)).ok).toBe(false);
    expect(
      await verifyTicketmasterToken(
        db,
        token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
      ),
    ).toMatchObject({ ok: false, credential: token.slice(3, 19) });
  });

  it('an unknown id costs one bcrypt verify of the current cost, like a known id with a wrong secret', async () => {
    const token = await addTicketmaster(db, 'Timing', 10);
    const wrongSecret = `${token.slice(0, token.indexOf('.') + 1)}${'z'.repeat(43)}`;
    const unknownId = `tm_${'q'.repeat(16)}.${'z'.repeat(43)}`;
    await verifyTicketmasterToken(db, unknownId); // the dummy hash is made once
    // Interleaved, so a load spike on a busy machine slows both series alike; medians of seven.
    const times = { known: [] as number[], unknown: [] as number[] };
    const timed = async (candidate: string, into: number[]) => {
      const started = performance.now();
      expect((await verifyTicketmasterToken(db, candidate)).ok).toBe(false);
      into.push(performance.now() - started);
    };
    for (let i = 0; i < 7; i++) {
      await timed(wrongSecret, times.known);
      await timed(unknownId, times.unknown);
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[3]!;
    const [known, unknown] = [median(times.known), median(times.unknown)];
    expect(unknown / known).toBeGreaterThan(0.5);
    expect(unknown / known).toBeLessThan(2);
    expect(await verifyTicketmasterToken(db, unknownId)).toEqual({ ok: false, credential: 'q'.repeat(16) });
  });

  it('names are validated and unique', async () => {
    await expect(addTicketmaster(db, 'Ada', 4)).rejects.toThrow(TicketmasterError);
    await expect(addTicketmaster(db, '', 4)).rejects.toThrow(TicketmasterError);
    await expect(addTicketmaster(db, 'a\nb', 4)).rejects.toThrow(TicketmasterError);
    await expect(addTicketmaster(db, 'x'.repeat(65), 4)).rejects.toThrow(TicketmasterError);
  });

  it('revoking one refuses their token and voids only their unredeemed tickets', async () => {
    const otherToken = await addTicketmaster(db, 'Other', 4);
    const other = db.prepare(`SELECT id, name FROM ticketmasters WHERE name = 'Other'`).get() as typeof issuer;
    const mine = mintTicket(db, issuer);
    const used = mintTicket(db, issuer);
    consumeTicketUse(db, used.selector, Date.now());
    const theirs = mintTicket(db, other);
    expect(revokeTicketmaster(db, 'Ada')).toBe(1);
    expect(checkTicket(db, mine.ticket).ok).toBe(false);
    expect(checkTicket(db, theirs.ticket).ok).toBe(true);
    expect((await verifyTicketmasterToken(db, otherToken)).ok).toBe(true);
    expect(listTicketmasters(db).find((t) => t.name === 'Ada')!.revokedAt).not.toBeNull();
    expect(() => revokeTicketmaster(db, 'Ada')).toThrow(/already revoked/);
  });
});

describe('audit trail', () => {
  it('records ticketmaster → ticket → username with timestamps and no secrets', () => {
    const now = Date.now();
    const { ticket, selector } = mintTicket(db, issuer, {}, now);
    redeem(db, {
      requestId: 'r1',
      selector,
      issuer: 'Ada',
      username: 'newbie',
      jobs: [{ id: 'j1', server: 's', sealedPassword: 'seal' }],
      now,
    });
    recordJobOutcome(db, 'j1', { status: 'created' }, now + 5);
    const trail = listAudit(db).reverse();
    expect(trail.map((e) => e.event)).toEqual([
      'ticketmaster-added',
      'ticket-minted',
      'ticket-redeemed',
      'account-created',
    ]);
    expect(trail[2]).toMatchObject({
      ticketmaster: 'Ada',
      ticketSelector: selector,
      username: 'newbie',
      requestId: 'r1',
      at: now,
    });
    expect(JSON.stringify(trail)).not.toContain(ticket.split('.')[1]);
    expect(JSON.stringify(trail)).not.toContain('seal');
    expect(getRequest(db, 'r1')).toEqual({
      id: 'r1',
      username: 'newbie',
      status: 'created',
      ticketReturned: false,
      servers: [{ name: 's', status: 'created' }],
    });
    expect(db.prepare('SELECT sealed_password FROM jobs').get()).toEqual({ sealed_password: null });
  });

  it('a redemption is one transaction: a taken name rolls back the ticket use', () => {
    const now = Date.now();
    const first = mintTicket(db, issuer, {}, now);
    const second = mintTicket(db, issuer, {}, now);
    expect(
      redeem(db, { requestId: 'r1', selector: first.selector, issuer: 'Ada', username: 'dup', jobs: [], now }),
    ).toEqual({ ok: true });
    expect(
      redeem(db, {
        requestId: 'r2',
        selector: second.selector,
        issuer: 'Ada',
        username: 'dup',
        jobs: [{ id: 'j2', server: 's', sealedPassword: 'x' }],
        now,
      }),
    ).toEqual({ ok: false, reason: 'taken' });
    expect(checkTicket(db, second.ticket, now).ok).toBe(true);
    expect(db.prepare(`SELECT count(*) AS n FROM requests WHERE id = 'r2'`).get()).toEqual({ n: 0 });
    expect(db.prepare(`SELECT count(*) AS n FROM jobs WHERE id = 'j2'`).get()).toEqual({ n: 0 });
  });
});
