/**
 * The whole path for end-to-end tests and the benchmark: a real Prosody, the agent (in this process or as a
 * child process that can be killed), the cron worker as a child process, and the real meet-auth in this
 * process, all wired by the same keys and config loaders as `npm start`. Tickets are minted straight into
 * meet-auth's store (the HTTP path for tickets is covered by its own tests and one e2e test).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgentConfig } from '../../edge/agent/config.js';
import { startAgentServer, type AgentServer } from '../../edge/agent/server.js';
import { loadAuthConfig, type DispatchConfig } from '../../edge/auth/config.js';
import { startAuthServer, type AuthServer } from '../../edge/auth/server.js';
import type { ConnectionLimits } from '../../edge/shared/connection-guard.js';
import { openDatabase, type Db } from '../../edge/auth/store/db.js';
import { addTicketmaster, ticketmasterIdOf } from '../../edge/auth/store/ticketmasters.js';
import { mintTicket } from '../../edge/auth/store/tickets.js';
import { ensureLocalKeys, type LocalKeys } from '../../scripts/lib/local-keys.js';
import { createLogger } from '../../edge/shared/log.js';
import { localAgentEnv, localAuthEnv } from '../../scripts/lib/local-stack.js';
import { freePort } from './ports.js';
import { startTestProsody, type TestProsody } from './prosody.js';
import { until, waitForLine } from './until.js';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface Redemption {
  readonly status: number;
  readonly body: { request?: string; status?: string; error?: string; field?: string };
}

export interface RequestStatus {
  readonly status: 'pending' | 'created' | 'failed';
  readonly servers: ReadonlyArray<{ name: string; status: string }>;
}

export interface TestStack {
  readonly dataDir: string;
  /** meet-auth's database (its requests, tickets and outbox), opened beside the server. */
  readonly db: Db;
  readonly prosody: TestProsody;
  readonly keys: LocalKeys;
  readonly agentUrl: string;
  readonly authUrl: string;
  /** The token of the ticketmaster "E2E" (made at start), for tests that mint through /generate_token. */
  readonly ticketmasterToken: string;
  /** Environment for an agent or worker child process (secrets via env, never argv). */
  readonly agentEnv: Record<string, string>;
  startAgent(): Promise<void>;
  stopAgent(): Promise<void>;
  /** Starts the agent as a child process (`tsx edge/agent/main.ts`); resolves once it listens. */
  spawnAgent(): Promise<ChildProcess>;
  /** Starts one run of the cron worker (`tsx scripts/create-accounts.mts`). */
  spawnWorker(): ChildProcess;
  /** Mints `count` one-use tickets. */
  tickets(count: number): string[];
  redeem(user: string, password: string, ticket: string): Promise<Redemption>;
  /** Redeems over a connection of its own from source address `from` (127.0.0.x: one browser behind that address). */
  redeemFrom(from: string, user: string, password: string, ticket: string): Promise<Redemption>;
  status(requestId: string): Promise<RequestStatus>;
  /** Polls /status until it is no longer pending (or the deadline passes). */
  settled(requestId: string, timeoutMs?: number): Promise<RequestStatus>;
  dispose(): Promise<void>;
}

