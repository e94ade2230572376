/**
 * Benchmark of meet-auth (the edge), run as its own process so its resident memory is measurable, against the
 * real agent and a real Prosody (falls back to a bench-local signed receiver when Prosody is not installed; the
 * `agent` figure says which). Two runtimes, same code: `tsx_*` figures run it as the Dockerfile does today
 * (tsx, whose loader thread alone costs ~45 MB), `compiled_*` from tsc output with capped V8 heap sizes.
 *
 * Phase 1: sustained redemptions, closed loop, CONCURRENCY clients, each /create held until the account exists.
 * Phase 2: legit redemptions (4 clients, own addresses) while another address floods 500 bad tickets per second;
 *          the legit p99 and how the flooder was answered. Peak RSS is the edge's VmHWM over both phases.
 * MEET_BENCH_EDGE_SECONDS / MEET_BENCH_FLOOD_SECONDS shorten or lengthen the phases (default 10 s each).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { openDatabase, type Db } from '../../edge/auth/store/db.js';
import { addTicketmaster, verifyTicketmasterToken } from '../../edge/auth/store/ticketmasters.js';
import { mintTicket } from '../../edge/auth/store/tickets.js';
import { generateSealingKeyPair, openSeal } from '../../edge/shared/sealing.js';
import { generateSigningSecret, parseSigningSecrets, verifyRequest } from '../../edge/shared/signing.js';
import type { BenchFigures } from './parts.mts';

const ROOT = resolve(import.meta.dirname, '../..');
const SUSTAINED_SECONDS = Number(process.env.MEET_BENCH_EDGE_SECONDS ?? 10);
const CONCURRENCY = 16;
const FLOOD_RPS = 500;
const FLOOD_SECONDS = Number(process.env.MEET_BENCH_FLOOD_SECONDS ?? 10);
const LEGIT_CLIENTS = 4;

interface Agent {
  readonly kind: string;
  readonly url: string;
  readonly sealingPublicKey: string;
  readonly signingSecret: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const probe = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => done(port));
    });
  });
}

/** The real agent with a real Prosody (the other half of the system), when Prosody is installed. */
async function startRealAgent(dataDir: string): Promise<Agent> {
  const { startLocalProsody } = await import('../lib/local-prosody.js');
  const { loadAgentConfig } = await import('../../edge/agent/config.js');
  const { startAgentServer } = await import('../../edge/agent/server.js');
  const signingSecret = generateSigningSecret();
  const sealing = generateSealingKeyPair();
  const prosody = await startLocalProsody({ dir: join(dataDir, 'prosody'), c2sPort: await freePort() });
  try {
    const agent = await startAgentServer(
      loadAgentConfig({
        MEET_DATA_DIR: dataDir,
        MEET_AGENT_PORT: '0',
        MEET_AGENT_SIGNING_SECRETS: signingSecret,
        MEET_AGENT_SEALING_KEYS: sealing.privateKey,
        MEET_PROSODY_SOCKET: prosody.socketPath,
        MEET_XMPP_DOMAIN: prosody.domain,
        MEET_LOG_LEVEL: 'warn',
      }),
      { log: pino({ level: 'warn' }) },
    );
    return {
      kind: 'real agent (edge/agent) + Prosody 13',
      url: agent.url,
      sealingPublicKey: sealing.publicKey,
      signingSecret,
      close: async () => {
        await agent.close();
        await prosody.stop();
      },
    };
  } catch (error) {
    await prosody.stop();
    throw error;
  }
}

