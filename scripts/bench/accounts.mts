/**
 * Benchmark of account creation through the whole path: real meet-auth + real agent + real Prosody 13
 * (the local stack of `npm start`, on free loopback ports in a temp dir). Goals (issue 4): create_p99_ms ≤ 50,
 * burst_all_created_ms ≤ 5000 for 1000 redemptions sent at once.
 *
 * - create_p50_ms / create_p99_ms: one redemption at a time, from `POST /create` until the account exists
 *   (the held answer says "created"; otherwise /status is polled). Each account is then proven by an XMPP
 *   login, outside the timing.
 * - burst_all_created_ms: BURST (1000) redemptions sent at once, until every account exists in Prosody
 *   (burst_all_created_in_prosody_ms: its file storage holds one file per account) and meet-auth has recorded
 *   every request as created (burst_all_confirmed_by_meet_auth_ms: what /status shows); both clocks are read
 *   locally, not by a thousand clients polling /status, which would load the very process being measured.
 *   burst_all_answered_ms: until every /create has answered (each holds up to MEET_HOLD_MS), and how many
 *   of those answers already said "created". All then proven by XMPP logins, outside the timing.
 * - baseline_prosodyctl_shell_p50_ms / p99: a synchronous `prosodyctl shell user create` per account (what a
 *   naive worker would run), against the same Prosody.
 * - prosody_*: where Prosody's own time per account goes (user:create vs the agent's single call vs PBKDF2).
 * - verify_admin_socket_p50_ms vs verify_xmpp_scram_login_p50_ms: the two ways to check an existing account's
 *   password; the worker uses the admin socket.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminSocketConnection } from '../../edge/agent/admin-socket.js';
import { AdminSocketAccounts, createUserLine, luaLiteral } from '../../edge/agent/prosody.js';
import { openDatabase } from '../../edge/auth/store/db.js';
import { addTicketmaster, ticketmasterIdOf } from '../../edge/auth/store/ticketmasters.js';
import { mintTicket } from '../../edge/auth/store/tickets.js';
import { freePort } from '../../test/support/ports.js';
import { failedLogins, xmppLogin } from '../../test/support/xmpp.js';
import { startLocalStack } from '../lib/local-stack.js';
import type { BenchFigures } from './parts.mts';

const SEQUENTIAL = Number(process.env.MEET_BENCH_ACCOUNTS_SEQUENTIAL ?? 200);
const BURST = Number(process.env.MEET_BENCH_ACCOUNTS_BURST ?? 1000);
const BASELINE = Number(process.env.MEET_BENCH_ACCOUNTS_BASELINE ?? 30);
const PROSODY_SAMPLES = 100;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 10) / 10;
};

export async function run(): Promise<BenchFigures> {
  const dataDir = await mkdtemp(join(tmpdir(), 'meet-bench-accounts-'));
  const stack = await startLocalStack({
    dataDir,
    authPort: await freePort(),
    agentPort: await freePort(),
    prosodyPort: await freePort(),
    logLevel: 'silent',
  });
  const db = openDatabase(dataDir);
  const accounts = new AdminSocketAccounts({ socketPath: stack.prosody.socketPath, connections: 1 });
  try {
    const token = await addTicketmaster(db, 'Bench', 4);
    const issuer = { id: ticketmasterIdOf(token)!, name: 'Bench' };
    const origin = new URL(stack.authUrl).origin;
    const port = stack.prosody.c2sPort;

    /** Redeems one ticket; resolves with the request id and the status /create answered (after its hold). */
    async function redeemOne(user: string, password: string): Promise<{ request: string; status: string }> {
      const ticket = mintTicket(db, issuer).ticket;
      const response = await fetch(`${stack.authUrl}/create`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', origin },
        body: new URLSearchParams({ user, password, token: ticket }),
      });
      const body = (await response.json()) as { request?: string; status?: string; error?: string };
      if (response.status !== 202 || !body.request || !body.status) throw new Error(`/create answered ${response.status}: ${body.error}`);
      return { request: body.request, status: body.status };
    }

    /** Redeems one ticket and resolves when the account exists (ms since the POST). */
    async function createTimed(user: string, password: string, pollMs = 5): Promise<number> {
      const started = performance.now();
      const { request, status: first } = await redeemOne(user, password);
      let status = first;
      while (status !== 'created') {
        if (status === 'failed') throw new Error(`account ${user} failed`);
        await new Promise((resolve) => setTimeout(resolve, pollMs));
        status = (
          (await (await fetch(`${stack.authUrl}/status/${request}`, { headers: { accept: 'application/json' } })).json()) as {
            status: string;
          }
        ).status;
      }
      return performance.now() - started;
    }

    // Warm-up (JIT, first connections), not counted.
    for (let i = 0; i < 10; i++) await createTimed(`warm${i}`, `warm up password ${i}`);

    const sequential = Array.from({ length: SEQUENTIAL }, (_, i) => ({ username: `seq${i}`, password: `sequential password ${i}` }));
    const latencies: number[] = [];
    for (const user of sequential) latencies.push(await createTimed(user.username, user.password));
    const sequentialFailed = await failedLogins(port, sequential);
    if (sequentialFailed.length > 0) throw new Error(`${sequentialFailed.length} sequential accounts do not log in`);

    const burst = Array.from({ length: BURST }, (_, i) => ({ username: `burst${i}`, password: `burst password ${i}` }));
    // Two clocks: until every account exists in Prosody (its file storage holds one file per account), and
    // until meet-auth has recorded every request as created (what /status then shows). Both are read locally
    // (a directory listing, one SQLite count) rather than by a thousand clients polling /status, which would
    // load the very process being measured; each /create still holds its answer up to MEET_HOLD_MS.
    const accountsDir = join(stack.prosody.dir, 'data', 'meet%2ejitsi', 'accounts');
    const countCreated = db.prepare(`SELECT count(*) AS n FROM requests WHERE status = 'created' AND username LIKE 'burst%'`);
    const countFailed = db.prepare(`SELECT count(*) AS n FROM requests WHERE status = 'failed' AND username LIKE 'burst%'`);
    const burstStarted = performance.now();
    let burstInProsodyMs = Number.NaN;
    let burstConfirmedMs = Number.NaN;
    const watching = (async () => {
      while (Number.isNaN(burstInProsodyMs) || Number.isNaN(burstConfirmedMs)) {
        if (Number.isNaN(burstInProsodyMs) && (await readdir(accountsDir)).filter((name) => name.startsWith('burst')).length >= BURST) {
          burstInProsodyMs = performance.now() - burstStarted;
        }
        if (Number.isNaN(burstConfirmedMs) && (countCreated.get() as { n: number }).n >= BURST) burstConfirmedMs = performance.now() - burstStarted;
        if ((countFailed.get() as { n: number }).n > 0) throw new Error('a burst request failed');
        if (performance.now() - burstStarted > 300_000) throw new Error('the burst did not finish within 5 minutes');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    watching.catch(() => undefined); // awaited below; this only keeps an early failure from counting as unhandled
    const answers = await Promise.all(burst.map((user) => redeemOne(user.username, user.password)));
    const answeredMs = performance.now() - burstStarted;
    await watching;
    const createdAtOnce = answers.filter((answer) => answer.status === 'created').length;
    const burstFailed = await failedLogins(port, burst);
    if (burstFailed.length > 0) throw new Error(`${burstFailed.length} burst accounts do not log in`);

    // Baseline: one synchronous `prosodyctl shell user create` per account, password on stdin.
    const baseline: number[] = [];
    for (let i = 0; i < BASELINE; i++) {
      const started = performance.now();
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn('prosodyctl', ['--config', stack.prosody.configPath, 'shell', 'user', 'create', `base${i}@meet.jitsi`], {
          stdio: ['pipe', 'ignore', 'ignore'],
        });
        child.stdin.end(`baseline password ${i}\nbaseline password ${i}\n`);
        child.once('exit', resolve);
      });
      baseline.push(performance.now() - started);
      if (code !== 0) throw new Error(`prosodyctl shell user create exited ${code}`);
    }

    // Where Prosody's own time goes, per account, one at a time on one admin connection: Prosody 13's
    // `user:create` (create disabled, set role, set password, enable: four writes, and a yield for the password)
    // vs the agent's single call (one write of the hashed account plus the role), vs the PBKDF2 alone.
    const prosodyTimes = { userCreate: [] as number[], singleCall: [] as number[], pbkdf2: [] as number[] };
    const direct = new AdminSocketConnection({ socketPath: stack.prosody.socketPath });
    const iterations = Number((await direct.run('>require"core.configmanager".get("meet.jitsi", "default_iteration_count") or 10000')).text.replace('Result: ', ''));
    for (let i = 0; i < PROSODY_SAMPLES; i++) {
      const password = `prosody split password ${i}`;
      let started = performance.now();
      if (!(await direct.run(`user:create(${luaLiteral(`split${i}@meet.jitsi`)})`, password)).ok) throw new Error('user:create failed');
      prosodyTimes.userCreate.push(performance.now() - started);
      started = performance.now();
      if (!(await direct.run(createUserLine(`single${i}`, 'meet.jitsi', password))).ok) throw new Error('single-call create failed');
      prosodyTimes.singleCall.push(performance.now() - started);
      started = performance.now();
      await direct.run(`>require"util.hashes".pbkdf2_hmac_sha1(${luaLiteral(password)}, "bench salt", ${iterations}) ~= nil`);
      prosodyTimes.pbkdf2.push(performance.now() - started);
    }
    direct.close();

    // Checking an existing account's password: admin socket test_password vs a real SCRAM login.
    const viaSocket: number[] = [];
    const viaScram: number[] = [];
    for (let i = 0; i < 10; i++) {
      let started = performance.now();
      if (!(await accounts.verify('seq1', 'sequential password 1'))) throw new Error('verify failed');
      viaSocket.push(performance.now() - started);
      started = performance.now();
      if (!(await xmppLogin({ port, username: 'seq1', password: 'sequential password 1' }))) throw new Error('login failed');
      viaScram.push(performance.now() - started);
    }

    const createP99 = percentile(latencies, 99);
    const burstAllCreatedMs = Math.round(Math.max(burstInProsodyMs, burstConfirmedMs));
    return {
      create_p50_ms: percentile(latencies, 50),
      create_p99_ms: createP99,
      create_max_ms: percentile(latencies, 100),
      create_samples: SEQUENTIAL,
      goal_create_p99_le_50_ms: createP99 <= 50,
      burst_accounts: BURST,
      // The issue's figure: until all exist in Prosody and meet-auth says so (the later of the two clocks).
      burst_all_created_ms: burstAllCreatedMs,
      goal_burst_1000_le_5000_ms: BURST === 1000 && burstAllCreatedMs <= 5000,
      burst_all_created_in_prosody_ms: Math.round(burstInProsodyMs),
      burst_all_confirmed_by_meet_auth_ms: Math.round(burstConfirmedMs),
      burst_all_answered_ms: Math.round(answeredMs),
      burst_answered_created_at_once: createdAtOnce,
      baseline_prosodyctl_shell_p50_ms: percentile(baseline, 50),
      baseline_prosodyctl_shell_p99_ms: percentile(baseline, 99),
      prosody_user_create_p50_ms: percentile(prosodyTimes.userCreate, 50),
      prosody_single_call_create_p50_ms: percentile(prosodyTimes.singleCall, 50),
      prosody_pbkdf2_only_p50_ms: percentile(prosodyTimes.pbkdf2, 50),
      prosody_iteration_count: iterations,
      verify_admin_socket_p50_ms: percentile(viaSocket, 50),
      verify_xmpp_scram_login_p50_ms: percentile(viaScram, 50),
      all_accounts_log_in: true,
    };
  } finally {
    await accounts.close();
    db.close();
    await stack.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
