import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProsodyUnavailableError } from '../../../../edge/agent/prosody/accounts.js';
import { AdminSocketConnection } from '../../../../edge/agent/prosody/admin-socket.js';
import { parseHashingScheme } from '../../../../edge/agent/prosody/answers.js';
import { hashingSchemeLine, luaLiteral, storeHashedUserLine } from '../../../../edge/agent/prosody/lua.js';
import { scramCredentials } from '../../../../edge/agent/prosody/scram.js';
import { AdminSocketAccounts } from '../../../../edge/agent/prosody/socket-accounts.js';
import { startTestProsody, type TestProsody } from '../../../support/prosody.js';
import { TRICKY } from '../../../support/tricky-passwords.js';
import { xmppLogin } from '../../../support/xmpp.js';

describe('AdminSocketAccounts against Prosody 13', () => {
  let prosody: TestProsody;
  let accounts: AdminSocketAccounts;
  beforeAll(async () => {
    prosody = await startTestProsody();
    accounts = new AdminSocketAccounts({ socketPath: prosody.socketPath, connections: 2 });
  });
  afterAll(async () => {
    await accounts?.close();
    await prosody?.dispose();
  });

  it('creates an account with the password it gives only when Prosody asks for it', async () => {
    const connection = new AdminSocketConnection({ socketPath: prosody.socketPath });
    const result = await connection.run(`user:create(${luaLiteral('prompted@meet.jitsi')})`, 'prompted password 1');
    connection.close();
    expect(result).toMatchObject({ ok: true, text: "OK: Created prompted@meet.jitsi with role 'prosody:member'" });
    expect(await xmppLogin({ port: prosody.c2sPort, username: 'prompted', password: 'prompted password 1' })).toBe(
      true,
    );
  });

  it('cancels a password request when it has no password, and nothing is created', async () => {
    const connection = new AdminSocketConnection({ socketPath: prosody.socketPath });
    const result = await connection.run(`user:create(${luaLiteral('nopassword@meet.jitsi')})`);
    connection.close();
    expect(result.ok).toBe(false);
    expect(await accounts.create('nopassword', 'a real password 1')).toEqual({ kind: 'created' });
  });

  it('creates accounts whose tricky passwords log in unchanged', async () => {
    for (const [index, password] of TRICKY.entries()) {
      expect(await accounts.create(`tricky${index}`, password)).toEqual({ kind: 'created' });
      expect(await xmppLogin({ port: prosody.c2sPort, username: `tricky${index}`, password, mechanism: 'PLAIN' })).toBe(
        true,
      );
      expect(await accounts.verify(`tricky${index}`, password)).toBe(true);
      expect(await accounts.verify(`tricky${index}`, `${password}x`)).toBe(false);
    }
  });

  it('refuses an existing name and leaves its password alone', async () => {
    expect(await accounts.create('alice', 'first password 1')).toEqual({ kind: 'created' });
    expect(await accounts.create('alice', 'second password 2')).toEqual({ kind: 'exists' });
    expect(await xmppLogin({ port: prosody.c2sPort, username: 'alice', password: 'first password 1' })).toBe(true);
    expect(await xmppLogin({ port: prosody.c2sPort, username: 'alice', password: 'second password 2' })).toBe(false);
    expect(await accounts.verify('alice', 'first password 1')).toBe(true);
    expect(await accounts.verify('alice', 'second password 2')).toBe(false);
  });

  it('a password crafted as Lua stays data', async () => {
    const password = '"), os.exit(1), ("';
    expect(await accounts.create('crafted', password)).toEqual({ kind: 'created' });
    expect(await accounts.verify('crafted', password)).toBe(true);
    expect(await xmppLogin({ port: prosody.c2sPort, username: 'crafted', password, mechanism: 'PLAIN' })).toBe(true);
  });

  it('creates in one call what user:create makes: provisioned role, hashed with the default iteration count, no plaintext', async () => {
    const password = 'single call password 1';
    expect(await accounts.create('onecall', password)).toEqual({ kind: 'created' });
    const connection = new AdminSocketConnection({ socketPath: prosody.socketPath });
    const role = await connection.run('>require"core.usermanager".get_user_role("onecall", "meet.jitsi").name');
    const account = await connection.run('>require"core.storagemanager".open("meet.jitsi", "accounts"):get("onecall")');
    const enabled = await connection.run('>require"core.usermanager".user_is_enabled("onecall", "meet.jitsi")');
    connection.close();
    expect(role.text).toBe('Result: prosody:member');
    expect(enabled.text).toBe('Result: true');
    expect(account.text).toMatch(/iteration_count = 10000/);
    expect(account.text).toMatch(/stored_key = "[0-9a-f]{40}"/);
    expect(account.text).not.toMatch(/password =/);
    const file = await readFile(join(prosody.dir, 'data', 'meet%2ejitsi', 'accounts', 'onecall.dat'), 'utf8');
    expect(file).not.toContain(password);
    expect(await xmppLogin({ port: prosody.c2sPort, username: 'onecall', password })).toBe(true);
  });

  it("computes exactly the keys Prosody's own SCRAM hasher makes, for ASCII and non-ASCII passwords", async () => {
    const connection = new AdminSocketConnection({ socketPath: prosody.socketPath });
    const scheme = parseHashingScheme((await connection.run(hashingSchemeLine('meet.jitsi'))).text);
    expect(scheme).toEqual({ hash: 'SHA-1', iterations: 10000 }); // Prosody's default: never lower
    for (const password of ['plain ascii password', 'Ünïcödé пароль 密码', ...TRICKY]) {
      const ours = await scramCredentials(password, scheme!, 'a-fixed-salt');
      const theirs = await connection.run(
        `>local ok, s, k = require"util.sasl.scram".hashers["SHA-1"](${luaLiteral(password)}, "a-fixed-salt", 10000) ` +
          `local hex = require"util.hex".encode return hex(s) .. " " .. hex(k)`,
      );
      expect(theirs.text).toBe(`Result: ${ours.storedKey} ${ours.serverKey}`);
    }
    connection.close();
  });

  it('stores agent-made credentials as internal_hashed would: SCRAM logins work, wrong passwords fail, no plaintext', async () => {
    for (const [name, password] of [
      ['hashedascii', 'an ascii password 1'],
      ['hashedutf8', 'Ünïcödé пароль 密码'],
    ] as const) {
      expect(await accounts.create(name, password)).toEqual({ kind: 'created' });
      const connection = new AdminSocketConnection({ socketPath: prosody.socketPath });
      const account = await connection.run(
        `>require"core.storagemanager".open("meet.jitsi", "accounts"):get(${luaLiteral(name)})`,
      );
      const role = await connection.run(
        `>require"core.usermanager".get_user_role(${luaLiteral(name)}, "meet.jitsi").name`,
      );
      connection.close();
      expect(account.text).toMatch(/iteration_count = 10000/);
      expect(account.text).toMatch(/salt = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"/);
      expect(account.text).toMatch(/server_key = "[0-9a-f]{40}"/);
      expect(account.text).toMatch(/created = \d+/);
      expect(account.text).not.toMatch(/password =/);
      expect(role.text).toBe('Result: prosody:member');
      const file = await readFile(join(prosody.dir, 'data', 'meet%2ejitsi', 'accounts', `${name}.dat`), 'utf8');
      expect(file).not.toContain(password);
      // SCRAM-SHA-1, as Jitsi's web client logs in.
      expect(await xmppLogin({ port: prosody.c2sPort, username: name, password })).toBe(true);
      expect(await xmppLogin({ port: prosody.c2sPort, username: name, password: `${password}x` })).toBe(false);
      expect(await accounts.verify(name, password)).toBe(true);
      expect(await accounts.create(name, 'another password 2')).toEqual({ kind: 'exists' });
      expect(await accounts.verify(name, password)).toBe(true);
    }
  });

  it('never stores credentials made for another hashing setup: "Hashing changed", nothing created', async () => {
    const credentials = await scramCredentials('stale scheme password', { hash: 'SHA-1', iterations: 20000 });
    const connection = new AdminSocketConnection({ socketPath: prosody.socketPath });
    const result = await connection.run(storeHashedUserLine('stale', 'meet.jitsi', credentials));
    const exists = await connection.run('>require"core.usermanager".user_exists("stale", "meet.jitsi")');
    connection.close();
    expect(result).toMatchObject({ ok: false, text: 'Error: Hashing changed' });
    expect(exists.text).not.toBe('Result: true');
  });

  it('leaves a password outside our policy to Prosody, which hashes (and SASLpreps) it itself', async () => {
    expect(await accounts.create('shortpw', 'short 1')).toEqual({ kind: 'created' });
    expect(await xmppLogin({ port: prosody.c2sPort, username: 'shortpw', password: 'short 1' })).toBe(true);
  });

  it('refuses a name made beforehand with prosodyctl and never touches its password', async () => {
    const made = await prosody.prosodyctl(
      ['shell', 'user', 'create', 'byhand@meet.jitsi'],
      'hand made password 1\nhand made password 1\n',
    );
    expect(made.code).toBe(0);
    expect(await accounts.create('byhand', 'redeemed password 2')).toEqual({ kind: 'exists' });
    expect(await xmppLogin({ port: prosody.c2sPort, username: 'byhand', password: 'hand made password 1' })).toBe(true);
    expect(await accounts.verify('byhand', 'redeemed password 2')).toBe(false);
  });

  it('creates one name exactly once when many creates of it race on several connections', async () => {
    // user:create checks the name, then yields for the password: two such creates could both pass the check and
    // the later one would overwrite the earlier. The single call cannot be interleaved.
    const racing = new AdminSocketAccounts({ socketPath: prosody.socketPath, connections: 4 });
    const passwords = Array.from({ length: 12 }, (_, i) => `racing password ${i}`);
    const outcomes = await Promise.all(passwords.map((password) => racing.create('contested', password)));
    await racing.close();
    const winners = passwords.filter((_, i) => outcomes[i]!.kind === 'created');
    expect(winners).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.kind === 'exists')).toHaveLength(11);
    expect(await accounts.verify('contested', winners[0]!)).toBe(true);
    expect(await xmppLogin({ port: prosody.c2sPort, username: 'contested', password: winners[0]! })).toBe(true);
  });

  it('refuses what Prosody refuses, without retrying and without echoing the password', async () => {
    // U+0007 BELL is prohibited by SASLprep: Prosody's hashing refuses it.
    const password = 'bell \u0007 password';
    const outcome = await accounts.create('belled', password);
    expect(outcome).toMatchObject({ kind: 'rejected' });
    expect(JSON.stringify(outcome)).not.toContain(password);
    expect(await accounts.create('belled', 'a fine password 1')).toEqual({ kind: 'created' });
  });

  it('handles many creates in parallel over its pool', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `parallel${i}`);
    const outcomes = await Promise.all(names.map((name) => accounts.create(name, `${name} password`)));
    expect(outcomes.every((outcome) => outcome.kind === 'created')).toBe(true);
    expect(
      await xmppLogin({
        port: prosody.c2sPort,
        username: 'parallel39',
        password: 'parallel39 password',
        mechanism: 'PLAIN',
      }),
    ).toBe(true);
  });

  it('says Prosody is unavailable while it is down, and reconnects after a restart', async () => {
    expect(await accounts.create('before', 'before restart 1')).toEqual({ kind: 'created' });
    await prosody.kill();
    await expect(accounts.create('during', 'during restart 1')).rejects.toBeInstanceOf(ProsodyUnavailableError);
    await prosody.start();
    expect(await accounts.create('after', 'after restart 1')).toEqual({ kind: 'created' });
    expect(await accounts.verify('before', 'before restart 1')).toBe(true);
    expect(await xmppLogin({ port: prosody.c2sPort, username: 'after', password: 'after restart 1' })).toBe(true);
  });
});
