/**
 * A full disk, for real: meet-auth's and the agent's data directories are small tmpfs mounts (root, as CI runs),
 * filled up with a file until the kernel says ENOSPC. Nothing crashes (an uncaught error would fail this run): new
 * redemptions get a clear 503 and change nothing, pages, /status and the held jobs stay, /healthz says degraded, the
 * dispatcher and the worker back off; once the file is gone everything carries on by itself, proven by XMPP logins.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadAgentConfig } from '../../edge/agent/config.js';
import { Inbox } from '../../edge/agent/inbox.js';
import { AdminSocketAccounts } from '../../edge/agent/prosody/socket-accounts.js';
import { startAgentServer, type AgentServer } from '../../edge/agent/server.js';
import { AccountWorker } from '../../edge/agent/worker.js';
import { loadAuthConfig } from '../../edge/auth/config.js';
import { startAuthServer, type AuthServer } from '../../edge/auth/server.js';
import { openDatabase, type Db } from '../../edge/auth/store/db.js';
import { addTicketmaster, ticketmasterIdOf } from '../../edge/auth/store/ticketmasters.js';
import { listJobs } from '../../edge/auth/store/outbox.js';
import { mintTicket } from '../../edge/auth/store/tickets.js';
import { ensureLocalKeys } from '../../scripts/lib/local-keys.js';
import { createLogger } from '../../edge/shared/log.js';
import { seal, sealContext } from '../../edge/shared/sealing.js';
import { localAgentEnv, localAuthEnv } from '../../scripts/lib/local-stack.js';
import { freePort } from '../support/ports.js';
import { startTestProsody, type TestProsody } from '../support/prosody.js';
import { until } from '../support/until.js';
import { xmppLogin } from '../support/xmpp.js';

const silent = createLogger({ level: 'silent' });
const PASSWORD = 'a long enough password 7';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let base: string;
const mounts: string[] = [];
let prosody: TestProsody;
let keys: Awaited<ReturnType<typeof ensureLocalKeys>>;
let agentEnv: Record<string, string>;
let agent: AgentServer | undefined;
let auth: AuthServer;
let db: Db;
let issuer: { id: string; name: string };

/** A fresh tmpfs of `size` at a new directory under base. */
function smallDisk(name: string, size: string): string {
  const dir = join(base, name);
  mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(`this test mounts a small tmpfs and must run as root (as CI does): ${(error as Error).message}`);
  }
  mounts.push(dir);
  return dir;
}

/** Fills the file system of `dir` to the last byte; returns the filler's path (delete it to make room). */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  try {
    for (const size of [1 << 16, 4096, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

const json = async (response: Response) => ({
  status: response.status,
  body: (await response.json()) as Record<string, unknown>,
});
const redeem = async (user: string, ticket: string) =>
  json(
    await fetch(`${auth.url}/create`, {
      method: 'POST',
      headers: {
        accept: 'application/json',
        'content-type': 'application/x-www-form-urlencoded',
        origin: new URL(auth.url).origin,
      },
      body: new URLSearchParams({ user, password: PASSWORD, token: ticket }),
    }),
  );
const statusOf = async (request: unknown) =>
  json(await fetch(`${auth.url}/status/${request}`, { headers: { accept: 'application/json' } }));
const health = async (url: string) => json(await fetch(`${url}/healthz`));
const login = (user: string) => xmppLogin({ port: prosody.c2sPort, username: user, password: PASSWORD });

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'full-disk-'));
  keys = await ensureLocalKeys(base);
  prosody = await startTestProsody();
  const agentPort = await freePort();
  agentEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...localAgentEnv({
      dataDir: smallDisk('agent', '8m'),
      keys,
      logLevel: 'silent',
      port: agentPort,
      prosodySocket: prosody.socketPath,
    }),
  };
  agent = await startAgentServer(loadAgentConfig(agentEnv), { log: silent });
  const authDir = smallDisk('auth', '8m');
  const config = loadAuthConfig(
    localAuthEnv({
      dataDir: authDir,
      keys,
      logLevel: 'silent',
      port: await freePort(),
      agentUrl: `http://127.0.0.1:${agentPort}`,
      holdMs: 1500,
    }),
  );
  auth = await startAuthServer(
    {
      ...config,
      dispatch: {
        ...config.dispatch,
        baseDelayMs: 50,
        maxDelayMs: 500,
        pollIntervalMs: 100,
        requestTimeoutMs: 2000,
        maxAttempts: 1000,
      },
    },
    { log: silent },
  );
  db = openDatabase(authDir);
  const token = await addTicketmaster(db, 'Disk', 4);
  issuer = { id: ticketmasterIdOf(token)!, name: 'Disk' };
}, 60_000);

afterAll(async () => {
  await agent?.close();
  await auth?.close();
  db?.close();
  await prosody?.dispose();
  for (const dir of mounts) execFileSync('umount', ['-l', dir]);
  rmSync(base, { recursive: true, force: true });
});