/** A receiver that checks signatures and opens seals like the agent, and answers "created". */
async function startLocalReceiver(): Promise<Agent> {
  const signingSecret = generateSigningSecret();
  const keys = parseSigningSecrets(signingSecret);
  const sealing = generateSealingKeyPair();
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const h = (name: string) => req.headers[name] as string | undefined;
      if (verifyRequest(keys, { id: h('webhook-id'), timestamp: h('webhook-timestamp'), signature: h('webhook-signature'), body })) {
        res.writeHead(401).end();
        return;
      }
      const job = JSON.parse(body) as { id: string; username: string; sealedPassword: string };
      openSeal([sealing.privateKey], job.sealedPassword, `${job.id}\n${job.username}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: job.id, status: 'created' }));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    kind: 'bench-local signed receiver',
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sealingPublicKey: sealing.publicKey,
    signingSecret,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

interface FloodResult {
  sent: number;
  forbidden: number;
  limited: number;
  other: number;
  retryAfterSeen: boolean;
  seconds: number;
}

/** Sends `rps` bad tickets per second from one client address (203.0.113.66) for `seconds`, open loop. */
const FLOODER = `
const { parentPort, workerData } = require('node:worker_threads');
const { randomBytes } = require('node:crypto');
const { url, rps, seconds } = workerData;
const result = { sent: 0, forbidden: 0, limited: 0, other: 0, retryAfterSeen: false, seconds: 0 };
const inFlight = new Set();
const start = performance.now();
const tick = setInterval(() => {
  const elapsed = performance.now() - start;
  if (elapsed >= seconds * 1000) {
    clearInterval(tick);
    Promise.allSettled([...inFlight]).then(() => {
      result.seconds = seconds;
      parentPort.postMessage(result);
    });
    return;
  }
  const due = Math.floor((elapsed / 1000) * rps);
  while (result.sent < due) {
    result.sent++;
    const bad = randomBytes(12).toString('base64url') + '.' + randomBytes(32).toString('base64url');
    const request = fetch(url + '/create', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-forwarded-for': '203.0.113.66' },
      body: JSON.stringify({ user: 'flood', password: 'flood password 123', token: bad }),
    })
      .then(async (res) => {
        await res.arrayBuffer();
        if (res.status === 403) result.forbidden++;
        else if (res.status === 429) { result.limited++; result.retryAfterSeen ||= res.headers.has('retry-after'); }
        else result.other++;
      })
      .catch(() => { result.other++; })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
}, 5);
`;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (value: number) => Math.round(value * 10) / 10;

function memoryKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

/** How the edge process is started: as deployed today (tsx), or from JavaScript compiled by tsc. */
interface Runtime {
  readonly label: string;
  readonly argv: readonly string[];
}

/** Compiles the edge with tsc into `outDir` (no loader thread at run time), reusing the repository's node_modules. */
async function compileEdge(outDir: string): Promise<string> {
  const { execFileSync } = await import('node:child_process');
  const { symlinkSync, writeFileSync } = await import('node:fs');
  execFileSync(
    join(ROOT, 'node_modules/.bin/tsc'),
    ['--outDir', outDir, '--rootDir', ROOT, '--module', 'esnext', '--moduleResolution', 'bundler', '--target', 'es2024', '--strict', '--skipLibCheck', '--types', 'node', '--esModuleInterop', join(ROOT, 'edge/auth/main.ts')],
    { stdio: 'inherit' },
  );
  symlinkSync(join(ROOT, 'node_modules'), join(outDir, 'node_modules'));
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}\n');
  return join(outDir, 'edge/auth/main.js');
}

interface Context {
  readonly dataDir: string;
  readonly agent: Agent;
  readonly tickets: (n: number) => string[];
}

async function measure(context: Context, runtime: Runtime, sustainedSeconds: number): Promise<BenchFigures> {
  const { dataDir, agent, tickets } = context;
  const port = await freePort();
  const edge = spawn(process.execPath, [...runtime.argv], {
    cwd: ROOT,
    env: {
      ...process.env,
      MEET_DATA_DIR: dataDir,
      MEET_AUTH_PORT: String(port),
      MEET_TRUSTED_PROXIES: '127.0.0.1',
      MEET_AGENTS: JSON.stringify([{ name: 'bench', url: agent.url, sealingPublicKey: agent.sealingPublicKey }]),
      MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ bench: agent.signingSecret }),
      MEET_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  edge.once('exit', (code, signal) => {
    if (code !== 0) console.error(`bench edge: meet-auth exited (${code ?? signal}): ${stderr.slice(-2000)}`);
  });
  const url = await new Promise<string>((done, fail) => {
    edge.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening on (\S+)/.exec(stderr);
      if (match) done(match[1]!);
    });
    edge.once('exit', () => fail(new Error(`edge exited: ${stderr}`)));
  });
  let peakRssKb = 0;
  const sampler = setInterval(() => (peakRssKb = Math.max(peakRssKb, memoryKb(edge.pid!, 'VmRSS'))), 100);
  let userCounter = 0;
  const prefix = randomUUID().slice(0, 8);
  const redeem = async (ticket: string, from: string) => {
    const started = performance.now();
    const res = await fetch(`${url}/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-forwarded-for': from },
      body: JSON.stringify({ user: `b${prefix}n${userCounter++}`, password: 'bench password 123', token: ticket }),
    });
    const body = (await res.json()) as { status?: string };
    return { ms: performance.now() - started, status: res.status, created: body.status === 'created' };
  };

  try {
    const idleRssKb = memoryKb(edge.pid!, 'VmRSS');
    // Warm up (JIT, connections).
    await Promise.all(tickets(20).map((ticket, i) => redeem(ticket, `198.51.100.${i + 1}`)));

    // Phase 1: sustained redemptions.
    const pool = tickets(sustainedSeconds * 600);
    const latencies: number[] = [];
    let ok = 0;
    let createdInHold = 0;
    const deadline = performance.now() + sustainedSeconds * 1000;
    const startedAt = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, worker) => {
        while (performance.now() < deadline && pool.length > 0) {
          const result = await redeem(pool.pop()!, `198.51.100.${worker + 100}`);
          latencies.push(result.ms);
          if (result.status === 202) ok++;
          if (result.created) createdInHold++;
        }
      }),
    );
    const elapsed = (performance.now() - startedAt) / 1000;
    latencies.sort((a, b) => a - b);

    // Phase 2: legit redemptions (own addresses) while another address floods bad tickets.
    const legit: number[] = [];
    let legitFailures = 0;
    const legitPool = tickets(FLOOD_SECONDS * LEGIT_CLIENTS * 25);
    // The flooder runs on its own thread so that its request churn does not slow the legit clients' timing.
    const flooder = new Worker(FLOODER, { eval: true, workerData: { url, rps: FLOOD_RPS, seconds: FLOOD_SECONDS } });
    const flooded = new Promise<FloodResult>((done, fail) => {
      flooder.once('message', done);
      flooder.once('error', fail);
    });
    const floodEnd = performance.now() + FLOOD_SECONDS * 1000;
    await Promise.all(
      Array.from({ length: LEGIT_CLIENTS }, async (_, client) => {
        while (performance.now() < floodEnd) {
          const result = await redeem(legitPool.pop()!, `192.0.2.${client + 1}`);
          legit.push(result.ms);
          if (result.status !== 202) legitFailures++;
          await sleep(50);
        }
      }),
    );
    const flood = await flooded;
    await flooder.terminate();
    legit.sort((a, b) => a - b);
    const peakKb = Math.max(memoryKb(edge.pid!, 'VmHWM'), peakRssKb);
    return {
      runtime: runtime.label,
      redemptions_per_s: round(ok / elapsed),
      redemptions_total: ok,
      redemptions_created_within_hold: createdInHold,
      redeem_p50_ms: round(percentile(latencies, 50)),
      redeem_p99_ms: round(percentile(latencies, 99)),
      flood_rps_sent: round(flood.sent / flood.seconds),
      flood_403: flood.forbidden,
      flood_429: flood.limited,
      flood_other: flood.other,
      flood_429_has_retry_after: flood.retryAfterSeen,
      legit_during_flood_requests: legit.length,
      legit_during_flood_failures: legitFailures,
      legit_during_flood_p50_ms: round(percentile(legit, 50)),
      legit_during_flood_p99_ms: round(percentile(legit, 99)),
      idle_rss_mb: round(idleRssKb / 1024),
      peak_rss_mb: round(peakKb / 1024),
      goal_legit_p99_le_500ms: percentile(legit, 99) <= 500,
      goal_flooder_gets_429: flood.limited > 0,
      goal_peak_rss_le_120mb: peakKb / 1024 <= 120,
    };
  } finally {
    clearInterval(sampler);
    edge.kill('SIGTERM');
    await new Promise((done) => (edge.exitCode !== null ? done(null) : edge.once('exit', done)));
  }
}

