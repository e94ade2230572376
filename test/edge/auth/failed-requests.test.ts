/**
 * Failed requests: POST /create answers "failed" for a request that failed while it was held, and each failure
 * counts against its ticket, so one ticket cannot buy an unbounded series of redemptions (RETURNS_PER_USE); an
 * agent's refusal for good is a server status of its own, `failed`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../../edge/auth/store/db.js';
import { MIGRATIONS } from '../../../edge/auth/store/migrations.js';
import { RETURNS_PER_USE } from '../../../edge/auth/store/tickets.js';
import { startHarness, type Harness } from './harness.js';

const PASSWORD = 'a perfectly fine password';
let h: Harness;
beforeAll(async () => {
  // The name "taken-*" exists on jitsi-b only (made by hand): every request for it fails there.
  h = await startHarness({
    agents: [
      { name: 'jitsi-a' },
      {
        name: 'jitsi-b',
        behave: (job) => (job.username.startsWith('taken-') ? { status: 'conflict' } : { status: 'created' }),
      },
    ],
  });
});
afterAll(() => h?.close());

const redeem = async (user: string, token: string) => {
  const res = await h.post('/create', { user, password: PASSWORD, token });
  return { code: res.status, body: (await res.json()) as { request?: string; status?: string } };
};

it('answers "failed", not "pending", for a request that failed while it was held', async () => {
  const { code, body } = await redeem('taken-one', await h.ticket());
  expect(code).toBe(202);
  expect(body.status).toBe('failed');
  const status = await h.get(`/status/${body.request}`, { accept: 'application/json' });
  expect(await status.json()).toMatchObject({ status: 'failed' });
});

it.each([1, 2])(
  'a ticket for %i use(s) gives its use back after at most %s failures per use, then it is spent',
  async (uses) => {
    const ticket = await h.ticket({ uses });
    const allowed = RETURNS_PER_USE * uses;
    for (let n = 0; n < allowed; n++)
      expect(await redeem(`taken-${uses}-${n}`, ticket)).toMatchObject({ code: 202, body: { status: 'failed' } });
    // The next failures keep the use: after `uses` of them the ticket is used up, and the status page says so.
    for (let n = 0; n < uses; n++) {
      const last = await redeem(`taken-${uses}-last-${n}`, ticket);
      expect(last).toMatchObject({ code: 202, body: { status: 'failed' } });
      const page = await (await h.get(`/status/${last.body.request}`)).text();
      expect(page).toContain('failed too often');
    }
    expect((await redeem(`free-${uses}`, ticket)).code).toBe(403);
    const row = h.db
      .prepare('SELECT uses, uses_allowed AS allowed FROM tickets WHERE selector = ?')
      .get(ticket.split('.')[0]) as { uses: number; allowed: number };
    expect(row).toEqual({ uses, allowed: uses });
    const audit = h.db
      .prepare(`SELECT event FROM audit WHERE ticket_selector = ? AND event LIKE 'ticket-use-%'`)
      .all(ticket.split('.')[0]) as { event: string }[];
    expect(audit.filter((a) => a.event === 'ticket-use-returned')).toHaveLength(allowed);
    expect(audit.filter((a) => a.event === 'ticket-use-kept')).toHaveLength(uses);
  },
);

it('a ticket that failed within the bound still makes an account, and its status page says the use was given back', async () => {
  const ticket = await h.ticket();
  const failed = await redeem('taken-then-free', ticket);
  expect(await (await h.get(`/status/${failed.body.request}`)).text()).toContain('given back');
  expect(await redeem('then-free', ticket)).toMatchObject({ code: 202, body: { status: 'created' } });
});

it('an agent refusing a job for good makes that server "failed" with its reason (not dead, not retried), and the request fails', async () => {
  const refusing = await startHarness({
    agents: [
      { name: 'jitsi-a' },
      { name: 'jitsi-b', behave: () => ({ status: 'failed', detail: 'Invalid username' }) },
    ],
  });
  try {
    const res = await refusing.post('/create', { user: 'refused', password: PASSWORD, token: await refusing.ticket() });
    const body = (await res.json()) as { request: string; status: string };
    expect(body.status).toBe('failed');
    const status = await refusing.get(`/status/${body.request}`, { accept: 'application/json' });
    expect(await status.json()).toEqual({
      status: 'failed',
      servers: [
        { name: 'jitsi-a', status: 'created' },
        { name: 'jitsi-b', status: 'failed' },
      ],
    });
    const job = refusing.db
      .prepare(
        `SELECT status, attempts, last_error AS lastError, sealed_password AS seal FROM jobs WHERE server = 'jitsi-b'`,
      )
      .get();
    expect(job).toEqual({ status: 'failed', attempts: 1, lastError: 'agent refused: Invalid username', seal: null });
    expect(refusing.agents[1]!.jobs).toHaveLength(1);
    expect(await (await refusing.get(`/status/${body.request}`)).text()).toContain('refused the account');
  } finally {
    await refusing.close();
  }
});

it('the migration keeps every job of an older store and lets it take the new status', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'migrate-'));
  try {
    const old = new Database(join(dir, 'meet-auth.sqlite'));
    old.exec(MIGRATIONS[0]!);
    old.pragma('user_version = 1');
    old.exec(`INSERT INTO ticketmasters VALUES ('t', 'T', 'h', 1, NULL);
      INSERT INTO tickets (selector, verifier_hash, issuer_id, created_at, expires_at, uses_allowed) VALUES ('s', x'00', 't', 1, 9e15, 1);
      INSERT INTO requests (id, username, ticket_selector, status, created_at) VALUES ('r', 'kept', 's', 'pending', 1);
      INSERT INTO jobs (id, request_id, server, status, sealed_password, next_attempt_at, updated_at) VALUES ('j', 'r', 'a', 'dead', 'seal', 5, 6);`);
    old.close();
    const db = openDatabase(dir);
    expect(db.prepare('SELECT id, status, sealed_password AS seal, next_attempt_at AS due FROM jobs').all()).toEqual([
      { id: 'j', status: 'dead', seal: 'seal', due: 5 },
    ]);
    db.prepare(`UPDATE jobs SET status = 'failed'`).run();
    expect(
      db
        .prepare(
          `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' AND name LIKE 'jobs_%' ORDER BY name`,
        )
        .all(),
    ).toEqual([{ name: 'jobs_dead' }, { name: 'jobs_due' }]);
    expect(db.prepare('SELECT failures FROM tickets').get()).toEqual({ failures: 0 });
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
