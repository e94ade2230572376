/**
 * The agent's account routes (`POST /accounts/list|delete|reset-password`) against a real Prosody 13 over its admin
 * socket, and against Prosody 0.12 through prosodyctl; every change proven by real XMPP logins.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  keys,
  openSession,
  resetRequest,
  sealing,
  send,
  signed,
  startAgent,
  stranger,
  type Agent,
} from './accounts-rig.js';
import { createAgentApp } from '../../../../edge/agent/app.js';
import { Inbox } from '../../../../edge/agent/inbox.js';
import { AdminSocketAccounts } from '../../../../edge/agent/prosody/socket-accounts.js';
import { AccountWorker } from '../../../../edge/agent/worker.js';
import { ACCOUNTS_PATHS, resetSealContext, verifySealContext } from '../../../../edge/shared/accounts-protocol.js';
import { createLogger } from '../../../../edge/shared/log.js';
import { seal, sealContext } from '../../../../edge/shared/sealing.js';
import { signRequest } from '../../../../edge/shared/signing.js';
import { watchArgv } from '../../../support/argv-watch.js';
import { xmppLogin } from '../../../support/xmpp.js';

const TRICKY = [
  'has spaces in it',
  `quotes ' and " here`,
  'xml < & > chars',
  'run $(touch /tmp/pwned) now',
  'tick `id` tock',
  'Ünïcödé пароль 密码',
];

describe('with Prosody 13 (admin socket)', () => {
  let agent: Agent;
  const login = (username: string, password: string) => xmppLogin({ port: agent.prosody.c2sPort, username, password });
  const list = async () => (await send(agent.app, signed(ACCOUNTS_PATHS.list, {}))).body.accounts as string[];

  beforeAll(async () => {
    agent = await startAgent('13');
  });
  afterAll(async () => {
    await agent?.dispose();
  });

  it('lists the accounts of the XMPP domain', async () => {
    expect(await send(agent.app, signed(ACCOUNTS_PATHS.list, {}))).toEqual({ status: 200, body: { accounts: [] } });
    await agent.accounts.create('listed', 'listed password 1');
    await agent.accounts.create('zoë', 'zoë password 12');
    expect(await list()).toEqual(['listed', 'zoë']);
  });

  it('sets a new password on an existing account: the new one logs in, the old one no longer', async () => {
    await agent.accounts.create('resetme', 'the old password 1');
    expect(await send(agent.app, resetRequest('resetme', 'the new password 2'))).toEqual({
      status: 200,
      body: { status: 'changed' },
    });
    expect(await login('resetme', 'the new password 2')).toBe(true);
    expect(await login('resetme', 'the old password 1')).toBe(false);
    expect(agent.logLines.join('')).not.toContain('the new password 2');
  });

  it('a reset ends the live sessions of the account', async () => {
    await agent.accounts.create('online', 'first secret 1');
    const session = await openSession(agent.prosody.c2sPort, 'online', 'first secret 1');
    try {
      expect(await send(agent.app, resetRequest('online', 'second secret 2'))).toMatchObject({
        body: { status: 'changed' },
      });
      await session.ended;
    } finally {
      await session.stop();
    }
  });

  it('a reset of a name that does not exist answers absent and creates nothing', async () => {
    expect(await send(agent.app, resetRequest('ghost', 'spooky secret 1'))).toEqual({
      status: 200,
      body: { status: 'absent' },
    });
    expect(await list()).not.toContain('ghost');
    expect(await login('ghost', 'spooky secret 1')).toBe(false);
  });

  it("checks an owner's password against Prosody's stored credentials: valid, invalid, or invalid for no such account; no login, no log of it", async () => {
    const verify = (username: string, password: string, context?: string) => {
      const id = randomUUID();
      const sealedPassword = seal(sealing.publicKey, password, context ?? verifySealContext(id, username));
      return send(agent.app, signed(ACCOUNTS_PATHS.verifyPassword, { username, sealedPassword }, { id }));
    };
    await agent.accounts.create('owner', 'owner password 1 ü');
    expect(await verify('owner', 'owner password 1 ü')).toEqual({ status: 200, body: { status: 'valid' } });
    expect(await verify('owner', 'owner password 2 ü')).toEqual({ status: 200, body: { status: 'invalid' } });
    expect(await verify('nobody', 'owner password 1 ü')).toEqual({ status: 200, body: { status: 'invalid' } });
    // A seal made for a reset, or for another name, does not open as a check.
    const asReset = await verify('owner', 'owner password 1 ü', resetSealContext(randomUUID(), 'owner'));
    expect(asReset.status).toBe(400);
    expect(asReset.body.error).toMatch(/sealed password does not open/);
    expect((await verify('owner', 'owner password 1 ü', verifySealContext(randomUUID(), 'other'))).status).toBe(400);
    // A captured check cannot be sent again.
    const id = randomUUID();
    const once = signed(
      ACCOUNTS_PATHS.verifyPassword,
      {
        username: 'owner',
        sealedPassword: seal(sealing.publicKey, 'owner password 1 ü', verifySealContext(id, 'owner')),
      },
      { id },
    );
    expect((await send(agent.app, once)).status).toBe(200);
    expect((await send(agent.app, once)).status).not.toBe(200);
    expect(agent.logLines.join('')).not.toContain('owner password');
    // Checking changed nothing.
    expect(await login('owner', 'owner password 1 ü')).toBe(true);
  });

  it('deletes an account (ending its live session); it no longer logs in nor is listed; a second delete says absent', async () => {
    await agent.accounts.create('deleteme', 'delete password 1');
    const session = await openSession(agent.prosody.c2sPort, 'deleteme', 'delete password 1');
    try {
      expect(await send(agent.app, signed(ACCOUNTS_PATHS.delete, { username: 'deleteme' }))).toEqual({
        status: 200,
        body: { status: 'deleted' },
      });
      await session.ended;
    } finally {
      await session.stop();
    }
    expect(await login('deleteme', 'delete password 1')).toBe(false);
    expect(await list()).not.toContain('deleteme');
    expect(await send(agent.app, signed(ACCOUNTS_PATHS.delete, { username: 'deleteme' }))).toEqual({
      status: 200,
      body: { status: 'absent' },
    });
  });

  it('passwords with spaces, quotes, < & >, $(...), backticks and non-ASCII work, and reach no process argv', async () => {
    await agent.accounts.create('tricky', 'tricky start 1');
    for (const password of TRICKY) {
      const watch = watchArgv(password);
      try {
        expect(await send(agent.app, resetRequest('tricky', password))).toMatchObject({ body: { status: 'changed' } });
      } finally {
        await watch.stop();
      }
      expect(watch.sweeps).toBeGreaterThan(0);
      expect(watch.hits).toEqual([]);
      expect(await login('tricky', password)).toBe(true);
    }
  });

  describe('refused requests change nothing', () => {
    beforeAll(async () => {
      await agent.accounts.create('guarded', 'watchful secret 1');
    });
    afterAll(async () => {
      // Whatever was refused, the account and its password are as they were.
      expect(await login('guarded', 'watchful secret 1')).toBe(true);
    });

    it('unsigned, signed with an unknown key, tampered or stale: 401', async () => {
      const request = signed(ACCOUNTS_PATHS.delete, { username: 'guarded' });
      const { 'webhook-signature': _signature, ...unsignedHeaders } = request.init.headers;
      expect(await send(agent.app, { ...request, init: { ...request.init, headers: unsignedHeaders } })).toMatchObject({
        status: 401,
      });
      expect(
        await send(agent.app, signed(ACCOUNTS_PATHS.delete, { username: 'guarded' }, { signWith: stranger })),
      ).toMatchObject({ status: 401 });
      const tampered = signed(ACCOUNTS_PATHS.delete, { username: 'someone' });
      expect(
        await send(agent.app, {
          ...tampered,
          init: { ...tampered.init, body: JSON.stringify({ username: 'guarded' }) },
        }),
      ).toMatchObject({
        status: 401,
        body: { code: 'unauthorized' },
      });
      const stale = signed(ACCOUNTS_PATHS.delete, { username: 'guarded' }, { now: new Date(Date.now() - 400_000) });
      expect(await send(agent.app, stale)).toMatchObject({
        status: 401,
        body: { error: expect.stringContaining('stale') },
      });
      expect(await list()).toContain('guarded');
    });

    it('a replayed request (same webhook-id) is refused, also a reset', async () => {
      const first = signed(ACCOUNTS_PATHS.delete, { username: 'nobody-here' });
      expect(await send(agent.app, first)).toMatchObject({ status: 200, body: { status: 'absent' } });
      // The captured request, sent again inside its signature window.
      const replay = await send(agent.app, first);
      expect(replay).toMatchObject({
        status: 401,
        body: { error: expect.stringContaining('replayed'), code: 'unauthorized' },
      });
      // A same id re-signed for another body is still a replay.
      const sameId = signed(
        ACCOUNTS_PATHS.delete,
        { username: 'guarded' },
        { id: first.init.headers['webhook-id'] as string },
      );
      expect(await send(agent.app, sameId)).toMatchObject({ status: 401 });
      const reset = resetRequest('guarded', 'watchful secret 2');
      expect(await send(agent.app, reset)).toMatchObject({ status: 200, body: { status: 'changed' } });
      // Put the old password back, then replay the captured reset: refused, the password stays.
      expect(await send(agent.app, resetRequest('guarded', 'watchful secret 1'))).toMatchObject({
        body: { status: 'changed' },
      });
      expect(await send(agent.app, reset)).toMatchObject({ status: 401 });
      expect(await list()).toContain('guarded');
    });

    it('bad bodies: 400 naming the problem', async () => {
      const bad = async (path: string, body: string) => {
        const id = randomUUID();
        return send(agent.app, {
          path,
          init: {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...signRequest(keys, id, body) },
            body,
          },
        });
      };
      expect(await bad(ACCOUNTS_PATHS.delete, 'not json')).toMatchObject({
        status: 400,
        body: { error: 'the body is not JSON', code: 'bad_request' },
      });
      expect(await bad(ACCOUNTS_PATHS.delete, '{}')).toMatchObject({
        status: 400,
        body: { error: expect.stringContaining('username') },
      });
      expect(await bad(ACCOUNTS_PATHS.delete, JSON.stringify({ username: 'Guarded' }))).toMatchObject({
        status: 400,
        body: { error: expect.stringContaining('folded') },
      });
      expect(await bad(ACCOUNTS_PATHS.delete, JSON.stringify({ username: 'guarded', extra: 1 }))).toMatchObject({
        status: 400,
      });
      expect(await bad(ACCOUNTS_PATHS.list, JSON.stringify({ all: true }))).toMatchObject({ status: 400 });
      expect(await bad(ACCOUNTS_PATHS.resetPassword, JSON.stringify({ username: 'guarded' }))).toMatchObject({
        status: 400,
        body: { error: expect.stringContaining('sealedPassword') },
      });
    });

    it('a seal made for another request, another name or a job does not open: 400', async () => {
      const wrongContexts = [
        () => resetSealContext(randomUUID(), 'guarded'),
        (id: string) => resetSealContext(id, 'other'),
        (id: string) => sealContext(id, 'guarded'),
      ];
      for (const contextFor of wrongContexts) {
        const id = randomUUID();
        expect(
          await send(agent.app, resetRequest('guarded', 'hijack password 1', { id, context: contextFor(id) })),
        ).toMatchObject({
          status: 400,
          body: { error: expect.stringContaining('does not open') },
        });
      }
    });

    it('a new password the rules refuse (too short, holding the username, a newline): 400, not echoed', async () => {
      for (const password of ['short1', 'my guarded password', 'first line\nsecond line']) {
        const answer = await send(agent.app, resetRequest('guarded', password));
        expect(answer).toMatchObject({ status: 400, body: { error: expect.stringContaining('not acceptable') } });
        expect(JSON.stringify(answer.body)).not.toContain(password);
      }
    });
  });

  it('Prosody unreachable: 503 unavailable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agent-nosock-'));
    const inbox = new Inbox(join(dir, 'agent.sqlite'));
    const down = new AdminSocketAccounts({ socketPath: join(dir, 'none.sock') });
    const log = createLogger({ level: 'silent' });
    const worker = new AccountWorker({ inbox, accounts: down, sealingKeys: [sealing.privateKey], log });
    const app = createAgentApp({
      inbox,
      worker,
      admin: down,
      sealingKeys: [sealing.privateKey],
      signingKeys: keys,
      holdMs: 0,
      log,
    });
    try {
      expect(await send(app, signed(ACCOUNTS_PATHS.list, {}))).toMatchObject({
        status: 503,
        body: { code: 'unavailable' },
      });
      expect(await send(app, signed(ACCOUNTS_PATHS.delete, { username: 'x' }))).toMatchObject({ status: 503 });
    } finally {
      await down.close();
      inbox.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('with Prosody 0.12 (prosodyctl fallback)', () => {
  let agent: Agent;
  const login = (username: string, password: string) => xmppLogin({ port: agent.prosody.c2sPort, username, password });

  beforeAll(async () => {
    agent = await startAgent('0.12');
  }, 120_000);
  afterAll(async () => {
    await agent?.dispose();
  });

  it('lists, resets (password on stdin only, never argv) and deletes', async () => {
    await agent.accounts.create('old12', 'old12 password 1');
    expect((await send(agent.app, signed(ACCOUNTS_PATHS.list, {}))).body).toEqual({ accounts: ['old12'] });
    const password = TRICKY[3]!;
    const watch = watchArgv(password);
    try {
      expect(await send(agent.app, resetRequest('old12', password))).toEqual({
        status: 200,
        body: { status: 'changed' },
      });
    } finally {
      await watch.stop();
    }
    expect(watch.hits).toEqual([]);
    expect(await login('old12', password)).toBe(true);
    expect(await login('old12', 'old12 password 1')).toBe(false);
    expect(await send(agent.app, resetRequest('ghost12', 'spooky secret 1'))).toEqual({
      status: 200,
      body: { status: 'absent' },
    });
    expect(await send(agent.app, signed(ACCOUNTS_PATHS.delete, { username: 'old12' }))).toEqual({
      status: 200,
      body: { status: 'deleted' },
    });
    expect(await login('old12', password)).toBe(false);
    expect(await send(agent.app, signed(ACCOUNTS_PATHS.delete, { username: 'old12' }))).toEqual({
      status: 200,
      body: { status: 'absent' },
    });
    expect((await send(agent.app, signed(ACCOUNTS_PATHS.list, {}))).body).toEqual({ accounts: [] });
  });
});