it('meet-auth on a full disk: 503 for new redemptions, nothing half-done, pages and held jobs stay, and it recovers by itself', async () => {
  const [first, held, refused] = [1, 2, 3].map(() => mintTicket(db, issuer).ticket);
  const done = await redeem('before-full', first!);
  expect(done.body.status).toBe('created');
  // A job still on its way when the disk fills: the dispatcher keeps leasing it on its timer.
  await agent!.close();
  agent = undefined;
  const waiting = await redeem('while-full', held!);
  expect(waiting.body.status).toBe('pending');

  const filler = fill(join(base, 'auth'));
  await until(
    'meet-auth sees its disk full',
    () => health(auth.url),
    (answer) => answer.status === 503,
  );
  const full = await redeem('never-made', refused!);
  expect(full.status).toBe(503);
  expect(String(full.body.error)).toMatch(/disk is full/);
  expect(await health(auth.url)).toEqual({
    status: 503,
    body: { status: 'degraded', problem: expect.stringMatching(/disk full/) },
  });
  expect(await statusOf(done.body.request)).toEqual({
    status: 200,
    body: { status: 'created', servers: [{ name: 'local', status: 'created' }] },
  });
  expect((await statusOf(waiting.body.request)).body).toMatchObject({ status: 'pending' });
  expect((await fetch(`${auth.url}/create`)).status).toBe(200);
  // Nothing of the refused redemption was written: no request, the ticket's use untouched.
  expect(db.prepare(`SELECT count(*) AS n FROM requests WHERE username = 'never-made'`).get()).toEqual({ n: 0 });
  expect(db.prepare('SELECT uses FROM tickets WHERE selector = ?').get(refused!.split('.')[0])).toEqual({ uses: 0 });
  // Full for a while (a time window on purpose: the dispatcher's timer keeps running, and cannot write, meanwhile).
  await sleep(1500);

  unlinkSync(filler);
  agent = await startAgentServer(loadAgentConfig(agentEnv), { log: silent });
  await until(
    'meet-auth healthy again',
    () => health(auth.url),
    (answer) => answer.status === 200,
    { timeoutMs: 45_000 },
  );
  expect(
    (
      await until(
        'the held job',
        () => statusOf(waiting.body.request),
        (answer) => answer.body.status !== 'pending',
        { timeoutMs: 45_000 },
      )
    ).body.status,
  ).toBe('created');
  expect((await redeem('never-made', refused!)).body.status).toBe('created');
  for (const user of ['before-full', 'while-full', 'never-made']) expect(await login(user)).toBe(true);
}, 90_000);

it('the agent on a full disk: it refuses to store jobs with a 503, says degraded, and takes them once there is room', async () => {
  const filler = fill(join(base, 'agent'));
  const redeemed = await redeem('agent-full', mintTicket(db, issuer).ticket);
  expect(redeemed.body.status).toBe('pending');
  expect(await health(agent!.url)).toMatchObject({ status: 503, body: { status: 'degraded' } });
  expect(await health(auth.url)).toMatchObject({ status: 200 });
  const attempts = () => listJobs(db).find((job) => job.requestId === redeemed.body.request)?.attempts ?? 0;
  await until('meet-auth delivered to the full agent', attempts, (n) => n >= 1);
  unlinkSync(filler);
  expect(
    (
      await until(
        'the job after room came back',
        () => statusOf(redeemed.body.request),
        (answer) => answer.body.status !== 'pending',
        { timeoutMs: 45_000 },
      )
    ).body.status,
  ).toBe('created');
  expect((await health(agent!.url)).status).toBe(200);
  expect(await login('agent-full')).toBe(true);
}, 90_000);

it('the worker on a full disk: claims fail without a crash, it backs off, and works the job once there is room', async () => {
  const dir = smallDisk('worker', '4m');
  const inbox = new Inbox(join(dir, 'inbox.sqlite'));
  const accounts = new AdminSocketAccounts({ socketPath: prosody.socketPath });
  const worker = new AccountWorker({ inbox, accounts, sealingKeys: [keys.sealingPrivateKey], log: silent });
  try {
    const id = 'full-worker-job';
    inbox.receive({
      id,
      username: 'worker-full',
      sealedPassword: seal(keys.sealingPublicKey, PASSWORD, sealContext(id, 'worker-full')),
    });
    const filler = fill(dir);
    expect(await worker.drain()).toEqual({ created: 0, conflict: 0, failed: 0, retry: 0 });
    expect(worker.storage.full).toBe(true);
    expect(inbox.get(id)).toMatchObject({ status: 'pending', attempts: 0 });
    unlinkSync(filler);
    // Drains do nothing while the worker backs off; the first after that takes the job.
    const drained = await until(
      'the worker takes the job again',
      () => worker.drain(),
      (counts) => Object.values(counts).some((n) => n > 0),
    );
    expect(drained).toMatchObject({ created: 1 });
    expect(worker.storage.full).toBe(false);
    expect(await login('worker-full')).toBe(true);
  } finally {
    await accounts.close();
    inbox.close();
  }
}, 60_000);
