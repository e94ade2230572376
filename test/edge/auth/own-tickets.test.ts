/** A ticketmaster's own tickets: `POST /generate_token/tickets` and `/generate_token/revoke`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTicket } from '../../../edge/auth/store/tickets.js';
import { GOOD_PASSWORD, ORIGIN, startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const mint = async (token: string, fields: Record<string, string> = {}) => {
  const res = await h.post('/generate_token', { token, ...fields });
  return ((await res.json()) as { ticket: string }).ticket;
};

describe('a ticketmaster sees their tickets', () => {
  it('lists only their own, without the secret part, with uses left, expiry and who redeemed them', async () => {
    const ada = await h.ticketmasterToken();
    const grace = await h.ticketmasterToken('Grace');
    const first = await mint(ada, { uses: '2', expires_in_hours: '24' });
    const theirs = await mint(grace);
    const redeemed = await h.post('/create', { user: 'lovelace', password: GOOD_PASSWORD, token: first });
    expect(redeemed.status).toBe(202);
    const res = await h.post('/generate_token/tickets', { token: ada });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();
    expect(text).not.toContain(first.split('.')[1]!);
    const { tickets } = JSON.parse(text) as { tickets: Record<string, unknown>[] };
    expect(tickets.map((ticket) => ticket.selector)).toEqual([first.split('.')[0]]);
    expect(tickets[0]).toMatchObject({ usesAllowed: 2, usesLeft: 1, state: 'active', redeemedBy: ['lovelace'] });
    expect(Date.parse(tickets[0]!.expiresAt as string) - Date.parse(tickets[0]!.createdAt as string)).toBe(
      24 * 3_600_000,
    );
    expect(text).not.toContain(theirs.split('.')[0]!);
  });

  it('the HTML list shows the same, with a revoke form per valid ticket (token in a hidden field of a no-store page)', async () => {
    const ada = await h.ticketmasterToken();
    const ticket = await mint(ada);
    const res = await h.postForm('/generate_token/tickets?uselang=ar', { token: ada });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('<html lang="ar" dir="rtl">');
    expect(text).toContain(`<tr id="ticket-${ticket.split('.')[0]}">`);
    expect(text).toContain(`<input type="hidden" name="selector" value="${ticket.split('.')[0]}">`);
    expect(text).toContain('action="/generate_token/revoke?uselang=ar"');
    expect(text).not.toContain(ticket.split('.')[1]!);
  });

  it('revokes one of their own tickets; it no longer redeems', async () => {
    const ada = await h.ticketmasterToken();
    const ticket = await mint(ada);
    const selector = ticket.split('.')[0]!;
    expect(await (await h.post('/generate_token/revoke', { token: ada, selector })).json()).toEqual({
      status: 'revoked',
      selector,
    });
    expect(checkTicket(h.db, ticket)).toMatchObject({ ok: false });
    expect((await h.post('/create', { user: 'toolate', password: GOOD_PASSWORD, token: ticket })).status).toBe(403);
    // Again: already revoked, the same refusal as for a ticket that is not theirs.
    expect(await h.post('/generate_token/revoke', { token: ada, selector }).then((res) => res.status)).toBe(400);
  });

  it("never another ticketmaster's ticket, nor one for a bad token; cross-site posts are refused", async () => {
    const ada = await h.ticketmasterToken();
    const grace = await h.ticketmasterToken('Hopper');
    const theirs = await mint(grace);
    const selector = theirs.split('.')[0]!;
    const other = await h.post('/generate_token/revoke', { token: ada, selector });
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({ field: 'selector', error: 'That is not one of your tickets.' });
    expect(
      (await h.post('/generate_token/revoke', { token: 'tm_bad.token', selector }, { from: '192.0.2.90' })).status,
    ).toBe(403);
    const forged = await h.app.request(`${ORIGIN}/generate_token/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ token: grace, selector }).toString(),
    });
    expect(forged.status).toBe(403);
    expect(checkTicket(h.db, theirs)).toMatchObject({ ok: true });
  });
});
