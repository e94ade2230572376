/**
 * `npm run bench -- edge`: meet-auth as deployed (built, production flags) under sustained load, three attacks and a
 * burst. What each phase and figure means: docs/development.md#bench-edge.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase, type Db } from '../../edge/auth/store/db.js';
import { addTicketmaster, verifyTicketmasterToken } from '../../edge/auth/store/ticketmasters.js';
import { mintTicket } from '../../edge/auth/store/tickets.js';
import { HEAP_FLAGS } from '../../stacks/heap-flags.js';
import { freePort } from '../lib/free-port.js';
import { startLocalReceiver, startRealAgent, type Agent } from './edge/agents.js';
import { FLOODER, startHolder, type FloodResult } from './edge/attackers.js';
import { build, memoryKb, startService } from './edge/services.js';
import { heapSampler, mb, percentile, round } from './edge/stats.js';
import type { BenchFigures } from './parts.mts';

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
export { AGENT_NODE_FLAGS } from './edge/agents.js';
export { build } from './edge/services.js';

interface Context {
  readonly dataDir: string;
  readonly agent: Agent;
  readonly tickets: (n: number) => string[];
}

async function measure(context: Context, argv: readonly string[]): Promise<BenchFigures> {
  const { dataDir, agent, tickets } = context;
  const metricsToken = randomBytes(32).toString('hex');
  const edge = await startService(
    'meet-auth',
    argv,
    {
      MEET_METRICS_TOKEN: metricsToken,
      MEET_DATA_DIR: dataDir,
      MEET_AUTH_PORT: String(await freePort()),
      MEET_TRUSTED_PROXIES: '127.0.0.1',
      MEET_AGENTS: JSON.stringify([{ name: 'bench', url: agent.url, sealingPublicKey: agent.sealingPublicKey }]),
      MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ bench: agent.signingSecret }),
      MEET_LOG_LEVEL: 'info',
    },
    process.env.MEET_BENCH_EDGE_STDOUT,
  );
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
      return {
        requests: times.length,
        failures,
        successPct: round((100 * (times.length - failures)) / Math.max(1, times.length)),
        p50: round(percentile(times, 50)),
        p99: round(percentile(times, 99)),
      };
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
    const bodiesPeakKb = edge.peakKb();
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
    const burst = await Promise.all(
      burstTickets.map((ticket, i) => redeem(ticket, `10.${(i >> 8) & 255}.${i & 255}.1`)),
    );
    const burstSeconds = (performance.now() - burstStarted) / 1000;
    const burstLatencies = burst.map((result) => result.ms).sort((a, b) => a - b);
    await sleep(1500); // let the last deliveries settle before reading the peaks
    const edgeAliveAfterBurst = edge.child.exitCode === null && edge.child.signalCode === null;

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
      // Resident peaks so far after each attack (the flood's, then with the held bodies, then with slow headers).
      bodies_peak_rss_mb: mb(bodiesPeakKb),
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
      edge_alive_after_burst: edgeAliveAfterBurst,
      heap_used_peak_mb: heap.usedPeakMb(),
      heap_total_peak_mb: heap.totalPeakMb(),
      agent_peak_rss_mb_during_flood: mb(agentPeakKb),
      agent_peak_rss_mb_after_burst: mb(agent.service?.peakKb() ?? NaN),
      agent_alive_after_burst: agent.service
        ? agent.service.child.exitCode === null && agent.service.child.signalCode === null
        : 'n/a',
      goal_legit_success_100pct: attacks.every((attack) => attack.failures === 0 && attack.requests > 0),
      goal_legit_p99_le_500ms: attacks.every((attack) => attack.p99 <= 500),
      goal_flooder_gets_429: flood.limited > 0,
      goal_peak_rss_le_120mb: peakKb / 1024 <= 120,
      // Heap headroom and connection totals: every one of a burst of 1000 at once is answered, meet-auth still up.
      goal_burst_all_answered: burst.every((result) => result.status === 202) && edgeAliveAfterBurst,
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
    console.error(
      `bench edge: real agent unavailable (${(error as Error).message.split('\n')[0]}); using a bench-local signed receiver`,
    );
    agent = await startLocalReceiver();
  }
  const db: Db = openDatabase(dataDir);
  try {
    const tmToken = await addTicketmaster(db, 'Bench', 4);
    const check = await verifyTicketmasterToken(db, tmToken);
    if (!check.ok) throw new Error('bench ticketmaster does not verify');
    const issuer = check.ticketmaster;
    const context: Context = {
      dataDir,
      agent,
      tickets: (n) => Array.from({ length: n }, () => mintTicket(db, issuer, { expiresInHours: 1 }).ticket),
    };
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
