import { hostname } from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Inbox } from '../../../edge/agent/inbox.js';
import { AccountWorker } from '../../../edge/agent/worker.js';
import { createLogger } from '../../../edge/shared/log.js';
import { generateSealingKeyPair, seal, sealContext } from '../../../edge/shared/sealing.js';
import { startAgentRig, type AgentRig, type RigAccounts } from '../../support/agent-rig.js';
import type { TestProsody } from '../../support/prosody.js';
import { until } from '../../support/until.js';
import { xmppLogin } from '../../support/xmpp.js';

const oldKeys = generateSealingKeyPair();
const newKeys = generateSealingKeyPair();
let rig: AgentRig;
let prosody: TestProsody;
let inbox: Inbox;
let accounts: RigAccounts;
let worker: AccountWorker;

beforeAll(async () => {
  rig = await startAgentRig({
    sealingKeys: [newKeys.privateKey, oldKeys.privateKey],
    worker: { retryBaseMs: 50 },
    name: 'worker-',
  });
  ({ prosody, inbox, accounts, worker } = rig);
});
afterAll(() => rig?.dispose());

const add = (id: string, username: string, password: string, publicKey = newKeys.publicKey) =>
  inbox.receive({ id, username, sealedPassword: seal(publicKey, password, sealContext(id, username)) });

it('creates accounts, with seals made for the current or the previous key', async () => {
  add('w1', 'wone', 'worker password 1');
  add('w2', 'wtwo', 'worker password 2', oldKeys.publicKey);
  expect(await worker.drain()).toEqual({ created: 2, conflict: 0, failed: 0, retry: 0 });
  expect(
    await xmppLogin({ port: prosody.c2sPort, username: 'wtwo', password: 'worker password 2', mechanism: 'PLAIN' }),
  ).toBe(true);
  expect(inbox.get('w1')).toMatchObject({ status: 'created' });
});

it('a crash between the create and its record: the same job, claimed again, counts the account as created', async () => {
  add('w3', 'crashed', 'crash password 1');
  // A worker that claimed the job (marked it attempting), created the account, and died before recording it.
  const deadOwner = `${hostname()}:${2 ** 22 + 12_345}:gone`;
  expect(inbox.claim(deadOwner, 1, 60_000)).toMatchObject([{ id: 'w3', attemptedBefore: false }]);
  expect(await accounts.create('crashed', 'crash password 1')).toEqual({ kind: 'created' });
  expect(await worker.drain()).toMatchObject({ created: 1, conflict: 0 });
  expect(inbox.get('w3')).toMatchObject({
    status: 'created',
    detail: 'the account already existed with this password',
  });
});

it('an account this job did not try to create is a conflict even with the job’s password: the password is never consulted', async () => {
  // Made by hand (or a service account): a redemption must not learn whether it guessed its password.
  expect(await accounts.create('handmade', 'the right password 1')).toEqual({ kind: 'created' });
  const consulted: string[] = [];
  const spying = new AccountWorker({
    inbox,
    accounts: {
      create: (username, password) => accounts.create(username, password),
      verify: (username, password) => {
        consulted.push(username);
        return accounts.verify(username, password);
      },
      close: async () => undefined,
    },
    sealingKeys: [newKeys.privateKey],
    log: createLogger({ level: 'silent' }),
  });
  for (const id of ['wh1', 'wh2', 'wh3']) {
    add(id, 'handmade', 'the right password 1');
    expect(await spying.drain()).toEqual({ created: 0, conflict: 1, failed: 0, retry: 0 });
    expect(inbox.get(id)).toMatchObject({
      status: 'conflict',
      detail: 'the name exists on this server already; left untouched',
    });
  }
  expect(consulted).toEqual([]);
  expect(await accounts.verify('handmade', 'the right password 1')).toBe(true);
});

it('an account there with another password is a conflict and stays untouched', async () => {
  expect(await accounts.create('owned', 'owner password 1')).toEqual({ kind: 'created' });
  add('w4', 'owned', 'intruder password 2');
  expect(await worker.drain()).toMatchObject({ conflict: 1 });
  expect(await accounts.verify('owned', 'owner password 1')).toBe(true);
});

it('a seal that does not open fails the job for good', async () => {
  inbox.receive({
    id: 'w5',
    username: 'sealbad',
    sealedPassword: seal(generateSealingKeyPair().publicKey, 'pw pw pw pw', sealContext('w5', 'sealbad')),
  });
  expect(await worker.drain()).toMatchObject({ failed: 1 });
  expect(inbox.get('w5')).toMatchObject({ status: 'failed', detail: expect.stringContaining('does not open') });
});

it('while Prosody is down jobs are put back, and created once it is back', async () => {
  await prosody.stop();
  add('w6', 'patient', 'patient password 1');
  expect(await worker.drain()).toMatchObject({ retry: 1, created: 0 });
  expect(inbox.get('w6')).toMatchObject({
    status: 'attempting',
    attempts: 1,
    detail: expect.stringContaining('admin socket'),
  });
  await prosody.start();
  // Drains find nothing until the job's retry delay has passed; the first that takes it creates it.
  const drained = await until(
    'w6 is due again',
    () => worker.drain(),
    (counts) => Object.values(counts).some((n) => n > 0),
  );
  expect(drained).toMatchObject({ created: 1 });
  expect(inbox.get('w6')).toMatchObject({ status: 'created', attempts: 2 });
  expect(
    await xmppLogin({ port: prosody.c2sPort, username: 'patient', password: 'patient password 1', mechanism: 'PLAIN' }),
  ).toBe(true);
});

it('at debug level, logs each job’s timeline (claimed, then stored in Prosody) without the password', async () => {
  const lines: Array<{ fields: object; message: string }> = [];
  const record = (fields: object, message: string) => lines.push({ fields, message });
  const traced = new AccountWorker({
    inbox,
    accounts,
    sealingKeys: [newKeys.privateKey],
    log: { info: record, warn: record, error: record, debug: record },
  });
  add('wt1', 'wtraced', 'traced password 1');
  expect(await traced.drain()).toMatchObject({ created: 1 });
  const timeline = lines
    .filter(({ fields }) => (fields as { job?: string }).job === 'wt1')
    .map(({ message }) => message);
  expect(timeline).toEqual(['job claimed', 'job stored in prosody', 'account created']);
  expect(JSON.stringify(lines)).not.toContain('traced password 1');
});
