/** /create refuses names that would pass for another: mixed scripts, and a skeleton an existing name has (UTS #39). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../../edge/auth/store/db.js';
import { MIGRATIONS } from '../../../edge/auth/store/migrations.js';
import { skeleton } from '../../../edge/shared/lookalikes.js';
import { GOOD_PASSWORD, startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

const redeem = async (user: string, token?: string) => {
  const res = await h.post('/create', { user, password: GOOD_PASSWORD, token: token ?? (await h.ticket()) });
  return { code: res.status, body: (await res.json()) as { error?: string; field?: string; status?: string } };
};

it('refuses a mixed-script name with 400, before anything is reserved, and the ticket stays good', async () => {
  const ticket = await h.ticket();
  const mixed = await redeem('p\u0430ypal', ticket);
  expect(mixed).toMatchObject({
    code: 400,
    body: { field: 'user', error: expect.stringMatching(/different scripts/) },
  });
  expect(h.db.prepare('SELECT count(*) AS n FROM usernames').get()).toEqual({ n: 0 });
  expect((await redeem('paypal', ticket)).body.status).toBe('created');
});

it('refuses, with 409, a name whose skeleton a reserved name has, in one script or another', async () => {
  expect((await redeem('modern')).body.status).toBe('created');
  expect(await redeem('rnodern')).toMatchObject({
    code: 409,
    body: { field: 'user', error: expect.stringMatching(/looks too much like/) },
  });
  expect((await redeem('a1ex')).body.status).toBe('created');
  expect(await redeem('alex')).toMatchObject({ code: 409 });
  expect((await redeem('op')).body.status).toBe('created');
  // Greek omicron and rho: one script, but it looks like "op".
  expect(await redeem('\u03BF\u03C1')).toMatchObject({ code: 409 });
  // The name itself is still "taken", as before.
  expect(await redeem('Modern')).toMatchObject({ code: 409, body: { error: expect.stringMatching(/already taken/) } });
  expect(h.db.prepare('SELECT skeleton FROM usernames WHERE username = ?').get('modern')).toEqual({
    skeleton: skeleton('modern'),
  });
});

it('two lookalikes redeemed at the same moment: the UNIQUE skeleton lets exactly one through', async () => {
  const names = ['moonbeam', 'rnoonbeam', 'moonbearn', 'rnoonbearn'];
  expect(new Set(names.map(skeleton)).size).toBe(1);
  const answers = await Promise.all(names.map((name) => redeem(name)));
  expect(answers.filter((a) => a.code === 202)).toHaveLength(1);
  expect(answers.filter((a) => a.code === 409)).toHaveLength(3);
});

it('the migration gives existing names their skeletons; of two old lookalikes both stay, and new lookalikes are refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skeleton-migrate-'));
  try {
    const old = new Database(join(dir, 'meet-auth.sqlite'));
    const before = MIGRATIONS.findIndex((sql) => sql.includes('usernames_by_skeleton'));
    old.transaction(() => MIGRATIONS.slice(0, before).forEach((sql) => old.exec(sql)))();
    old.pragma(`user_version = ${before}`);
    old.exec(`INSERT INTO ticketmasters VALUES ('t', 'T', 'h', 1, NULL);
      INSERT INTO tickets (selector, verifier_hash, issuer_id, created_at, expires_at, uses_allowed) VALUES ('s', x'00', 't', 1, 9e15, 3);
      INSERT INTO requests (id, username, ticket_selector, status, created_at) VALUES ('r1', 'modern', 's', 'created', 1), ('r2', 'rnodern', 's', 'created', 2);
      INSERT INTO usernames (username, request_id, reserved_at) VALUES ('modern', 'r1', 1), ('rnodern', 'r2', 2);`);
    old.close();
    const db = openDatabase(dir);
    expect(db.prepare('SELECT username, skeleton FROM usernames ORDER BY reserved_at').all()).toEqual([
      { username: 'modern', skeleton: skeleton('modern') },
      { username: 'rnodern', skeleton: null },
    ]);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
