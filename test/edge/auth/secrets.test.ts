/** A canary password must never reach the database file, its WAL, an outbox row or a log line. */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databasePath } from '../../../edge/auth/store/db.js';
import { startHarness, type Harness } from './harness.js';

const CANARY = 'Canary-Password 7c1e9d4f';
let h: Harness;
let ticketmasterToken: string;
const tickets: string[] = [];

function haystacks(): Record<string, Buffer> {
  const file = databasePath(h.dataDir);
  const found: Record<string, Buffer> = {};
  for (const suffix of ['', '-wal', '-shm'])
    if (existsSync(file + suffix)) found[`meet-auth.sqlite${suffix}`] = readFileSync(file + suffix);
  found.logs = Buffer.from(h.logLines.join(''));
  return found;
}

function expectAbsent(secret: string) {
  for (const [name, bytes] of Object.entries(haystacks())) {
    for (const encoding of ['utf8', 'utf16le'] as const) {
      expect(
        bytes.includes(Buffer.from(secret, encoding)),
        `${secret.slice(0, 8)}… found in ${name} (${encoding})`,
      ).toBe(false);
    }
  }
}

beforeAll(async () => {
  // One healthy server, one that never answers: its job stays in the outbox (dead, seal kept) for inspection.
  h = await startHarness({
    agents: [{ name: 'up' }, { name: 'down', behave: () => ({ http: 500 }) }],
    dispatch: { maxAttempts: 2 },
  });
  ticketmasterToken = await h.ticketmasterToken();
  for (let i = 0; i < 3; i++)
    tickets.push(
      ((await (await h.post('/generate_token', { token: ticketmasterToken })).json()) as { ticket: string }).ticket,
    );
  await h.post('/create', { user: 'canary1', password: CANARY, token: tickets[0] });
  await h.postForm('/create', { user: 'canary2', password: CANARY, token: tickets[1]! });
  // Refused requests carrying the canary too.
  await h.post('/create', { user: 'bad name', password: CANARY, token: tickets[2] });
  await h.post('/create', { user: 'canary3', password: CANARY, token: 'wrong.ticket' });
  await h.post('/create', { user: 'canary1', password: CANARY, token: tickets[2] });
});
afterAll(() => h.close());

describe('no plaintext secret at rest or in logs', () => {
  it('the password reached the agents (so the test is meaningful)', () => {
    expect(h.agents[0]!.jobs.filter((job) => job.password === CANARY).length).toBeGreaterThanOrEqual(2);
    expect(h.logLines.length).toBeGreaterThan(5);
    // The dead jobs keep their seals (for an admin retry): the outbox really holds password material.
    const sealed = h.db.prepare(`SELECT count(*) AS n FROM jobs WHERE sealed_password IS NOT NULL`).get() as {
      n: number;
    };
    expect(sealed.n).toBeGreaterThanOrEqual(2);
  });

  it('the canary password is in neither the database file, the WAL nor the logs', () => {
    expectAbsent(CANARY);
  });

  it('outbox rows hold only seals, which do not contain the password in any encoding', () => {
    const rows = h.db.prepare('SELECT * FROM jobs').all() as Record<string, unknown>[];
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(CANARY);
    for (const row of rows.filter((r) => r.sealed_password)) {
      expect(Buffer.from(row.sealed_password as string, 'base64url').includes(Buffer.from(CANARY))).toBe(false);
    }
  });

  it('tickets and ticketmaster secrets are stored only as hashes', () => {
    for (const ticket of tickets) expectAbsent(ticket.split('.')[1]!);
    expectAbsent(ticketmasterToken.split('.')[1]!);
  });

  it('after a checkpoint the main file still holds none of them', () => {
    h.db.pragma('wal_checkpoint(TRUNCATE)');
    expectAbsent(CANARY);
    for (const ticket of tickets) expectAbsent(ticket.split('.')[1]!);
  });

  it('the database directory and file are private', async () => {
    const { statSync } = await import('node:fs');
    expect(statSync(h.dataDir).mode & 0o077).toBe(0);
    expect(statSync(databasePath(h.dataDir)).mode & 0o077).toBe(0);
  });
});
