/**
 * Failed requests: POST /create answers "failed" for a request that failed while it was held, and each failure
 * counts against its ticket, so one ticket cannot buy an unbounded series of redemptions (RETURNS_PER_USE).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RETURNS_PER_USE } from '../../../edge/auth/store/tickets.js';
import { startHarness, type Harness } from './harness.js';

const PASSWORD = 'a perfectly fine password';
let h: Harness;
beforeAll(async () => {
  // The name "taken-*" exists on jitsi-b only (made by hand): every request for it fails there.
  h = await startHarness({
    agents: [{ name: 'jitsi-a' }, { name: 'jitsi-b', behave: (job) => (job.username.startsWith('taken-') ? { status: 'conflict' } : { status: 'created' }) }],
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

it.each([1, 2])('a ticket for %i use(s) gives its use back after at most %s failures per use, then it is spent', async (uses) => {
  const ticket = await h.ticket({ uses });
  const allowed = RETURNS_PER_USE * uses;
  for (let n = 0; n < allowed; n++) expect(await redeem(`taken-${uses}-${n}`, ticket)).toMatchObject({ code: 202, body: { status: 'failed' } });
  // The next failures keep the use: after `uses` of them the ticket is used up, and the status page says so.
  for (let n = 0; n < uses; n++) {
    const last = await redeem(`taken-${uses}-last-${n}`, ticket);
    expect(last).toMatchObject({ code: 202, body: { status: 'failed' } });
    const page = await (await h.get(`/status/${last.body.request}`)).text();
    expect(page).toContain('failed too often');
  }
  expect((await redeem(`free-${uses}`, ticket)).code).toBe(403);
  const row = h.db.prepare('SELECT uses, uses_allowed AS allowed FROM tickets WHERE selector = ?').get(ticket.split('.')[0]) as { uses: number; allowed: number };
  expect(row).toEqual({ uses, allowed: uses });
  const audit = h.db.prepare(`SELECT event FROM audit WHERE ticket_selector = ? AND event LIKE 'ticket-use-%'`).all(ticket.split('.')[0]) as { event: string }[];
  expect(audit.filter((a) => a.event === 'ticket-use-returned')).toHaveLength(allowed);
  expect(audit.filter((a) => a.event === 'ticket-use-kept')).toHaveLength(uses);
});

it('a ticket that failed within the bound still makes an account, and its status page says the use was given back', async () => {
  const ticket = await h.ticket();
  const failed = await redeem('taken-then-free', ticket);
  expect(await (await h.get(`/status/${failed.body.request}`)).text()).toContain('given back');
  expect(await redeem('then-free', ticket)).toMatchObject({ code: 202, body: { status: 'created' } });
});
