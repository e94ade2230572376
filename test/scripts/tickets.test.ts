import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../edge/auth/store/db.js';
import { recordJobOutcome } from '../../edge/auth/store/outbox.js';
import { redeem } from '../../edge/auth/store/requests.js';
import { addTicketmaster } from '../../edge/auth/store/ticketmasters.js';
import { checkTicket, mintTicket } from '../../edge/auth/store/tickets.js';

import { runScript as runRepoScript } from '../support/run-script.js';

/** Runs the real script against a temp MEET_DATA_DIR, as `npm run` does. */
const runScript = (script: string, args: readonly string[], env: Record<string, string>) =>
  runRepoScript(`scripts/${script}`, args, { env });

let dataDir: string;
let db: Db;
let active: string;
let redeemed: string;
const tickets = (...args: string[]) => runScript('tickets.mts', args, { MEET_DATA_DIR: dataDir });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'meet-tickets-cli-'));
  db = openDatabase(dataDir);
  await addTicketmaster(db, 'Grace', 4);
  const issuer = db.prepare('SELECT id, name FROM ticketmasters').get() as { id: string; name: string };
  active = mintTicket(db, issuer, { uses: 2 }).ticket;
  redeemed = mintTicket(db, issuer).ticket;
  const now = Date.now();
  redeem(db, {
    requestId: 'req-cli-1',
    selector: redeemed.split('.')[0]!,
    issuer: 'Grace',
    username: 'newbie',
    jobs: [{ id: 'job-cli-1', server: 'jitsi', sealedPassword: 'sealed-blob' }],
    now,
  });
  recordJobOutcome(db, 'job-cli-1', { status: 'dead', detail: 'gave up after 12 attempts: agent unreachable' }, now);
});
afterAll(() => {
  db.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run tickets', () => {
  it('--help prints usage and exits 0; bad commands exit 2', async () => {
    // Independent calls: run at once (each is a node process of its own).
    const [help, ...usageErrors] = await Promise.all([
      tickets('--help'),
      tickets(),
      tickets('explode'),
      tickets('revoke'),
      tickets('retry'),
      tickets('list', '--bogus'),
    ]);
    expect(help!.code).toBe(0);
    expect(help!.stdout).toContain('revoke <selector>');
    expect(usageErrors.map((result) => result.code)).toEqual([2, 2, 2, 2, 2]);
  });

  it('list shows usable tickets with issuer and uses, never verifiers; --all --json also names who redeemed them', async () => {
    const list = await tickets('list');
    expect(list.code).toBe(0);
    const [selector, verifier] = active.split('.') as [string, string];
    expect(list.stdout).toMatch(new RegExp(`${selector}\\s+Grace\\s+active\\s+0/2`));
    expect(list.stdout).not.toContain(verifier);
    const all = await tickets('list', '--all', '--json');
    const rows = JSON.parse(all.stdout) as { selector: string; state: string; usernames: string[] }[];
    // The request failed (dead job), so its use was given back: the ticket is active again and remembers newbie.
    expect(rows.find((row) => row.selector === redeemed.split('.')[0])).toMatchObject({
      state: 'active',
      usernames: ['newbie'],
    });
  });

  it('revoke makes a ticket unusable; unknown or malformed selectors fail clearly', async () => {
    const [selector] = active.split('.') as [string];
    const result = await tickets('revoke', selector);
    expect(result.code).toBe(0);
    expect(checkTicket(db, active).ok).toBe(false);
    // Neither refusal changes anything: they and the listing run at once.
    const [list, unknown, malformed] = await Promise.all([
      tickets('list', '--all'),
      tickets('revoke', 'AAAAAAAAAAAAAAAA'),
      tickets('revoke', 'x'),
    ]);
    expect(list.stdout).toMatch(new RegExp(`${selector}\\s+Grace\\s+revoked`));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No ticket has the selector');
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain('not a ticket selector');
  });

  it('jobs --dead lists dead jobs; retry puts one back and revives its request', async () => {
    const dead = await tickets('jobs', '--dead');
    expect(dead.code).toBe(0);
    expect(dead.stdout).toMatch(/job-cli-1\s+jitsi\s+newbie\s+dead/);
    expect(dead.stdout).not.toContain('sealed-blob');
    const retry = await tickets('retry', 'job-cli-1');
    expect(retry.code).toBe(0);
    expect(db.prepare('SELECT status FROM jobs WHERE id = ?').get('job-cli-1')).toEqual({ status: 'pending' });
    expect(db.prepare('SELECT status FROM requests WHERE id = ?').get('req-cli-1')).toEqual({ status: 'pending' });
    const again = await tickets('retry', 'job-cli-1');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('not dead');
    expect((await tickets('retry', '--all-dead')).stderr).toContain('No dead jobs');
  });

  it('audit shows who invited whom with timestamps and no secrets', async () => {
    const audit = await tickets('audit');
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/ticket-redeemed\s+Grace\s+\S+\s+newbie/);
    expect(audit.stdout).toMatch(/ticket-use-returned/);
    expect(audit.stdout).not.toContain(active.split('.')[1]);
    expect(audit.stdout).not.toContain(redeemed.split('.')[1]);
  });
});