/** V8 heap limits for a small service: live heap stays near 20 MB, so these cap growth without GC pressure. */
const HEAP_FLAGS = ['--max-semi-space-size=2', '--max-old-space-size=64'];

export async function run(): Promise<BenchFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'meet-bench-edge-'));
  let agent: Agent;
  try {
    if (process.env.MEET_BENCH_EDGE_AGENT === 'receiver') throw new Error('MEET_BENCH_EDGE_AGENT=receiver');
    agent = await startRealAgent(dataDir);
  } catch (error) {
    console.error(`bench edge: real agent unavailable (${(error as Error).message.split('\n')[0]}); using a bench-local signed receiver`);
    agent = await startLocalReceiver();
  }
  const db: Db = openDatabase(dataDir);
  try {
    const tmToken = await addTicketmaster(db, 'Bench', 4);
    const check = await verifyTicketmasterToken(db, tmToken);
    if (!check.ok) throw new Error('bench ticketmaster does not verify');
    const issuer = check.ticketmaster;
    const context: Context = { dataDir, agent, tickets: (n) => Array.from({ length: n }, () => mintTicket(db, issuer, { expiresInHours: 1 }).ticket) };
    const compiled = await compileEdge(join(dataDir, 'compiled'));
    const deployed = await measure(context, { label: 'node --import tsx edge/auth/main.ts (as the Dockerfile runs it, default heap)', argv: ['--import', 'tsx', join(ROOT, 'edge/auth/main.ts')] }, SUSTAINED_SECONDS);
    const lean = await measure(context, { label: `node ${HEAP_FLAGS.join(' ')} <tsc-compiled edge/auth/main.js>`, argv: [...HEAP_FLAGS, compiled] }, SUSTAINED_SECONDS);
    const accounts = db.prepare(`SELECT count(*) AS n FROM requests WHERE status = 'created'`).get() as { n: number };
    return {
      agent: agent.kind,
      redeem_concurrency: CONCURRENCY,
      flood_rps_offered: FLOOD_RPS,
      accounts_created_total: accounts.n,
      ...Object.fromEntries(Object.entries(deployed).map(([key, value]) => [`tsx_${key}`, value])),
      ...Object.fromEntries(Object.entries(lean).map(([key, value]) => [`compiled_${key}`, value])),
    };
  } finally {
    db.close();
    await agent.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
