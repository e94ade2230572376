import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BAD_CREDENTIALS_MESSAGE } from '../../../edge/auth/errors.js';
import { GOOD_PASSWORD, ORIGIN, startHarness, type Harness } from './harness.js';

const METRICS_TOKEN = 'metrics-token-for-the-routes-tests-0123456789';
let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    agents: [{ name: 'jitsi-a' }, { name: 'jitsi-b' }],
    env: { MEET_METRICS_TOKEN: METRICS_TOKEN },
  });
});
afterAll(() => h.close());

describe('POST /generate_token', () => {
  it('mints a ticket for a valid ticketmaster token (JSON contract: exactly {ticket})', async () => {
    const res = await h.post('/generate_token', { token: await h.ticketmasterToken() });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['ticket']);
    expect(body.ticket).toMatch(/^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('honours uses and expiry within bounds and records the issuer', async () => {
    const res = await h.post('/generate_token', {
      token: await h.ticketmasterToken(),
      uses: '3',
      expires_in_hours: '2',
    });
    const { ticket } = (await res.json()) as { ticket: string };
    const row = h.db
      .prepare('SELECT uses_allowed AS u, expires_at - created_at AS ttl, issuer_id FROM tickets WHERE selector = ?')
      .get(ticket.split('.')[0]) as {
      u: number;
      ttl: number;
    };
    expect(row).toMatchObject({ u: 3, ttl: 2 * 3_600_000 });
  });

  it.each([
    [{ uses: '0' }, 'uses'],
    [{ uses: '101' }, 'uses'],
    [{ uses: '1.5' }, 'uses'],
    [{ expires_in_hours: '0' }, 'expires_in_hours'],
    [{ expires_in_hours: '721' }, 'expires_in_hours'],
    [{ expires_in_hours: 'soon' }, 'expires_in_hours'],
  ])('refuses out-of-bounds options %j with 400 and the field', async (extra, field) => {
    const res = await h.post('/generate_token', { token: await h.ticketmasterToken(), ...extra });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field });
  });

  it('refuses a bad token with 403 and the one generic message', async () => {
    const good = await h.ticketmasterToken();
    for (const token of ['nonsense', `${good.slice(0, -2)}xx`, `tm_${'A'.repeat(16)}.${'B'.repeat(43)}`]) {
      const res = await h.post('/generate_token', { token }, { from: '192.0.2.50' });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: BAD_CREDENTIALS_MESSAGE, code: 'bad_credentials', field: 'token' });
    }
  });

  it('refuses a missing token with 400 naming the field', async () => {
    const res = await h.post('/generate_token', {});
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: 'token' });
  });

  it('never reads the token from the URL', async () => {
    const token = await h.ticketmasterToken();
    const res = await h.app.request(`/generate_token?token=${encodeURIComponent(token)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(400);
  });

  it('renders the HTML form and the ticket page (no-store) for browsers', async () => {
    const form = await h.get('/generate_token');
    expect(form.status).toBe(200);
    const page = await form.text();
    expect(page).toContain('<label class="cdx-label" for="token">');
    expect(page).toContain('Wikimedia Meet');
    const res = await h.postForm('/generate_token', {
      token: await h.ticketmasterToken(),
      uses: '1',
      expires_in_hours: '24',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toMatch(
      /<code id="ticket" class="ticket"[^>]*>[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}<\/code>/,
    );
  });

  it('accepts multipart form data', async () => {
    const form = new FormData();
    form.set('token', await h.ticketmasterToken());
    const res = await h.app.request(`${ORIGIN}/generate_token`, {
      method: 'POST',
      headers: { origin: ORIGIN, accept: 'application/json' },
      body: form,
    });
    expect(res.status).toBe(200);
  });

  it('re-renders the form with the error for browsers', async () => {
    const res = await h.postForm('/generate_token', { token: 'wrong' }, { from: '192.0.2.51' });
    expect(res.status).toBe(403);
    const page = await res.text();
    expect(page).toContain('role="alert"');
    expect(page).toContain('aria-invalid="true"');
  });
});

describe('POST /create', () => {
  it('creates an account on every server and answers 202 {request, status: created}', async () => {
    const ticket = await h.ticket();
    const res = await h.post('/create', { user: 'Grace', password: GOOD_PASSWORD, token: ticket });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { request: string; status: string };
    expect(Object.keys(body).sort()).toEqual(['request', 'status']);
    expect(body.status).toBe('created');
    expect(body.request).toMatch(/^[A-Za-z0-9_-]{22}$/);
    for (const agent of h.agents)
      expect(agent.jobs.find((job) => job.username === 'grace')?.password).toBe(GOOD_PASSWORD);
    // The request id is not a job id.
    expect(h.agents.flatMap((agent) => agent.jobs.map((job) => job.id))).not.toContain(body.request);
    const status = await h.get(`/status/${body.request}`, { accept: 'application/json' });
    expect(await status.json()).toEqual({
      status: 'created',
      servers: [
        { name: 'jitsi-a', status: 'created' },
        { name: 'jitsi-b', status: 'created' },
      ],
    });
  });

  it('gives 409 for a name already in the registry (any case) and leaves the ticket usable', async () => {
    await h.post('/create', { user: 'hopper', password: GOOD_PASSWORD, token: await h.ticket() });
    const ticket = await h.ticket();
    const taken = await h.post('/create', { user: 'HOPPER', password: GOOD_PASSWORD, token: ticket });
    expect(taken.status).toBe(409);
    expect(await taken.json()).toMatchObject({ field: 'user' });
    const retry = await h.post('/create', { user: 'hopper2', password: GOOD_PASSWORD, token: ticket });
    expect(retry.status).toBe(202);
  });

  it('checks the ticket before anything else: bad ticket + bad name → 403, not 400', async () => {
    const res = await h.post(
      '/create',
      { user: 'has space', password: 'x', token: 'not-a-ticket' },
      { from: '192.0.2.60' },
    );
    expect(res.status).toBe(403);
  });

  it('refuses a used ticket with the same generic 403', async () => {
    const ticket = await h.ticket();
    expect((await h.post('/create', { user: 'lovelace', password: GOOD_PASSWORD, token: ticket })).status).toBe(202);
    const again = await h.post(
      '/create',
      { user: 'lovelace2', password: GOOD_PASSWORD, token: ticket },
      { from: '192.0.2.61' },
    );
    expect(again.status).toBe(403);
    expect(await again.json()).toEqual({ error: BAD_CREDENTIALS_MESSAGE, code: 'bad_credentials', field: 'token' });
  });

  it('validates username and password with a 400 naming the field', async () => {
    const ticket = await h.ticket();
    const badUser = await h.post('/create', { user: 'a b', password: GOOD_PASSWORD, token: ticket });
    expect(badUser.status).toBe(400);
    expect(await badUser.json()).toMatchObject({ field: 'user' });
    const badPassword = await h.post('/create', { user: 'shortpw', password: 'short', token: ticket });
    expect(badPassword.status).toBe(400);
    expect(await badPassword.json()).toMatchObject({ field: 'password' });
  });

  it('sends browsers to the status page with a 303, and the status page counts servers', async () => {
    const res = await h.postForm('/create', { user: 'turing', password: GOOD_PASSWORD, token: await h.ticket() });
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/status\/[A-Za-z0-9_-]{22}$/);
    const page = await (await h.get(location)).text();
    expect(page).toContain('created on 2 of 2 servers');
    expect(page).toContain('turing@meet.jitsi');
    expect(page).not.toContain('http-equiv="refresh"');
  });

  it('keeps a valid ticket in the re-rendered form but never a bad one', async () => {
    const ticket = await h.ticket();
    const res = await h.postForm('/create', { user: 'x y', password: GOOD_PASSWORD, token: ticket });
    expect(res.status).toBe(400);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toContain(`value="${ticket}"`);
    // Another last character (never the same one, or the "bad" ticket would be the good one).
    const wrong = `${ticket.slice(0, -1)}${ticket.endsWith('A') ? 'B' : 'A'}`;
    const bad = await h.postForm(
      '/create',
      { user: 'xy', password: GOOD_PASSWORD, token: wrong },
      { from: '192.0.2.62' },
    );
    expect(bad.status).toBe(403);
    expect(await bad.text()).not.toContain(ticket.slice(0, -1));
  });

  it('refuses cross-origin form posts (CSRF) with 403', async () => {
    const res = await h.app.request(`${ORIGIN}/create`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://evil.example',
        accept: 'application/json',
      },
      body: new URLSearchParams({ user: 'csrf', password: GOOD_PASSWORD, token: await h.ticket() }).toString(),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: 'This form must be sent from this site.', code: 'cross_origin' });
  });

  it('refuses a body over the limit with 413', async () => {
    const res = await h.post('/create', { user: 'big', password: 'x'.repeat(20_000), token: 'x' });
    expect(res.status).toBe(413);
    expect(await res.json()).toHaveProperty('error');
  });

  it('refuses unsupported content types, non-object JSON and non-string fields with 400', async () => {
    const ticket = await h.ticket();
    const text = await h.app.request('/create', {
      method: 'POST',
      headers: { 'content-type': 'application/xml', accept: 'application/json' },
      body: '<x/>',
    });
    expect(text.status).toBe(400);
    expect((await h.post('/create', '[1,2]')).status).toBe(400);
    expect((await h.post('/create', '{"user":')).status).toBe(400);
    const numeric = await h.post('/create', { user: 42, password: GOOD_PASSWORD, token: ticket });
    expect(numeric.status).toBe(400);
    expect(await numeric.json()).toMatchObject({ field: 'user' });
  });
});

describe('GET /status/:id', () => {
  it('answers 404 for an unknown or malformed id', async () => {
    expect((await h.get('/status/AAAAAAAAAAAAAAAAAAAAAA', { accept: 'application/json' })).status).toBe(404);
    expect((await h.get('/status/..%2F..%2Fetc', { accept: 'application/json' })).status).toBe(404);
  });
});

describe('operations', () => {
  it('GET /healthz', async () => {
    const res = await h.get('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /metrics in Prometheus format', async () => {
    const res = await h.get('/metrics', { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/meet_auth_redemptions_total\{outcome="accepted"\} \d+/);
    expect(text).toMatch(/meet_auth_jobs\{status="created"\} \d+/);
    expect(text).toContain('meet_auth_http_requests_total');
  });

  it('serves ACME challenge files and validates the token charset', async () => {
    mkdirSync(join(h.dataDir, 'acme-challenge'), { recursive: true });
    writeFileSync(join(h.dataDir, 'acme-challenge', 'tok_en-1'), 'tok_en-1.keyauth\n');
    const res = await h.get('/.well-known/acme-challenge/tok_en-1');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('tok_en-1.keyauth');
    expect((await h.get('/.well-known/acme-challenge/missing')).status).toBe(404);
    expect((await h.get('/.well-known/acme-challenge/..%2Fmeet-auth.sqlite')).status).toBe(404);
    expect((await h.get('/.well-known/acme-challenge/a.b')).status).toBe(404);
  });

  it('sets secure headers and a strict CSP on pages', async () => {
    const res = await h.get('/create');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('serves the stylesheet and a home page, and 404 elsewhere in both formats', async () => {
    expect((await h.get('/assets/meet.css')).headers.get('content-type')).toContain('text/css');
    expect(await (await h.get('/')).text()).toContain('Wikimedia Meet');
    expect((await h.get('/nope')).status).toBe(404);
    expect(await (await h.get('/nope', { accept: 'application/json' })).json()).toEqual({
      error: 'Nothing is here.',
      code: 'not_found',
    });
  });
});
