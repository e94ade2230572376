import { afterEach, describe, expect, it } from 'vitest';
import { addressKey } from '../../../edge/auth/limits.js';
import { addTicketmaster } from '../../../edge/auth/store/ticketmasters.js';
import { GOOD_PASSWORD, startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const junkTicket = (i: number) => `${'Q'.repeat(15)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[i % 26]}.${'v'.repeat(43)}`;

describe('addressKey', () => {
  it('keys IPv4 by address and IPv6 by /64', () => {
    expect(addressKey('203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2::ff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:DB8:0001:0002:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });
});

describe('failed-verification limits', () => {
  it('gives a flooding address 429 with Retry-After after its budget, and only that address', async () => {
    h = await startHarness({ rateLimits: { addressFailures: 5, credentialFailures: 100, windowSeconds: 60 } });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push(
        (
          await h.post(
            '/create',
            { user: 'x', password: GOOD_PASSWORD, token: junkTicket(i) },
            { from: '203.0.113.66' },
          )
        ).status,
      );
    expect(statuses).toEqual([403, 403, 403, 403, 403, 429, 429, 429]);
    const limited = await h.post(
      '/create',
      { user: 'x', password: GOOD_PASSWORD, token: junkTicket(9) },
      { from: '203.0.113.66' },
    );
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(await limited.json()).toHaveProperty('error');
    expect(
      (await h.post('/create', { user: 'x', password: GOOD_PASSWORD, token: junkTicket(1) }, { from: '203.0.113.67' }))
        .status,
    ).toBe(403);
  });

  it('never limits a valid ticket by address: 50 people behind one NAT all get accounts while it is flooded', async () => {
    h = await startHarness({ rateLimits: { addressFailures: 5, credentialFailures: 100, windowSeconds: 600 } });
    const nat = '198.51.100.200';
    for (let i = 0; i < 20; i++)
      await h.post('/create', { user: 'x', password: GOOD_PASSWORD, token: junkTicket(i) }, { from: nat });
    expect(
      (await h.post('/create', { user: 'x', password: GOOD_PASSWORD, token: junkTicket(0) }, { from: nat })).status,
    ).toBe(429);
    const tickets = await Promise.all(Array.from({ length: 50 }, () => h!.ticket()));
    const answers = await Promise.all(
      tickets.map((token, i) =>
        h!.post('/create', { user: `attendee${i}`, password: GOOD_PASSWORD, token }, { from: nat }),
      ),
    );
    expect(answers.map((res) => res.status)).toEqual(Array(50).fill(202));
    expect(h.db.prepare('SELECT count(*) AS n FROM usernames').get()).toEqual({ n: 50 });
  });

  it('limits per credential across addresses, yet the genuine ticket still works', async () => {
    h = await startHarness({ rateLimits: { addressFailures: 100, credentialFailures: 3, windowSeconds: 60 } });
    const ticket = await h.ticket();
    const [selector] = ticket.split('.');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push(
        (
          await h.post(
            '/create',
            { user: 'x', password: GOOD_PASSWORD, token: `${selector}.${'w'.repeat(43)}` },
            { from: `192.0.2.${i + 1}` },
          )
        ).status,
      );
    expect(statuses).toEqual([403, 403, 403, 429, 429]);
    expect(
      (await h.post('/create', { user: 'genuine', password: GOOD_PASSWORD, token: ticket }, { from: '192.0.2.1' }))
        .status,
    ).toBe(202);
  });

  it("nobody but failures from the owner's own address can lock a ticketmaster out", async () => {
    h = await startHarness({ rateLimits: { addressFailures: 100, credentialFailures: 2, windowSeconds: 60 } });
    const token = await h.ticketmasterToken();
    const wrong = `${token.slice(0, token.indexOf('.') + 1)}${'z'.repeat(43)}`;
    // Strangers who know the id part, from many addresses (IPv4 and IPv6 /64s): each only spends its own budget.
    const strangers = [
      ...Array.from({ length: 12 }, (_, i) => `192.0.2.${i + 10}`),
      '2001:db8:1:2::1',
      '2001:db8:9:9::1',
    ];
    for (const from of strangers)
      expect((await h.post('/generate_token', { token: wrong }, { from })).status).toBe(403);
    expect((await h.post('/generate_token', { token }, { from: '198.51.100.20' })).status).toBe(200);
    // Failures from one address lock that id out there only, before bcrypt runs; the owner elsewhere goes on.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await h.post('/generate_token', { token: wrong }, { from: '192.0.2.200' })).status);
    expect(statuses).toEqual([403, 403, 429, 429]);
    expect((await h.post('/generate_token', { token }, { from: '192.0.2.200' })).status).toBe(429);
    expect((await h.post('/generate_token', { token }, { from: '198.51.100.20' })).status).toBe(200);
    // The same /64 is one address.
    for (let i = 0; i < 2; i++) await h.post('/generate_token', { token: wrong }, { from: `2001:db8:5:5::${i + 1}` });
    expect((await h.post('/generate_token', { token }, { from: '2001:db8:5:5::99' })).status).toBe(429);
    // Another ticketmaster is not affected, even from the locked address.
    expect(
      (await h.post('/generate_token', { token: await h.ticketmasterToken('Bob') }, { from: '192.0.2.200' })).status,
    ).toBe(200);
  });

  it('unknown ids are limited and answered exactly like known ones', async () => {
    h = await startHarness({ rateLimits: { addressFailures: 100, credentialFailures: 2, windowSeconds: 60 } });
    await h.ticketmasterToken();
    const unknown = `tm_${'u'.repeat(16)}.${'z'.repeat(43)}`;
    const answers = [];
    for (let i = 0; i < 3; i++) {
      const res = await h.post('/generate_token', { token: unknown }, { from: '192.0.2.201' });
      answers.push([res.status, await res.text()]);
    }
    const token = await h.ticketmasterToken();
    const known = `${token.slice(0, token.indexOf('.') + 1)}${'z'.repeat(43)}`;
    const knownAnswers = [];
    for (let i = 0; i < 3; i++) {
      const res = await h.post('/generate_token', { token: known }, { from: '192.0.2.202' });
      knownAnswers.push([res.status, await res.text()]);
    }
    expect(answers).toEqual(knownAnswers);
    expect(answers.map(([status]) => status)).toEqual([403, 403, 429]);
  });

  it('runs at most two bcrypt verifies at once per address (unknown ids cost one too), others unaffected', async () => {
    const harness = (h = await startHarness());
    const token = await addTicketmaster(harness.db, 'Slow', 11);
    const unknown = `tm_${'u'.repeat(16)}.${'z'.repeat(43)}`;
    const burst = await Promise.all(
      Array.from({ length: 5 }, () => harness.post('/generate_token', { token: unknown }, { from: '192.0.2.150' })),
    );
    const statuses = burst.map((res) => res.status).sort();
    expect(statuses).toEqual([403, 403, 429, 429, 429]);
    expect(burst.find((res) => res.status === 429)!.headers.get('retry-after')).toBe('1');
    const [mine, other] = await Promise.all([
      harness.post('/generate_token', { token }, { from: '198.51.100.30' }),
      harness.post('/generate_token', { token: unknown }, { from: '192.0.2.151' }),
    ]);
    expect([mine.status, other.status]).toEqual([200, 403]);
  });

  it('a valid ticketmaster token works from an address that is over its failure budget', async () => {
    h = await startHarness({ rateLimits: { addressFailures: 2, credentialFailures: 100, windowSeconds: 60 } });
    for (let i = 0; i < 3; i++) await h.post('/generate_token', { token: 'tm_junk' }, { from: '192.0.2.99' });
    expect((await h.post('/generate_token', { token: 'tm_junk' }, { from: '192.0.2.99' })).status).toBe(429);
    expect(
      (await h.post('/generate_token', { token: await h.ticketmasterToken() }, { from: '192.0.2.99' })).status,
    ).toBe(200);
  });

  it('does not count 400s (bad username with a valid ticket) as failures', async () => {
    h = await startHarness({ rateLimits: { addressFailures: 2, credentialFailures: 2, windowSeconds: 60 } });
    const ticket = await h.ticket();
    for (let i = 0; i < 6; i++)
      expect(
        (await h.post('/create', { user: 'bad name', password: GOOD_PASSWORD, token: ticket }, { from: '192.0.2.77' }))
          .status,
      ).toBe(400);
    expect(
      (await h.post('/create', { user: 'x', password: GOOD_PASSWORD, token: junkTicket(3) }, { from: '192.0.2.77' }))
        .status,
    ).toBe(403);
  });
});

describe('client address behind trusted proxies', () => {
  it('uses X-Forwarded-For only from a trusted proxy, right-most untrusted hop', async () => {
    h = await startHarness({
      trustedProxies: ['10.0.0.1'],
      rateLimits: { addressFailures: 1, credentialFailures: 100, windowSeconds: 60 },
    });
    const viaProxy = (xff: string) =>
      h!.post(
        '/create',
        { user: 'x', password: GOOD_PASSWORD, token: junkTicket(1) },
        { from: '10.0.0.1', headers: { 'x-forwarded-for': xff } },
      );
    expect((await viaProxy('203.0.113.1')).status).toBe(403);
    expect((await viaProxy('203.0.113.1')).status).toBe(429);
    // A client-written left part of the header does not change its bucket …
    expect((await viaProxy('203.0.113.99, 203.0.113.1')).status).toBe(429);
    // … and another client behind the proxy has its own bucket.
    expect((await viaProxy('203.0.113.2')).status).toBe(403);
    // An untrusted peer's X-Forwarded-For is ignored: it is keyed by its own address.
    const direct = (xff: string) =>
      h!.post(
        '/create',
        { user: 'x', password: GOOD_PASSWORD, token: junkTicket(1) },
        { from: '198.51.100.9', headers: { 'x-forwarded-for': xff } },
      );
    expect((await direct('203.0.113.50')).status).toBe(403);
    expect((await direct('203.0.113.51')).status).toBe(429);
  });
});

describe('counter storage', () => {
  it('keeps counters in rate-limits.sqlite (bounded memory, survives a restart), apart from the account store', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { openLimitsDatabase } = await import('../../../edge/auth/store/db.js');
    const { openFailureLimiter } = await import('../../../edge/auth/limits.js');
    const dir = mkdtempSync(join(tmpdir(), 'meet-limits-'));
    const config = { addressFailures: 2, credentialFailures: 50, windowSeconds: 60 };
    const first = openLimitsDatabase(dir);
    const limiter = await openFailureLimiter(config, first);
    for (let i = 0; i < 1000; i++) await limiter.fail(`2001:db8:${i.toString(16)}::1`, null);
    expect(await limiter.fail('203.0.113.5', 'ticket:abc')).toEqual({ limited: false });
    expect(await limiter.fail('203.0.113.5', 'ticket:abc')).toEqual({ limited: false });
    expect((first.prepare('SELECT count(*) AS n FROM failures_by_address').get() as { n: number }).n).toBe(1001);
    first.close();
    const second = openLimitsDatabase(dir);
    const restarted = await openFailureLimiter(config, second);
    expect(await restarted.fail('203.0.113.5', null)).toMatchObject({ limited: true });
    expect(await restarted.credentialBlocked('ticket:abc')).toEqual({ limited: false });
    second.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
