/**
 * One test per feature where meet-auth must beat every comparable invite system: the original,
 * Prosody mod_invites, Snikket, Synapse, Mastodon, Discourse, Authentik.
 * Each test drives the real app and store; the detailed cases live in the other test files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../../edge/auth/store/audit.js';
import { revokeTicketmaster } from '../../../edge/auth/store/ticketmasters.js';
import { listTickets, revokeTicket } from '../../../edge/auth/store/tickets.js';
import { GOOD_PASSWORD, startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    agents: [
      { name: 'jitsi-1' },
      {
        name: 'jitsi-2',
        behave: (job) =>
          job.username === 'handmade'
            ? { status: 'conflict' }
            : job.delivery === 1
              ? { http: 503 }
              : { status: 'created' },
      },
    ],
    rateLimits: { addressFailures: 5, credentialFailures: 5, windowSeconds: 60 },
    holdMs: 3000,
  });
});
afterAll(() => h.close());

const mint = async (token: string, extra: Record<string, string> = {}) =>
  h.post('/generate_token', { token, ...extra });
const create = (user: string, token: string, from?: string) =>
  h.post('/create', { user, password: GOOD_PASSWORD, token }, from ? { from } : {});

describe('feature table rows', () => {
  it('per-person revocable ticketmaster credentials (original: one shared secret)', async () => {
    const ada = await h.ticketmasterToken('Ada L');
    const bob = await h.ticketmasterToken('Bob K');
    expect((await mint(ada)).status).toBe(200);
    const { ticket } = (await (await mint(ada)).json()) as { ticket: string };
    revokeTicketmaster(h.db, 'Ada L');
    expect((await mint(ada)).status).toBe(403);
    expect((await mint(bob)).status).toBe(200);
    // Revoking voided Ada's unredeemed ticket.
    expect((await create('adasguest', ticket)).status).toBe(403);
  });

  it('ticket expiry, counted uses, revoke and list (Prosody/Snikket: no use count; original: none)', async () => {
    const tm = await h.ticketmasterToken();
    const { ticket } = (await (await mint(tm, { uses: '2', expires_in_hours: '1' })).json()) as { ticket: string };
    const [selector] = ticket.split('.') as [string];
    const listed = listTickets(h.db).find((t) => t.selector === selector)!;
    expect(listed).toMatchObject({ usesAllowed: 2, uses: 0, state: 'active', issuer: 'Ada' });
    expect(listed.expiresAt - listed.createdAt).toBe(3_600_000);
    expect((await create('twouses1', ticket)).status).toBe(202);
    expect((await create('twouses2', ticket)).status).toBe(202);
    expect((await create('twouses3', ticket)).status).toBe(403);
    const other = (await (await mint(tm)).json()) as { ticket: string };
    revokeTicket(h.db, other.ticket.split('.')[0]!);
    expect((await create('revokedone', other.ticket)).status).toBe(403);
  });

  it('who invited whom: ticketmaster → ticket → username with timestamps (Synapse: none)', async () => {
    const ticket = await h.ticket();
    const before = Date.now();
    expect((await create('invitee', ticket)).status).toBe(202);
    const redeemed = listAudit(h.db).find(
      (entry) => entry.event === 'ticket-redeemed' && entry.username === 'invitee',
    )!;
    expect(redeemed).toMatchObject({ ticketmaster: 'Ada', ticketSelector: ticket.split('.')[0] });
    expect(redeemed.at).toBeGreaterThanOrEqual(before);
  });

  it('tickets stored hashed with O(1) lookup by selector (every anchor stores them in plaintext)', async () => {
    const ticket = await h.ticket();
    const [selector, verifier] = ticket.split('.') as [string, string];
    const row = h.db.prepare('SELECT * FROM tickets WHERE selector = ?').get(selector) as Record<string, unknown>;
    expect(JSON.stringify(row)).not.toContain(verifier);
    const plan = h.db
      .prepare('EXPLAIN QUERY PLAN SELECT verifier_hash FROM tickets WHERE selector = ?')
      .all(selector) as { detail: string }[];
    expect(plan[0]!.detail).toContain('USING INDEX');
  });

  it('existing names refused, never overwritten (original: prosodyctl register took accounts over)', async () => {
    expect((await create('Owner', await h.ticket())).status).toBe(202);
    const ticket = await h.ticket();
    expect((await create('OWNER', ticket)).status).toBe(409);
    // A name made by hand on one server: that server reports conflict and is left untouched.
    const res = await create('handmade', await h.ticket());
    const { request } = (await res.json()) as { request: string };
    const status = (await (await h.get(`/status/${request}`, { accept: 'application/json' })).json()) as {
      status: string;
      servers: { status: string }[];
    };
    expect(status.status).toBe('failed');
    expect(status.servers.map((server) => server.status)).toContain('conflict');
  });

  it('validation matching Prosody nodeprep/SASLprep (original: none)', async () => {
    const ticket = await h.ticket();
    for (const user of ['a b', 'a@b', 'a\u034fb', '']) expect((await create(user, ticket)).status).toBe(400);
    const res = await h.post('/create', { user: 'ＦＵＬＬ', password: GOOD_PASSWORD, token: ticket });
    expect(res.status).toBe(202);
    expect(h.agents[0]!.jobs.at(-1)!.username).toBe('full');
    expect(
      (await h.post('/create', { user: 'tabby', password: 'tab\tpassword!', token: await h.ticket() })).status,
    ).toBe(400);
  });

  it('signed, retried, idempotent fan-out to every server (original: unauthenticated, fire and forget)', async () => {
    const res = await create('fanout', await h.ticket());
    expect(((await res.json()) as { status: string }).status).toBe('created');
    const second = h.agents[1]!.jobs.filter((job) => job.username === 'fanout');
    expect(second.map((job) => job.delivery)).toEqual([1, 2]);
    expect(new Set(second.map((job) => job.id)).size).toBe(1);
    expect(h.agents.every((agent) => agent.rejected.length === 0)).toBe(true);
  });

  it('no plaintext password at rest (original: plaintext JSON queue, password in argv)', async () => {
    const canary = 'feature table canary pw';
    await h.post('/create', { user: 'restful', password: canary, token: await h.ticket() });
    const dump =
      JSON.stringify(h.db.prepare('SELECT * FROM jobs').all()) +
      JSON.stringify(h.db.prepare('SELECT * FROM audit').all());
    expect(dump).not.toContain(canary);
    expect(h.logLines.join('')).not.toContain(canary);
  });

  it('rate limits that cannot be turned against everyone (original: global sleep)', async () => {
    const shared = '198.51.100.99';
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await create('x', `${'B'.repeat(16)}.${'C'.repeat(43)}`, shared)).status);
    expect(statuses.at(-1)).toBe(429);
    // Someone with a valid ticket behind the same address is not limited, and nobody else waits.
    expect((await create('natuser', await h.ticket(), shared)).status).toBe(202);
    expect((await create('y', `${'B'.repeat(16)}.${'C'.repeat(43)}`, '198.51.100.100')).status).toBe(403);
  });
});
