/**
 * Benchmark of meet-auth (the edge) as deployed: built with `npm run build` (first, so the measured code is the
 * working tree's) and run from dist/ with plain node and the production flags, as its own process so its resident
 * memory is measurable. Against the real agent, also from dist/ with its production flags in its own process, and a
 * real Prosody (falls back to a bench-local signed receiver when Prosody is not installed; the `agent` figure says
 * which). The `runtime` figure prints the exact edge command line measured.
 *
 * Phase 1: sustained redemptions, closed loop, CONCURRENCY clients, each /create held until the account exists.
 * Phase 2: legit redemptions (4 clients, own addresses, through the trusted proxy) during three attacks in turn,
 *          each with its legit success rate and p50/p99: (a) another address floods 500 bad tickets per second;
 *          (b) one address (127.0.0.2, a real socket peer) holds ATTACK_CONNECTIONS unfinished bodies; (c)
 *          ATTACK_CONNECTIONS slow-header connections from 100 addresses. Attackers reconnect a second after each
 *          close. `peak_rss_mb` is the edge's VmHWM over phases 1-2 (goal: 100 % legit success, p99 <= 500 ms,
 *          <= 120 MB).
 * Phase 3: BURST redemptions sent at once (the heap limits must leave room for them: no OOM, all answered 202).
 *
 * MEET_BENCH_EDGE_SECONDS / MEET_BENCH_FLOOD_SECONDS / MEET_BENCH_ATTACK_SECONDS / MEET_BENCH_ATTACK_CONNECTIONS /
 * MEET_BENCH_EDGE_BURST change the phases (10 s, 10 s, 10 s, 4000, 1000).
 * To compare: MEET_BENCH_EDGE_RUNTIME=tsx runs the edge from source under tsx instead; MEET_BENCH_EDGE_NODE_FLAGS
 * (space separated) replaces the edge's node flags; MEET_BENCH_EDGE_STDOUT=<file> keeps the edge's stdout (its log
 * lines, and e.g. --trace-gc output) in that file. MEET_BENCH_AGENT_NODE_FLAGS / MEET_BENCH_AGENT_STDOUT likewise.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase, type Db } from '../../edge/auth/store/db.js';
import { addTicketmaster, verifyTicketmasterToken } from '../../edge/auth/store/ticketmasters.js';
import { mintTicket } from '../../edge/auth/store/tickets.js';
import { generateSealingKeyPair, openSeal } from '../../edge/shared/sealing.js';
import { generateSigningSecret, parseSigningSecrets, verifyRequest } from '../../edge/shared/signing.js';
import { HEAP_FLAGS } from '../../stacks/heap-flags.js';
import { freePort } from '../../test/support/ports.js';
import type { BenchFigures } from './parts.mts';

const ROOT = resolve(import.meta.dirname, '../..');
const SUSTAINED_SECONDS = Number(process.env.MEET_BENCH_EDGE_SECONDS ?? 10);
const CONCURRENCY = 16;
const FLOOD_RPS = 500;
const FLOOD_SECONDS = Number(process.env.MEET_BENCH_FLOOD_SECONDS ?? 10);
const LEGIT_CLIENTS = 4;
const BURST = Number(process.env.MEET_BENCH_EDGE_BURST ?? 1000);
const ATTACK_SECONDS = Number(process.env.MEET_BENCH_ATTACK_SECONDS ?? 10);
const ATTACK_CONNECTIONS = Number(process.env.MEET_BENCH_ATTACK_CONNECTIONS ?? 4000);
const ATTACK_ADDRESSES = 100;

/** The production node flags, the image's and the stacks' own (chosen with this bench: docs/decisions/heap-flags.md). */
export const EDGE_NODE_FLAGS: readonly string[] = HEAP_FLAGS.meetAuth;
export const AGENT_NODE_FLAGS: readonly string[] = HEAP_FLAGS.agent;

