/**
 * Benchmark of account creation through the whole path: real meet-auth + real agent + real Prosody 13
 * (the local stack of `npm start`, on free loopback ports in a temp dir).
 *
 * - create_p50_ms / create_p99_ms: one redemption at a time, from `POST /create` until the account exists
 *   (the held answer says "created"; otherwise /status is polled). Each account is then proven by an XMPP
 *   login, outside the timing.
 * - burst_1000_all_created_in_prosody_ms: 1000 redemptions sent at once, until every account exists in Prosody;
 *   burst_1000_all_confirmed_by_meet_auth_ms: until /status says created for all (meet-auth's retry schedule
 *   for "pending" answers adds to this). All then proven by XMPP logins, outside the timing.
 * - baseline_prosodyctl_shell_p50_ms / p99: a synchronous `prosodyctl shell user create` per account (what a
 *   naive worker would run), against the same Prosody.
 * - verify_admin_socket_p50_ms vs verify_xmpp_scram_login_p50_ms: the two ways to check an existing account's
 *   password; the worker uses the admin socket.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminSocketAccounts } from '../../edge/agent/prosody.js';
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

    /** Redeems one ticket and resolves when the account exists (ms since the POST). */
    async function createTimed(user: string, password: string, pollMs = 5): Promise<number> {
      const ticket = mintTicket(db, issuer).ticket;
      const started = performance.now();
      const response = await fetch(`${stack.authUrl}/create`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', origin },
        body: new URLSearchParams({ user, password, token: ticket }),
      });
      const body = (await response.json()) as { request?: string; status?: string; error?: string };
      if (response.status !== 202) throw new Error(`/create answered ${response.status}: ${body.error}`);
      let status = body.status;
      while (status !== 'created') {
        if (status === 'failed') throw new Error(`account ${user} failed`);
        await new Promise((resolve) => setTimeout(resolve, pollMs));
        status = (
          (await (await fetch(`${stack.authUrl}/status/${body.request}`, { headers: { accept: 'application/json' } })).json()) as {
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
    // until meet-auth has heard so from the agent for every request (its retry schedule adds to this one).
    const accountsDir = join(stack.prosody.dir, 'data', 'meet%2ejitsi', 'accounts');
    const burstStarted = performance.now();
    let burstInProsodyMs = Number.NaN;
    const watching = (async () => {
      while (Number.isNaN(burstInProsodyMs)) {
        const present = (await readdir(accountsDir)).filter((name) => name.startsWith('burst')).length;
        if (present >= BURST) burstInProsodyMs = performance.now() - burstStarted;
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await Promise.all(burst.map((user) => createTimed(user.username, user.password, 250)));
    const burstMs = performance.now() - burstStarted;
    await watching;
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

    return {
      create_p50_ms: percentile(latencies, 50),
      create_p99_ms: percentile(latencies, 99),
      create_max_ms: percentile(latencies, 100),
      create_samples: SEQUENTIAL,
      burst_accounts: BURST,
      burst_1000_all_created_in_prosody_ms: Math.round(burstInProsodyMs),
      burst_1000_all_confirmed_by_meet_auth_ms: Math.round(burstMs),
      baseline_prosodyctl_shell_p50_ms: percentile(baseline, 50),
      baseline_prosodyctl_shell_p99_ms: percentile(baseline, 99),
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