export interface TestStackOptions {
  /** Run the agent in this process from the start. @default true */
  readonly agentInProcess?: boolean;
  readonly authHoldMs?: number;
  /** Overrides of meet-auth's delivery schedule (shorter backoff keeps crash tests quick). */
  readonly dispatch?: Partial<DispatchConfig>;
  /** More of meet-auth's environment (e.g. MEET_TRUSTED_PROXIES, MEET_MEETING_URL). */
  readonly authEnv?: Record<string, string>;
  /** Overrides of meet-auth's connection limits (scaled down, so a test can put the guard under pressure). */
  readonly authConnections?: Partial<ConnectionLimits>;
}

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'meet-e2e-'));
  const prosody = await startTestProsody();
  const keys = await ensureLocalKeys(dataDir);
  const agentPort = await freePort();
  const agentEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...localAgentEnv({ dataDir, keys, logLevel: 'warn', port: agentPort, prosodySocket: prosody.socketPath }),
  };
  const silent = createLogger({ level: 'silent' });
  let agent: AgentServer | undefined;
  const children = new Set<ChildProcess>();

  const authConfig = loadAuthConfig({
    ...localAuthEnv({
      dataDir,
      keys,
      logLevel: 'silent',
      port: await freePort(),
      agentUrl: `http://127.0.0.1:${agentPort}`,
      // Long by default: the hold ends when the job is done, and a loaded CI machine still answers "created".
      holdMs: options.authHoldMs ?? 10_000,
    }),
    ...options.authEnv,
  });
  const auth: AuthServer = await startAuthServer(
    {
      ...authConfig,
      dispatch: { ...authConfig.dispatch, ...options.dispatch },
      connections: { ...authConfig.connections, ...options.authConnections },
    },
    { log: silent },
  );
  const db: Db = openDatabase(dataDir);
  const token = await addTicketmaster(db, 'E2E', 4);
  const issuer = { id: ticketmasterIdOf(token)!, name: 'E2E' };
  const origin = new URL(auth.url).origin;

  const stack: TestStack = {
    dataDir,
    db,
    prosody,
    keys,
    agentUrl: `http://127.0.0.1:${agentPort}`,
    authUrl: auth.url,
    ticketmasterToken: token,
    agentEnv,
    async startAgent() {
      agent ??= await startAgentServer(loadAgentConfig(agentEnv), { log: silent });
    },
    async stopAgent() {
      await agent?.close();
      agent = undefined;
    },
    async spawnAgent() {
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'edge/agent/main.ts')], {
        cwd: ROOT,
        env: agentEnv,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      await waitForLine(child, /agent listening/, { what: 'the agent' });
      return child;
    },
    spawnWorker() {
      const env = { ...agentEnv };
      delete env.MEET_AGENT_SIGNING_SECRETS;
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/create-accounts.mts'), '--quiet'], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    tickets(count) {
      return Array.from({ length: count }, () => mintTicket(db, issuer).ticket);
    },
    async redeem(user, password, ticket) {
      const response = await fetch(`${auth.url}/create`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', origin },
        body: new URLSearchParams({ user, password, token: ticket }),
      });
      return { status: response.status, body: (await response.json()) as Redemption['body'] };
    },
    redeemFrom(from, user, password, ticket) {
      const body = new URLSearchParams({ user, password, token: ticket }).toString();
      const headers = {
        accept: 'application/json',
        'content-type': 'application/x-www-form-urlencoded',
        origin,
        'content-length': String(Buffer.byteLength(body)),
      };
      return new Promise((resolve, reject) => {
        const request = httpRequest(
          `${auth.url}/create`,
          { method: 'POST', headers, localAddress: from, agent: false },
          (response) => {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (text += chunk));
            response.on('end', () =>
              resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Redemption['body'] }),
            );
            response.on('error', reject);
          },
        );
        request.on('error', reject);
        request.end(body);
      });
    },
    async status(requestId) {
      const response = await fetch(`${auth.url}/status/${requestId}`, { headers: { accept: 'application/json' } });
      return (await response.json()) as RequestStatus;
    },
    async settled(requestId, timeoutMs = 30_000) {
      // Past the deadline the caller gets the still-pending status, for its assertion to show.
      return until(
        `request ${requestId} settles`,
        () => stack.status(requestId),
        (current) => current.status !== 'pending',
        { timeoutMs, everyMs: 100 },
      ).catch(() => stack.status(requestId));
    },
    async dispose() {
      for (const child of children) child.kill('SIGKILL');
      await agent?.close();
      await auth.close();
      db.close();
      await prosody.dispose();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  if (options.agentInProcess ?? true) await stack.startAgent();
  return stack;
}