interface Agent {
  readonly kind: string;
  readonly url: string;
  readonly sealingPublicKey: string;
  readonly signingSecret: string;
  readonly service?: Service;
  close(): Promise<void>;
}

/** `sh -c` arguments that run `node <args>` with the file limit raised to the hard limit (often 1024 soft). */
function unlimited(args: readonly string[]): string[] {
  return ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', process.execPath, ...args];
}

/** A node process of ours, sampled for resident memory. */
interface Service {
  readonly pid: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** max(VmHWM, sampled VmRSS) so far, in kB. */
  peakKb(): number;
  stop(): Promise<void>;
}

function memoryKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : NaN;
  } catch {
    return NaN; // exited
  }
}

/** Starts `node <argv>` and resolves once it prints "listening on <url>" on stderr. */
async function startService(name: string, argv: readonly string[], env: Record<string, string>, stdoutFile?: string): Promise<Service> {
  const stdout = stdoutFile ? openSync(stdoutFile, 'w') : 'ignore';
  // Through sh to raise the file limit to the hard limit (thousands of attack connections; exec keeps the pid).
  const child = spawn('/bin/sh', unlimited(argv), { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', stdout, 'pipe'] });
  if (typeof stdout === 'number') closeSync(stdout);
  let stderr = '';
  child.once('exit', (code, signal) => {
    if (code !== 0) console.error(`bench edge: ${name} exited (${code ?? signal}): ${stderr.slice(-2000)}`);
  });
  const url = await new Promise<string>((done, fail) => {
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening on (\S+)/.exec(stderr);
      if (match) done(match[1]!);
    });
    child.once('exit', () => fail(new Error(`${name} exited: ${stderr}`)));
  });
  let sampled = 0;
  const sampler = setInterval(() => (sampled = Math.max(sampled, memoryKb(child.pid!, 'VmRSS') || 0)), 100);
  return {
    pid: child.pid!,
    url,
    child,
    peakKb: () => Math.max(sampled, memoryKb(child.pid!, 'VmHWM') || 0),
    stop: async () => {
      clearInterval(sampler);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((done) => child.once('exit', done));
    },
  };
}

/** Compiles edge/ and the container scripts into dist/ (`npm run build`), so the measured code is the working tree's. */
export function build(): number {
  const started = performance.now();
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  return (performance.now() - started) / 1000;
}

