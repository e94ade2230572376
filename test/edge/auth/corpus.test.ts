/**
 * A corpus of bad usernames, passwords, tickets and bodies (well over 200): every one gets a 4xx and leaves
 * the database exactly as it was (a full dump compared before and after).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeTicket, mintTicket } from '../../../edge/auth/store/tickets.js';
import { revokeTicketmaster } from '../../../edge/auth/store/ticketmasters.js';
import { dumpDatabase, GOOD_PASSWORD, ORIGIN, startHarness, type Harness } from './harness.js';

let h: Harness;
let validTicket: string;
const badTickets: string[] = [];

const BAD_USERNAMES = [
  '',
  ' ',
  '  leading',
  'trailing ',
  'a b',
  'a\tb',
  'a\nb',
  'a\rb',
  'a\u0000b',
  'a\u00a0b',
  'a\u3000b',
  'a\u200bb',
  '\u200b',
  'a\u202eb',
  'a\ufeffb',
  '.dot',
  'dot.',
  '-dash',
  'dash-',
  '_under',
  'under_',
  '..',
  '.',
  '-',
  '_',
  ...'@/:\'"<>&+=,;!?#$%^*()[]{}|\\`~'.split('').map((c) => `a${c}b`),
  'x'.repeat(65),
  'é'.repeat(64),
  'ü'.repeat(100),
  '😀',
  'a😀b',
  '\ue000abc',
  'abc\ue000',
  'שלוםabc',
  'abcשלום',
  'ש1ab',
  'a\u0301'.repeat(1) + ' ',
  '\u0301a',
  '\u2028a',
  'a\u2029',
  'a\u180eb',
  'a\u034fb',
  'admin@meet.jitsi',
  'user/resource',
  'x'.repeat(300),
  // Nodeprep maps these to nothing: accepting them would let two registry names be one Prosody account.
  'a\u00adb',
  'a\u2060b',
  'a\ufe0fb',
  'a\ufe00b',
  'a\u180bb',
  'a\u200cb',
  'a\u200db',
  'a\u1806b',
];

const BAD_PASSWORDS = [
  '',
  'short',
  'x'.repeat(9),
  '123456789',
  'ab\ncdefghijk',
  'ab\tcdefghijk',
  'ab\rcdefghijk',
  'ab\u0000cdefghijk',
  'abcdefghij\u0007',
  'ab\u200bcdefghijk',
  'ab\u200dcdefghijk',
  'ab\u202ecdefghijk',
  'ab\ufeffcdefghijk',
  'ab\u00adcdefghijk',
  'ab\u034fcdefghijk',
  'ab\ufe0fcdefghijk',
  'ab\u00a0cdefghijk',
  'ab\u3000cdefghijk',
  'ab\u2028cdefghijk',
  'ab\u2029cdefghijk',
  'ab\u2003cdefghijk',
  '\ufb01nancially long',
  'ＦＵＬＬＷＩＤＴＨpass',
  'cafe\u0301 creme xx',
  'x²x²x²x²x²x²',
  'ab\ue000cdefghijk',
  'ab\ud800cdefghijk',
  'שלום hello world',
  'hello שלום world',
  'שלום עולם abc',
  '1שלום עולם',
  'x'.repeat(1025),
  'é'.repeat(600),
  'corpususer1 is my name',
  'my CORPUSUSER1 pass',
  'xxcorpususer1xx',
];

const VALID_USER = 'corpususer1';

beforeAll(async () => {
  h = await startHarness({ rateLimits: { addressFailures: 10_000, credentialFailures: 10_000, windowSeconds: 60 } });
  validTicket = await h.ticket({ uses: 1 });
  const [selector, verifier] = validTicket.split('.') as [string, string];
  // A ticket of every kind of bad.
  const used = await h.ticket();
  expect((await h.post('/create', { user: 'alreadyhere', password: GOOD_PASSWORD, token: used })).status).toBe(202);
  const issuer = h.db.prepare('SELECT id, name FROM ticketmasters').get() as { id: string; name: string };
  const expired = mintTicket(h.db, issuer, { expiresInHours: 1 }, Date.now() - 2 * 3_600_000).ticket;
  const revoked = await h.ticket();
  revokeTicket(h.db, revoked.split('.')[0]!);
  const byRevokedIssuer = await (async () => {
    await h.ticketmasterToken('Mallory');
    const mallory = h.db.prepare(`SELECT id, name FROM ticketmasters WHERE name = 'Mallory'`).get() as {
      id: string;
      name: string;
    };
    const ticket = mintTicket(h.db, mallory).ticket;
    revokeTicketmaster(h.db, 'Mallory');
    return ticket;
  })();
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  badTickets.push(
    used,
    expired,
    revoked,
    byRevokedIssuer,
    '',
    ' ',
    'x',
    'ticket',
    '.',
    `${selector}.`,
    `.${verifier}`,
    selector,
    verifier,
    `${selector}${verifier}`,
    `${selector}..${verifier}`,
    `${selector}.${verifier}x`,
    `${selector}x.${verifier}`,
    `${selector.slice(1)}.${verifier}`,
    `${selector}.${verifier.slice(1)}`,
    `${selector}.${verifier.toUpperCase()}`,
    `${selector.toLowerCase()}.${verifier}`,
    `${selector} .${verifier}`,
    `${selector}.${verifier.slice(0, 20)} ${verifier.slice(20)}`,
    `${selector}.${verifier.replace(/./, '+')}`,
    `${selector}.${verifier.slice(0, -1)}=`,
    `${selector}/${verifier}`,
    `tm_${selector}.${verifier}`,
    ...Array.from({ length: 8 }, (_, i) => `${selector}.${flip(verifier, i * 5)}`),
    ...Array.from({ length: 4 }, (_, i) => `${flip(selector, i * 3)}.${verifier}`),
    `${'A'.repeat(16)}.${'A'.repeat(43)}`,
    `${'_'.repeat(16)}.${'-'.repeat(43)}`,
    'x'.repeat(2000),
    '\u0000'.repeat(59),
    `${selector}.${verifier}\u200b`,
    `'; DROP TABLE tickets; --`,
    `${selector}.${verifier}.${verifier}`,
    `${selector}.${verifier}\nx`,
    `\t${selector}.${verifier}x`,
    `${selector}' OR '1'='1`,
    '%00',
    '../../etc/passwd',
  );
});
afterAll(() => h.close());

async function expectNoChange(send: () => Promise<Response>, expectStatus: (status: number) => void): Promise<void> {
  const before = dumpDatabase(h.db);
  const res = await send();
  expectStatus(res.status);
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(dumpDatabase(h.db)).toBe(before);
}

describe('bad input changes nothing', () => {
  it(`has a corpus of at least 200 cases`, () => {
    expect(BAD_USERNAMES.length + BAD_PASSWORDS.length + badTickets.length + BAD_BODIES.length).toBeGreaterThanOrEqual(
      200,
    );
  });

  it.each(BAD_USERNAMES.map((user) => [JSON.stringify(user), user]))(
    'username %s → 400 (field user)',
    async (_label, user) => {
      await expectNoChange(
        () => h.post('/create', { user, password: GOOD_PASSWORD, token: validTicket }),
        (status) => expect(status).toBe(400),
      );
    },
  );

  it.each(BAD_PASSWORDS.map((password) => [JSON.stringify(password).slice(0, 40), password]))(
    'password %s → 400 (field password)',
    async (_label, password) => {
      const res = await h.post('/create', { user: VALID_USER, password, token: validTicket });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ field: 'password' });
      await expectNoChange(
        () => h.post('/create', { user: VALID_USER, password, token: validTicket }),
        (status) => expect(status).toBe(400),
      );
    },
  );

  it('every bad ticket → 403 with the same message, or 400 when empty', async () => {
    const messages = new Set<string>();
    for (const token of badTickets) {
      const before = dumpDatabase(h.db);
      const res = await h.post('/create', { user: 'fresh', password: GOOD_PASSWORD, token });
      expect(res.status, JSON.stringify(token)).toBe(token.trim() === '' ? 400 : 403);
      if (res.status === 403) messages.add(((await res.json()) as { error: string }).error);
      expect(dumpDatabase(h.db)).toBe(before);
    }
    expect(messages.size).toBe(1);
    expect(badTickets.length).toBeGreaterThanOrEqual(50);
  });

  it.each(BAD_BODIES.map((body, i) => [i, body.label, body]))('body #%s %s → 4xx', async (_i, _label, body) => {
    await expectNoChange(
      () =>
        Promise.resolve(
          h.app.request(`${ORIGIN}${body.path ?? '/create'}`, {
            method: 'POST',
            headers: { origin: ORIGIN, accept: 'application/json', ...body.headers },
            body: body.body(validTicket),
          }),
        ),
      () => undefined,
    );
  });

  it('the valid ticket is still unused and works after the whole corpus', async () => {
    const res = await h.post('/create', { user: VALID_USER, password: GOOD_PASSWORD, token: validTicket });
    expect(res.status).toBe(202);
  });
});

interface BadBody {
  label: string;
  path?: string;
  headers: Record<string, string>;
  body: (ticket: string) => RequestInit['body'];
}
const json = { 'content-type': 'application/json' };
const form = { 'content-type': 'application/x-www-form-urlencoded' };
const multipartWithFile = (ticket: string) => {
  const data = new FormData();
  data.set('user', new File(['corpususer1'], 'user.txt'));
  data.set('password', GOOD_PASSWORD);
  data.set('token', ticket);
  return data;
};
const BAD_BODIES: BadBody[] = [
  { label: 'empty JSON', headers: json, body: () => '' },
  { label: 'JSON null', headers: json, body: () => 'null' },
  { label: 'JSON number', headers: json, body: () => '42' },
  { label: 'JSON string', headers: json, body: () => '"hello"' },
  { label: 'JSON array', headers: json, body: (t) => JSON.stringify([VALID_USER, GOOD_PASSWORD, t]) },
  {
    label: 'truncated JSON',
    headers: json,
    body: (t) => JSON.stringify({ user: VALID_USER, password: GOOD_PASSWORD, token: t }).slice(0, -2),
  },
  {
    label: 'user as number',
    headers: json,
    body: (t) => JSON.stringify({ user: 7, password: GOOD_PASSWORD, token: t }),
  },
  {
    label: 'user as array',
    headers: json,
    body: (t) => JSON.stringify({ user: [VALID_USER], password: GOOD_PASSWORD, token: t }),
  },
  {
    label: 'user as object',
    headers: json,
    body: (t) => JSON.stringify({ user: { name: VALID_USER }, password: GOOD_PASSWORD, token: t }),
  },
  {
    label: 'password as number',
    headers: json,
    body: (t) => JSON.stringify({ user: VALID_USER, password: 12345678901, token: t }),
  },
  {
    label: 'password as bool',
    headers: json,
    body: (t) => JSON.stringify({ user: VALID_USER, password: true, token: t }),
  },
  {
    label: 'token as array',
    headers: json,
    body: (t) => JSON.stringify({ user: VALID_USER, password: GOOD_PASSWORD, token: [t] }),
  },
  {
    label: 'token as object',
    headers: json,
    body: (t) => JSON.stringify({ user: VALID_USER, password: GOOD_PASSWORD, token: { t } }),
  },
  { label: 'missing user', headers: json, body: (t) => JSON.stringify({ password: GOOD_PASSWORD, token: t }) },
  { label: 'missing password', headers: json, body: (t) => JSON.stringify({ user: VALID_USER, token: t }) },
  { label: 'missing token', headers: json, body: () => JSON.stringify({ user: VALID_USER, password: GOOD_PASSWORD }) },
  { label: 'null fields', headers: json, body: () => JSON.stringify({ user: null, password: null, token: null }) },
  { label: 'JSON with BOM-only', headers: json, body: () => '\ufeff' },
  {
    label: 'text/plain',
    headers: { 'content-type': 'text/plain' },
    body: (t) => `user=${VALID_USER}&password=x&token=${t}`,
  },
  { label: 'no content type', headers: {}, body: (t) => `user=${VALID_USER}&token=${t}` },
  { label: 'xml', headers: { 'content-type': 'application/xml' }, body: () => '<create/>' },
  {
    label: 'octet-stream',
    headers: { 'content-type': 'application/octet-stream' },
    body: () => new Uint8Array([1, 2, 3]),
  },
  {
    label: 'oversized JSON (413)',
    headers: json,
    body: (t) => JSON.stringify({ user: VALID_USER, password: 'p'.repeat(17_000), token: t }),
  },
  {
    label: 'oversized form (413)',
    headers: form,
    body: (t) => new URLSearchParams({ user: 'u'.repeat(17_000), password: GOOD_PASSWORD, token: t }).toString(),
  },
  {
    label: 'form without token',
    headers: form,
    body: () => new URLSearchParams({ user: VALID_USER, password: GOOD_PASSWORD }).toString(),
  },
  {
    label: 'form with token only in the URL',
    path: '/create?token=x',
    headers: form,
    body: () => new URLSearchParams({ user: VALID_USER, password: GOOD_PASSWORD }).toString(),
  },
  {
    label: 'form bad user',
    headers: form,
    body: (t) => new URLSearchParams({ user: 'a b', password: GOOD_PASSWORD, token: t }).toString(),
  },
  {
    label: 'form bad password',
    headers: form,
    body: (t) => new URLSearchParams({ user: VALID_USER, password: 'short', token: t }).toString(),
  },
  { label: 'form percent garbage', headers: form, body: () => 'user=%E0%A4%A&password=%&token=%%%' },
  { label: 'multipart with a file as user', headers: {}, body: multipartWithFile },
  {
    label: 'multipart malformed',
    headers: { 'content-type': 'multipart/form-data; boundary=zzz' },
    body: () => '--zzz\r\nnot a part',
  },
  {
    label: 'cross-origin form',
    headers: { ...form, origin: 'https://evil.example' },
    body: (t) => new URLSearchParams({ user: VALID_USER, password: GOOD_PASSWORD, token: t }).toString(),
  },
  { label: 'generate_token empty', path: '/generate_token', headers: json, body: () => '{}' },
  {
    label: 'generate_token bad uses',
    path: '/generate_token',
    headers: json,
    body: () => JSON.stringify({ token: 'tm_x', uses: '-1' }),
  },
  {
    label: 'generate_token uses as number',
    path: '/generate_token',
    headers: json,
    body: () => JSON.stringify({ token: 'tm_x', uses: 5 }),
  },
  {
    label: 'generate_token bad token',
    path: '/generate_token',
    headers: json,
    body: () => JSON.stringify({ token: `tm_${'a'.repeat(16)}.${'b'.repeat(43)}` }),
  },
  { label: 'generate_token array', path: '/generate_token', headers: json, body: () => '[]' },
  { label: 'status via POST', path: '/status/abc', headers: json, body: () => '{}' },
  { label: 'healthz via POST', path: '/healthz', headers: json, body: () => '{}' },
  { label: 'unknown route', path: '/admin', headers: json, body: () => '{}' },
];
