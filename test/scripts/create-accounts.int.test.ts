/** The cron safety net as cron runs it: `tsx scripts/create-accounts.mts` over the agent's inbox. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Inbox } from '../../edge/agent/inbox.js';
import { generateSealingKeyPair, seal, sealContext } from '../../edge/shared/sealing.js';
import { startTestProsody, type TestProsody } from '../support/prosody.js';
import { runScript } from '../support/run-script.js';
import { xmppLogin } from '../support/xmpp.js';

const keys = generateSealingKeyPair();
let prosody: TestProsody;
let dataDir: string;

beforeAll(async () => {
  prosody = await startTestProsody();
  dataDir = await mkdtemp(join(tmpdir(), 'create-accounts-'));
});
afterAll(async () => {
  await prosody?.dispose();
  await rm(dataDir, { recursive: true, force: true });
});

const run = (args: string[], env: Record<string, string>) =>
  runScript('scripts/create-accounts.mts', args, { env, cleanEnv: true });

const env = () => ({
  MEET_DATA_DIR: dataDir,
  MEET_AGENT_SEALING_KEYS: keys.privateKey,
  MEET_PROSODY_SOCKET: prosody.socketPath,
});

function queue(jobs: Array<[string, string, string]>) {
  const inbox = new Inbox(join(dataDir, 'agent.sqlite'));
  for (const [id, username, password] of jobs)
    inbox.receive({ id, username, sealedPassword: seal(keys.publicKey, password, sealContext(id, username)) });
  inbox.close();
}

it('--help exits 0; bad configuration or arguments exit 2 (usage or bad input) with a clear message', async () => {
  const help = await run(['--help'], {});
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('usage: npm run create-accounts');
  const bad = await run([], { MEET_DATA_DIR: dataDir });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('MEET_AGENT_SEALING_KEYS');
  const bogus = await run(['--bogus'], env());
  expect(bogus.code).toBe(2);
  expect(bogus.stderr.split('\n')[0]).toBe('create-accounts: unknown option --bogus');
  const extra = await run(['now'], env());
  expect([extra.code, extra.stderr.split('\n')[0]]).toEqual([2, 'create-accounts: unexpected argument now']);
});

it('creates the waiting accounts, prints one line per job and a summary; a second run finds nothing to do', async () => {
  await prosody.prosodyctl(['adduser', 'cronowned@meet.jitsi'], 'owner password 1\nowner password 1\n');
  queue([
    ['c1', 'cronone', 'cron password one'],
    ['c2', 'crontwo', `cron "password" $(two)`],
    ['c3', 'cronowned', 'intruder password 2'],
  ]);
  const first = await run([], env());
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/^c1\tcreated$/m);
  expect(first.stdout).toMatch(/^c3\tconflict\t/m);
  expect(first.stdout).toMatch(/created 2, conflict 1, failed 0, put back 0 \(0 waiting in the inbox\)/);
  expect(
    await xmppLogin({
      port: prosody.c2sPort,
      username: 'crontwo',
      password: `cron "password" $(two)`,
      mechanism: 'PLAIN',
    }),
  ).toBe(true);
  expect(
    await xmppLogin({ port: prosody.c2sPort, username: 'cronowned', password: 'owner password 1', mechanism: 'PLAIN' }),
  ).toBe(true);

  const second = await run([], env());
  expect(second.code).toBe(0);
  expect(second.stdout).toMatch(/^created 0, conflict 0, failed 0, put back 0/m);
});

it('exits 75 (try again later) when Prosody is down, leaving the job waiting', async () => {
  queue([['c4', 'cronlater', 'later password 1']]);
  const down = await run([], { ...env(), MEET_PROSODY_SOCKET: join(dataDir, 'no-such.sock') });
  expect(down.code).toBe(75);
  expect(down.stdout).toMatch(/put back 1 \(1 waiting in the inbox\)/);
});