/** The real agent from dist/ in its own process, with a real Prosody (the other half of the system). */
async function startRealAgent(dataDir: string): Promise<Agent> {
  const { startLocalProsody } = await import('../lib/local-prosody.js');
  const signingSecret = generateSigningSecret();
  const sealing = generateSealingKeyPair();
  const prosody = await startLocalProsody({ dir: join(dataDir, 'prosody'), c2sPort: await freePort() });
  try {
    const flags = process.env.MEET_BENCH_AGENT_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? AGENT_NODE_FLAGS;
    const argv = [...flags, 'dist/edge/agent/main.js'];
    const service = await startService('agent', argv, {
      MEET_DATA_DIR: dataDir,
      MEET_AGENT_PORT: String(await freePort()),
      MEET_AGENT_SIGNING_SECRETS: signingSecret,
      MEET_AGENT_SEALING_KEYS: sealing.privateKey,
      MEET_PROSODY_SOCKET: prosody.socketPath,
      MEET_XMPP_DOMAIN: prosody.domain,
      MEET_LOG_LEVEL: 'warn',
    }, process.env.MEET_BENCH_AGENT_STDOUT);
    return {
      kind: `real agent (node ${argv.join(' ')}) + Prosody 13`,
      url: service.url,
      sealingPublicKey: sealing.publicKey,
      signingSecret,
      service,
      close: async () => {
        await service.stop();
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

/**
 * Holds `count` connections open against the edge for `seconds`, from one source address (127.0.0.2) or spread over
 * `spread` addresses (127.0.10.1 ...): 'body' sends a POST's headers and a few bytes of its 12 kB body, 'headers'
 * half a request's headers; each reconnects a second after the edge closes it. Prints what it saw as JSON.
 */
const HOLDER = `
const net = require('node:net');
const [port, count, mode, spread, seconds] = process.argv.slice(1).map((arg, i) => (i === 2 ? arg : Number(arg)));
const result = { connected: 0, closedByServer: 0, answered: 0 };
const end = Date.now() + seconds * 1000;
const payload = mode === 'body'
  ? 'POST /create HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: 12000\\r\\n\\r\\n{"us'
  : 'POST /create HTTP/1.1\\r\\nHost: x\\r\\nX-Slow: ';
function hold(i) {
  if (Date.now() >= end) return;
  const n = i % spread;
  const localAddress = spread === 1 ? '127.0.0.2' : '127.0.' + (10 + Math.floor(n / 200)) + '.' + (1 + (n % 200));
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  let answered = false;
  socket.on('connect', () => { result.connected++; socket.write(payload); });
  socket.on('data', () => { if (!answered) { answered = true; result.answered++; } });
  socket.on('error', () => undefined);
  socket.on('close', () => { if (Date.now() < end) { result.closedByServer++; setTimeout(() => hold(i), 1000); } });
}
for (let i = 0; i < count; i++) setTimeout(() => hold(i), Math.floor(i / 500) * 100);
setTimeout(() => { console.log(JSON.stringify(result)); process.exit(0); }, seconds * 1000);
`;

interface HoldResult {
  connected: number;
  closedByServer: number;
  answered: number;
}

function startHolder(port: number, count: number, mode: 'body' | 'headers', spread: number, seconds: number): Promise<HoldResult> {
  const child = spawn('/bin/sh', unlimited(['-e', HOLDER, String(port), String(count), mode, String(spread), String(seconds)]), { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  return new Promise((done, fail) => child.once('exit', (code) => (code === 0 ? done(JSON.parse(out) as HoldResult) : fail(new Error(`attacker exited ${code}`)))));
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (value: number) => Math.round(value * 10) / 10;
const mb = (kb: number) => round(kb / 1024);

/** Samples the edge's own V8 heap figures from /metrics (prom-client default metrics) once a second. */
function heapSampler(url: string, token: string) {
  let usedPeak = 0;
  let totalPeak = 0;
  const read = (text: string, name: string) => Number(new RegExp(`^meet_auth_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const timer = setInterval(() => {
    fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
      .then((res) => res.text())
      .then((text) => {
        usedPeak = Math.max(usedPeak, read(text, 'nodejs_heap_size_used_bytes') || 0);
        totalPeak = Math.max(totalPeak, read(text, 'nodejs_heap_size_total_bytes') || 0);
      })
      .catch(() => undefined);
  }, 1000);
  return { stop: () => clearInterval(timer), usedPeakMb: () => round(usedPeak / 2 ** 20), totalPeakMb: () => round(totalPeak / 2 ** 20) };
}

interface Context {
  readonly dataDir: string;
  readonly agent: Agent;
  readonly tickets: (n: number) => string[];
}

async function measure(context: Context, argv: readonly string[]): Promise<BenchFigures> {
  const { dataDir, agent, tickets } = context;
  const metricsToken = randomBytes(32).toString('hex');
  const edge = await startService('meet-auth', argv, {
    MEET_METRICS_TOKEN: metricsToken,
    MEET_DATA_DIR: dataDir,
    MEET_AUTH_PORT: String(await freePort()),
    MEET_TRUSTED_PROXIES: '127.0.0.1',
    MEET_AGENTS: JSON.stringify([{ name: 'bench', url: agent.url, sealingPublicKey: agent.sealingPublicKey }]),
    MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ bench: agent.signingSecret }),
    MEET_LOG_LEVEL: 'info',
  }, process.env.MEET_BENCH_EDGE_STDOUT);
  const url = edge.url;
  const heap = heapSampler(url, metricsToken);
  let userCounter = 0;
  const prefix = randomUUID().slice(0, 8);
  const redeem = async (ticket: string, from: string) => {
    const started = performance.now();
    try {
      const res = await fetch(`${url}/create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-forwarded-for': from },
        body: JSON.stringify({ user: `b${prefix}n${userCounter++}`, password: 'bench password 123', token: ticket }),
      });
      const body = (await res.json()) as { status?: string };
      return { ms: performance.now() - started, status: res.status, created: body.status === 'created' };
    } catch {
      return { ms: performance.now() - started, status: 0, created: false };
    }
  };

  try {
    await sleep(500);
    const idleRssKb = memoryKb(edge.pid, 'VmRSS');
    // Warm up (JIT, connections).
    await Promise.all(tickets(20).map((ticket, i) => redeem(ticket, `198.51.100.${i + 1}`)));

    // Phase 1: sustained redemptions.
    const pool = tickets(sustainedTickets());
    const latencies: number[] = [];
    let ok = 0;
    let createdInHold = 0;
    const deadline = performance.now() + SUSTAINED_SECONDS * 1000;
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

    // Phase 2: legit redemptions (4 clients, own addresses) during each attack in turn.
    const legitDuring = async (seconds: number) => {
      const pool = tickets(seconds * LEGIT_CLIENTS * 25);
      const times: number[] = [];
      let failures = 0;
      const end = performance.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: LEGIT_CLIENTS }, async (_, client) => {
          while (performance.now() < end) {
            const result = await redeem(pool.pop()!, `192.0.2.${client + 1}`);
            times.push(result.ms);
            if (result.status !== 202) failures++;
            await sleep(50);
          }
        }),
      );
      times.sort((a, b) => a - b);
      return { requests: times.length, failures, successPct: round((100 * (times.length - failures)) / Math.max(1, times.length)), p50: round(percentile(times, 50)), p99: round(percentile(times, 99)) };
    };
    // (a) one address floods bad tickets; on its own thread so its request churn does not slow the legit timing.
    const flooder = new Worker(FLOODER, { eval: true, workerData: { url, rps: FLOOD_RPS, seconds: FLOOD_SECONDS } });
    const flooded = new Promise<FloodResult>((done, fail) => {
      flooder.once('message', done);
      flooder.once('error', fail);
    });
    const duringFlood = await legitDuring(FLOOD_SECONDS);
    const flood = await flooded;
    await flooder.terminate();
    const floodPeakKb = edge.peakKb();
    // (b) one address holds thousands of unfinished bodies; (c) slow headers from many addresses.
    const port = Number(new URL(url).port);
    const bodiesHeld = startHolder(port, ATTACK_CONNECTIONS, 'body', 1, ATTACK_SECONDS + 2);
    await sleep(2000); // let the attacker's connections pile up first
    const duringBodies = await legitDuring(ATTACK_SECONDS);
    const bodies = await bodiesHeld;
    await sleep(1000);
    const headersHeld = startHolder(port, ATTACK_CONNECTIONS, 'headers', ATTACK_ADDRESSES, ATTACK_SECONDS + 2);
    await sleep(2000);
    const duringHeaders = await legitDuring(ATTACK_SECONDS);
    const headers = await headersHeld;
    const peakKb = edge.peakKb();
    const agentPeakKb = agent.service?.peakKb() ?? NaN;
    const attacks = [duringFlood, duringBodies, duringHeaders];
    const edgeAliveAfterAttacks = edge.child.exitCode === null && edge.child.signalCode === null;

    // Phase 3: a burst of redemptions all at once (heap headroom: every one answered, the edge still up).
    const burstTickets = tickets(BURST);
    const burstStarted = performance.now();
    const burst = await Promise.all(burstTickets.map((ticket, i) => redeem(ticket, `10.${(i >> 8) & 255}.${i & 255}.1`)));
    const burstSeconds = (performance.now() - burstStarted) / 1000;
    const burstLatencies = burst.map((result) => result.ms).sort((a, b) => a - b);
    await sleep(1500); // let the last deliveries settle before reading the peaks

    return {
      runtime: `node ${argv.join(' ')}`,
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
      legit_during_flood_requests: duringFlood.requests,
      legit_during_flood_failures: duringFlood.failures,
      legit_during_flood_success_pct: duringFlood.successPct,
      legit_during_flood_p50_ms: duringFlood.p50,
      legit_during_flood_p99_ms: duringFlood.p99,
      flood_peak_rss_mb: mb(floodPeakKb),
      bodies_attack_connections: ATTACK_CONNECTIONS,
      bodies_attack_connected: bodies.connected,
      bodies_attack_closed_by_edge: bodies.closedByServer,
      legit_during_bodies_requests: duringBodies.requests,
      legit_during_bodies_success_pct: duringBodies.successPct,
      legit_during_bodies_p50_ms: duringBodies.p50,
      legit_during_bodies_p99_ms: duringBodies.p99,
      headers_attack_connections: ATTACK_CONNECTIONS,
      headers_attack_addresses: ATTACK_ADDRESSES,
      headers_attack_connected: headers.connected,
      headers_attack_closed_by_edge: headers.closedByServer,
      legit_during_headers_requests: duringHeaders.requests,
      legit_during_headers_success_pct: duringHeaders.successPct,
      legit_during_headers_p50_ms: duringHeaders.p50,
      legit_during_headers_p99_ms: duringHeaders.p99,
      edge_alive_after_attacks: edgeAliveAfterAttacks,
      idle_rss_mb: mb(idleRssKb),
      peak_rss_mb: mb(peakKb),
      peak_rss_during_attacks_mb: mb(peakKb),
      burst_requests: BURST,
      burst_202: burst.filter((result) => result.status === 202).length,
      burst_created_within_hold: burst.filter((result) => result.created).length,
      burst_seconds: round(burstSeconds),
      burst_p99_ms: round(percentile(burstLatencies, 99)),
      burst_peak_rss_mb: mb(edge.peakKb()),
      edge_alive_after_burst: edge.child.exitCode === null && edge.child.signalCode === null,
      heap_used_peak_mb: heap.usedPeakMb(),
      heap_total_peak_mb: heap.totalPeakMb(),
      agent_peak_rss_mb_during_flood: mb(agentPeakKb),
      agent_peak_rss_mb_after_burst: mb(agent.service?.peakKb() ?? NaN),
      agent_alive_after_burst: agent.service ? agent.service.child.exitCode === null && agent.service.child.signalCode === null : 'n/a',
      goal_legit_success_100pct: attacks.every((attack) => attack.failures === 0 && attack.requests > 0),
      goal_legit_p99_le_500ms: attacks.every((attack) => attack.p99 <= 500),
      goal_flooder_gets_429: flood.limited > 0,
      goal_peak_rss_le_120mb: peakKb / 1024 <= 120,
    };
  } finally {
    heap.stop();
    await edge.stop();
  }
}

function sustainedTickets(): number {
  return SUSTAINED_SECONDS * 600;
}

/** The edge's command line: from dist/ with the production flags, or (for comparison) from source under tsx. */
function edgeArgv(): string[] {
  const flags = process.env.MEET_BENCH_EDGE_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? EDGE_NODE_FLAGS;
  if (process.env.MEET_BENCH_EDGE_RUNTIME === 'tsx') return [...flags, '--import', 'tsx', 'edge/auth/main.ts'];
  return [...flags, 'dist/edge/auth/main.js'];
}

export async function run(): Promise<BenchFigures> {
  const buildSeconds = build();
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
    const figures = await measure(context, edgeArgv());
    const accounts = db.prepare(`SELECT count(*) AS n FROM requests WHERE status = 'created'`).get() as { n: number };
    return {
      agent: agent.kind,
      build_seconds: round(buildSeconds),
      redeem_concurrency: CONCURRENCY,
      flood_rps_offered: FLOOD_RPS,
      ...figures,
      accounts_created_total: accounts.n,
    };
  } finally {
    db.close();
    await agent.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
