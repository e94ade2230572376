/**
 * The agent's admin routes for rotation and backups against a real Prosody 13: `/service-accounts/password` reaches
 * exactly focus@ and jvb@ on the auth domain (never a user), `/backup/*` exports whole records that log in again
 * after an import into another Prosody. Every check is a real XMPP login.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountRecords } from '../../../../edge/agent/prosody/account-records.js';
import { AdminSocketAccounts } from '../../../../edge/agent/prosody/socket-accounts.js';
import { ADMIN_PATHS, servicePasswordSealContext } from '../../../../edge/shared/admin-protocol.js';
import { generateSealingKeyPair, seal } from '../../../../edge/shared/sealing.js';
import { generateSigningSecret, parseSigningSecrets, signRequest } from '../../../../edge/shared/signing.js';
import { startAgentRig, type AgentRig, type RigAccounts } from '../../../support/agent-rig.js';
import { xmppLogin } from '../../../support/xmpp.js';

const sealing = generateSealingKeyPair();
const keys = parseSigningSecrets(generateSigningSecret());

type Host = AgentRig & { readonly users: RigAccounts; readonly service: RigAccounts };

async function startHost(): Promise<Host> {
  const rig = await startAgentRig({
    sealingKeys: [sealing.privateKey],
    signingKeys: keys,
    name: 'agent-admin-',
    serviceAdmin: (prosody) => new AdminSocketAccounts({ socketPath: prosody.socketPath, domain: 'auth.meet.jitsi' }),
    records: (prosody) => new AccountRecords(prosody.socketPath),
  });
  return { ...rig, users: rig.accounts, service: rig.serviceAdmin! };
}

async function post(host: Host, path: string, makeBody: (id: string) => object, signWith = keys) {
  const id = randomUUID();
  const body = JSON.stringify(makeBody(id));
  const response = await host.app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signRequest(signWith, id, body) },
    body,
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const setService = (host: Host, account: string, password: string, signWith = keys) =>
  post(
    host,
    ADMIN_PATHS.servicePassword,
    (id) => ({
      account,
      sealedPassword: seal(sealing.publicKey, password, servicePasswordSealContext(id, account as 'focus')),
    }),
    signWith,
  );

let a: Host;
let b: Host;
beforeAll(async () => {
  [a, b] = await Promise.all([startHost(), startHost()]);
  await a.service.create('focus', 'a'.repeat(32));
  await a.users.create('alice', 'alice password 1');
});
afterAll(async () => {
  await a?.dispose();
  await b?.dispose();
});

describe('POST /service-accounts/password', () => {
  it('sets the new password on focus@auth.meet.jitsi: the new one logs in, the old one not', async () => {
    const fresh = 'b0'.repeat(24);
    const result = await setService(a, 'focus', fresh);
    expect(result).toEqual({ status: 200, json: { status: 'changed' } });
    const port = a.prosody.c2sPort;
    expect(
      await xmppLogin({ port, username: 'focus', password: fresh, domain: 'auth.meet.jitsi', mechanism: 'PLAIN' }),
    ).toBe(true);
    expect(
      await xmppLogin({
        port,
        username: 'focus',
        password: 'a'.repeat(32),
        domain: 'auth.meet.jitsi',
        mechanism: 'PLAIN',
      }),
    ).toBe(false);
  });

  it('answers "absent" for a service account not created yet, and never creates it', async () => {
    expect((await setService(a, 'jvb', 'c1'.repeat(24))).json).toEqual({ status: 'absent' });
    expect(
      await xmppLogin({
        port: a.prosody.c2sPort,
        username: 'jvb',
        password: 'c1'.repeat(24),
        domain: 'auth.meet.jitsi',
        mechanism: 'PLAIN',
      }),
    ).toBe(false);
  });

  it('refuses any other account (a user of the XMPP domain included), unsigned requests and non-hex-safe passwords', async () => {
    for (const account of ['alice', 'admin', 'focus@meet.jitsi', 'jibri']) {
      const result = await setService(a, account, 'd2'.repeat(24));
      expect(result.status, account).toBe(400);
    }
    expect(
      await xmppLogin({ port: a.prosody.c2sPort, username: 'alice', password: 'alice password 1', mechanism: 'PLAIN' }),
    ).toBe(true);
    expect((await setService(a, 'focus', 'e3'.repeat(24), parseSigningSecrets(generateSigningSecret()))).status).toBe(
      401,
    );
    expect((await setService(a, 'focus', 'has spaces and $(shell) in it!')).status).toBe(400);
  });
});

describe('POST /backup/list, /backup/export, /backup/import', () => {
  it('exports whole records that log in with their old passwords after an import into another Prosody', async () => {
    const listed = await post(a, ADMIN_PATHS.backupList, () => ({}));
    expect(listed.json).toEqual({ domains: { xmpp: ['alice'], auth: ['focus'] } });
    const users = await post(a, ADMIN_PATHS.backupExport, () => ({ domain: 'xmpp', usernames: ['alice', 'nobody'] }));
    const service = await post(a, ADMIN_PATHS.backupExport, () => ({ domain: 'auth', usernames: ['focus'] }));
    const records = users.json.accounts as Array<{ username: string; account: Record<string, unknown> }>;
    expect(records.map((record) => record.username)).toEqual(['alice']);
    expect(JSON.stringify(records)).not.toContain('alice password 1');
    expect(records[0]!.account.stored_key).toMatch(/^[0-9a-f]{40,64}$/);

    expect((await post(b, ADMIN_PATHS.backupImport, () => ({ domain: 'xmpp', accounts: records }))).json).toEqual({
      imported: 1,
    });
    expect(
      (await post(b, ADMIN_PATHS.backupImport, () => ({ domain: 'auth', accounts: service.json.accounts }))).json,
    ).toEqual({ imported: 1 });
    expect(await xmppLogin({ port: b.prosody.c2sPort, username: 'alice', password: 'alice password 1' })).toBe(true);
    expect(
      await xmppLogin({
        port: b.prosody.c2sPort,
        username: 'focus',
        password: 'b0'.repeat(24),
        domain: 'auth.meet.jitsi',
        mechanism: 'PLAIN',
      }),
    ).toBe(true);
    expect(await xmppLogin({ port: b.prosody.c2sPort, username: 'alice', password: 'wrong password here' })).toBe(
      false,
    );
  });

  it('refuses records whose fields could break out of the Lua string, and unknown domains', async () => {
    const evil = [{ username: 'mallory', account: { stored_key: ']]..os.exit(1)..[[', salt: ']=]' } }];
    const result = await post(b, ADMIN_PATHS.backupImport, () => ({ domain: 'xmpp', accounts: evil }));
    expect(result.json).toEqual({ imported: 1 });
    // Stored as data, and Prosody still answers.
    expect((await post(b, ADMIN_PATHS.backupList, () => ({}))).json.domains).toEqual({
      xmpp: ['alice', 'mallory'],
      auth: ['focus'],
    });
    expect((await post(b, ADMIN_PATHS.backupExport, () => ({ domain: 'localhost', usernames: [] }))).status).toBe(400);
    expect(
      (
        await post(b, ADMIN_PATHS.backupImport, () => ({
          domain: 'xmpp',
          accounts: [{ username: 'x@y', account: {} }],
        }))
      ).status,
    ).toBe(400);
  });
});
