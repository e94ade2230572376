/**
 * Builds a real meet-auth for tests: a temp MEET_DATA_DIR with the real SQLite store, real agent doubles
 * over HTTP, a captured log, and the app driven through app.request() with an injected client address.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp } from '../../../edge/auth/app.js';
import {
  DEFAULT_DISPATCH,
  DEFAULT_RATE_LIMITS,
  loadAuthConfig,
  type AuthConfig,
  type DispatchConfig,
  type RateLimitConfig,
} from '../../../edge/auth/config.js';
import { Dispatcher } from '../../../edge/auth/dispatcher.js';
import { openFailureLimiter } from '../../../edge/auth/limits.js';
import { createMetrics } from '../../../edge/auth/metrics.js';
import { openDatabase, openLimitsDatabase, type Db } from '../../../edge/auth/store/db.js';
import { addTicketmaster } from '../../../edge/auth/store/ticketmasters.js';
import { mintTicket, type MintOptions } from '../../../edge/auth/store/tickets.js';
import { createLogger } from '../../../edge/shared/log.js';
import { startAgentDouble, type AgentDouble, type Behaviour } from './agent-double.js';

export const ORIGIN = 'http://meet-auth.test';
const TEST_BCRYPT_COST = 4;
/**
 * How long /create holds its answer by default. The hold ends as soon as the job is done, so a long one costs a
 * test nothing, and a loaded CI machine still sees "created" rather than "pending" (once failed at 2000 ms).
 */
const HOLD_MS = 15_000;

export interface HarnessOptions {
  readonly agents?: readonly { name: string; behave?: Behaviour }[];
  /** Default 15 s; a test that wants the "pending" answer sets its own, short one. */
  readonly holdMs?: number;
  readonly rateLimits?: Partial<RateLimitConfig>;
  readonly dispatch?: Partial<DispatchConfig>;
  readonly trustedProxies?: readonly string[];
  readonly now?: () => number;
  /** More meet-auth environment (e.g. MEET_METRICS_TOKEN). */
  readonly env?: Record<string, string>;
}

export interface Harness {
  readonly dataDir: string;
  readonly db: Db;
  readonly config: AuthConfig;
  readonly app: ReturnType<typeof createApp>;
  readonly dispatcher: Dispatcher;
  readonly agents: AgentDouble[];
  readonly logLines: string[];
  /** A ticketmaster token (made once per harness). */
  ticketmasterToken(name?: string): Promise<string>;
  ticket(options?: MintOptions): Promise<string>;
  /** POSTs a JSON body (Accept: application/json) from a client address. */
  post(path: string, body: unknown, options?: { from?: string; headers?: Record<string, string> }): Promise<Response>;
  /** POSTs a form like a browser does (same-origin Origin header). */
  postForm(
    path: string,
    fields: Record<string, string>,
    options?: { from?: string; headers?: Record<string, string> },
  ): Promise<Response>;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'meet-auth-test-'));
  const agents = await Promise.all(
    (options.agents ?? [{ name: 'jitsi' }]).map((agent) =>
      startAgentDouble(agent.name, agent.behave ? { behave: agent.behave } : {}),
    ),
  );
  const base = loadAuthConfig({
    MEET_DATA_DIR: dataDir,
    MEET_PUBLIC_URL: ORIGIN,
    MEET_AGENTS: JSON.stringify(agents.map(({ name, url, sealingPublicKey }) => ({ name, url, sealingPublicKey }))),
    MEET_AGENT_SIGNING_SECRETS: JSON.stringify(
      Object.fromEntries(agents.map((agent) => [agent.name, agent.signingSecrets])),
    ),
    MEET_HOLD_MS: String(options.holdMs ?? HOLD_MS),
    MEET_TRUSTED_PROXIES: (options.trustedProxies ?? []).join(','),
    ...options.env,
  });
  const config: AuthConfig = {
    ...base,
    rateLimits: { ...DEFAULT_RATE_LIMITS, ...options.rateLimits },
    dispatch: {
      ...DEFAULT_DISPATCH,
      baseDelayMs: 20,
      maxDelayMs: 200,
      requestTimeoutMs: 1000,
      pollIntervalMs: 25,
      ...options.dispatch,
    },
  };
  const logLines: string[] = [];
  const log = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logLines.push(chunk.toString('utf8'));
        callback();
      },
    }),
  });
  const db = openDatabase(dataDir);
  const limitsDb = openLimitsDatabase(dataDir);
  const limiter = await openFailureLimiter(config.rateLimits, limitsDb);
  const metrics = createMetrics(db);
  const dispatcher = new Dispatcher({
    db,
    agents: config.agents,
    config: config.dispatch,
    log,
    metrics,
    ...(options.now ? { now: options.now } : {}),
  });
  dispatcher.start();
  const app = createApp({
    config,
    db,
    dispatcher,
    log,
    metrics,
    limiter,
    remoteAddress: (c) => c.req.header('x-test-peer') ?? '198.51.100.7',
    ...(options.now ? { now: options.now } : {}),
  });
  let tmToken: Promise<string> | undefined;
  const harness: Harness = {
    dataDir,
    db,
    config,
    app,
    dispatcher,
    agents,
    logLines,
    async ticketmasterToken(name = 'Ada') {
      if (name !== 'Ada') return addTicketmaster(db, name, TEST_BCRYPT_COST);
      tmToken ??= addTicketmaster(db, name, TEST_BCRYPT_COST);
      return await tmToken;
    },
    async ticket(mint = {}) {
      const token = await harness.ticketmasterToken();
      const id = token.slice(3, token.indexOf('.'));
      const issuer = db.prepare('SELECT id, name FROM ticketmasters WHERE id = ?').get(id) as {
        id: string;
        name: string;
      };
      return mintTicket(db, issuer, mint, options.now?.() ?? Date.now()).ticket;
    },
    post: (path, body, { from, headers } = {}) =>
      Promise.resolve(
        app.request(path, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            ...(from ? { 'x-test-peer': from } : {}),
            ...headers,
          },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
      ),
    postForm: (path, fields, { from, headers } = {}) =>
      Promise.resolve(
        app.request(`${ORIGIN}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            origin: ORIGIN,
            ...(from ? { 'x-test-peer': from } : {}),
            ...headers,
          },
          body: new URLSearchParams(fields).toString(),
        }),
      ),
    get: (path, headers = {}) => Promise.resolve(app.request(`${ORIGIN}${path}`, { headers })),
    async close() {
      await dispatcher.close();
      db.close();
      limitsDb.close();
      await Promise.all(agents.map((agent) => agent.close()));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** A full, ordered dump of every table: compared before/after to prove a request changed nothing. */
export function dumpDatabase(db: Db): string {
  const tables = (
    db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]
  ).map((row) => row.name);
  return JSON.stringify(
    tables.map((table) => [table, db.prepare(`SELECT * FROM "${table}" ORDER BY rowid`).all()]),
    (_key, value: unknown) => (Buffer.isBuffer(value) ? value.toString('hex') : value),
  );
}

export const GOOD_PASSWORD = 'correct horse battery staple';
