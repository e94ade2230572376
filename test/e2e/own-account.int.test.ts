/**
 * An account's owner, with no admin, against real components (meet-auth → signed agent calls → Prosody 13):
 * POST /account/password and /account/delete in JSON, each outcome proven by XMPP logins and a new redemption.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../edge/auth/store/audit.js';
import { openDatabase } from '../../edge/auth/store/db.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { xmppLogin } from '../support/xmpp.js';

let stack: TestStack;
beforeAll(async () => {
  // Behind a "proxy" on loopback, so each test speaks from an address of its own.
  stack = await startTestStack({ authEnv: { MEET_TRUSTED_PROXIES: '127.0.0.1' } });
});
afterAll(async () => {
  await stack?.dispose();
});

const login = (username: string, password: string) => xmppLogin({ port: stack.prosody.c2sPort, username, password });

async function post(path: string, fields: Record<string, string>, from: string) {
  const response = await fetch(`${stack.authUrl}${path}`, {
    method: 'POST',
    headers: {
      accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded',
      origin: new URL(stack.authUrl).origin,
      'x-forwarded-for': from,
    },
    body: new URLSearchParams(fields),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

async function account(user: string, password: string) {
  const [ticket] = stack.tickets(1);
  expect((await stack.redeem(user, password, ticket!)).body.status).toBe('created');
}

const WRONG = {
  status: 403,
  body: { error: 'That username and password do not match an account.', field: 'password' },
};

describe('change password', () => {
  it('the new password logs in, the old one no longer; in the audit trail without any password', async () => {
    await account('Changer', 'first password 1');
    expect(
      await post(
        '/account/password',
        { user: 'CHANGER', password: 'first password 1', new_password: 'second password 2' },
        '192.0.2.10',
      ),
    ).toMatchObject({
      status: 200,
      body: { status: 'changed' },
    });
    expect(await login('changer', 'second password 2')).toBe(true);
    expect(await login('changer', 'first password 1')).toBe(false);
    const db = openDatabase(stack.dataDir);
    try {
      const entry = listAudit(db).find((row) => row.event === 'password-changed' && row.username === 'changer');
      expect(entry?.detail).toContain('local: changed');
      expect(JSON.stringify(listAudit(db))).not.toMatch(/first password|second password/);
    } finally {
      db.close();
    }
  });

  it('a wrong password and an unknown name get the same 403; nothing changes', async () => {
    await account('keeper', 'guarded secret 1');
    expect(
      await post(
        '/account/password',
        { user: 'keeper', password: 'not the password', new_password: 'takeover password 9' },
        '192.0.2.11',
      ),
    ).toMatchObject(WRONG);
    expect(
      await post(
        '/account/password',
        { user: 'nosuchname', password: 'guarded secret 1', new_password: 'takeover password 9' },
        '192.0.2.11',
      ),
    ).toMatchObject(WRONG);
    expect(await login('keeper', 'guarded secret 1')).toBe(true);
    expect(await login('keeper', 'takeover password 9')).toBe(false);
  });

  it('bad input is 400 naming the field, before any password is checked', async () => {
    await account('strict', 'rigid secret 1');
    const cases: [Record<string, string>, string][] = [
      [{ user: 'bad name', password: 'rigid secret 1', new_password: 'rigid secret 2' }, 'user'],
      [{ user: 'strict', password: '', new_password: 'rigid secret 2' }, 'password'],
      [{ user: 'strict', password: 'rigid secret 1', new_password: 'short' }, 'new_password'],
      [{ user: 'strict', password: 'rigid secret 1', new_password: 'has strict inside' }, 'new_password'],
      [{ user: 'strict', password: 'rigid secret 1', new_password: 'tab\there password' }, 'new_password'],
    ];
    for (const [fields, field] of cases) {
      const answer = await post('/account/password', fields, '192.0.2.12');
      expect(answer.status, JSON.stringify(fields)).toBe(400);
      expect(answer.body.field).toBe(field);
      expect(typeof answer.body.error).toBe('string');
    }
    expect(await login('strict', 'rigid secret 1')).toBe(true);
  });
});

describe('delete', () => {
  it('removes the account on every server and frees the name for a new redemption', async () => {
    await account('leaver', 'leaving password 1');
    expect(
      (await post('/account/delete', { user: 'leaver', password: 'leaving password 1' }, '192.0.2.20')).body.field,
    ).toBe('confirm');
    expect(await login('leaver', 'leaving password 1')).toBe(true);
    expect(
      await post('/account/delete', { user: 'leaver', password: 'wrong password 1', confirm: 'yes' }, '192.0.2.20'),
    ).toMatchObject(WRONG);
    expect(
      await post('/account/delete', { user: 'leaver', password: 'leaving password 1', confirm: 'yes' }, '192.0.2.20'),
    ).toMatchObject({ status: 200, body: { status: 'deleted' } });
    expect(await login('leaver', 'leaving password 1')).toBe(false);
    // The name is free again: a new ticket makes a new account under it.
    await account('Leaver', 'a newcomer password 1');
    expect(await login('leaver', 'a newcomer password 1')).toBe(true);
  });
});

describe('same-origin rule', () => {
  it('a form posted from another site changes nothing (403)', async () => {
    await account('guarded.owner', 'origin secret 1');
    const forged = await fetch(`${stack.authUrl}/account/delete`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ user: 'guarded.owner', password: 'origin secret 1', confirm: 'yes' }),
    });
    expect(forged.status).toBe(403);
    expect(await login('guarded.owner', 'origin secret 1')).toBe(true);
  });
});

describe('rate limits', () => {
  it('a stranger who fails again and again is limited (429), and cannot lock the owner out', async () => {
    await account('target', 'aimed secret 1');
    const answers = [];
    for (let i = 0; i < 11; i++)
      answers.push(
        await post(
          '/account/password',
          { user: 'target', password: `guess number ${i}`, new_password: 'stolen password 1' },
          '198.51.100.66',
        ),
      );
    expect(answers.slice(0, 10).every((answer) => answer.status === 403)).toBe(true);
    expect(answers[10]).toMatchObject({
      status: 429,
      body: { error: expect.stringMatching(/Too many failed attempts/) },
    });
    expect(Number(answers[10]!.retryAfter)).toBeGreaterThan(0);
    // Refused before any check: even the right password is 429 from there now.
    expect(
      (
        await post(
          '/account/password',
          { user: 'target', password: 'aimed secret 1', new_password: 'stolen password 1' },
          '198.51.100.66',
        )
      ).status,
    ).toBe(429);
    // The owner, from where they are, is not locked out.
    expect(
      await post(
        '/account/password',
        { user: 'target', password: 'aimed secret 1', new_password: 'aimed secret 2' },
        '203.0.113.5',
      ),
    ).toMatchObject({ status: 200 });
    expect(await login('target', 'aimed secret 2')).toBe(true);
  });
});
