/**
 * kill -9 of the agent and of the cron worker at random moments during a batch of 200 redemptions, then a
 * restart: every account exists exactly once and logs in. Agent and worker run as separate child processes.
 * Meanwhile every process's argv is watched for the passwords.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { watchArgv } from '../support/argv-watch.js';
import { seededRandom } from '../support/seeded-random.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { until } from '../support/until.js';
import { failedLogins } from '../support/xmpp.js';

const COUNT = 200;
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    agentInProcess: false,
    authHoldMs: 500,
    dispatch: { baseDelayMs: 200, maxDelayMs: 2000, maxAttempts: 40 },
  });
});
afterAll(async () => {
  await stack?.dispose();
});

const alive = (child: ChildProcess | undefined) =>
  child !== undefined && child.exitCode === null && child.signalCode === null;

it(`survives kill -9 of agent and worker during ${COUNT} redemptions; no password in any argv`, async () => {
  const canary = `canary${randomBytes(6).toString('hex')}`;
  const users = Array.from({ length: COUNT }, (_, i) => ({ username: `crash${i}`, password: `${canary} pass ${i}` }));
  const tickets = stack.tickets(COUNT);
  const argv = watchArgv(canary, 10);
  // The kill schedule is random but replayable: a failure prints the seed, MEET_TEST_SEED=<seed> reruns it.
  const { between: random } = seededRandom();

  let agent: ChildProcess | undefined = await stack.spawnAgent();
  let worker: ChildProcess | undefined;
  let chaos = true;
  const kills = { agent: 0, worker: 0 };
  const agentChaos = (async () => {
    while (chaos) {
      await sleep(random(150, 600));
      if (alive(agent)) {
        agent!.kill('SIGKILL');
        kills.agent += 1;
      }
      await sleep(random(50, 400));
      agent = await stack.spawnAgent();
    }
  })();
  const workerChaos = (async () => {
    while (chaos) {
      worker = stack.spawnWorker();
      await sleep(random(100, 700));
      if (alive(worker)) {
        worker.kill('SIGKILL');
        kills.worker += 1;
      }
    }
  })();

  const requests: string[] = [];
  const queue = users.map((user, i) => ({ ...user, ticket: tickets[i]! }));
  await Promise.all(
    Array.from({ length: 40 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const redeemed = await stack.redeem(next.username, next.password, next.ticket);
        expect(redeemed.status).toBe(202);
        requests.push(redeemed.body.request!);
      }
    }),
  );
  // Keep the chaos going after the last redemption until each of agent and worker was killed again, then
  // restart cleanly.
  const afterLast = { ...kills };
  await until(
    'agent and worker are killed after the last redemption',
    () => kills,
    (now) => now.agent > afterLast.agent && now.worker > afterLast.worker,
    { timeoutMs: 20_000 },
  );
  chaos = false;
  await Promise.all([agentChaos, workerChaos]);
  if (!alive(agent)) agent = await stack.spawnAgent();
  const finalRun = stack.spawnWorker();
  await new Promise((resolve) => finalRun.once('exit', resolve));
  const statuses = await Promise.all(requests.map((id) => stack.settled(id, 90_000)));
  console.log(`kill -9: agent ${kills.agent}x, worker ${kills.worker}x; argv sweeps ${argv.sweeps}`);
  await argv.stop();
  expect(kills.agent).toBeGreaterThan(0);
  expect(kills.worker).toBeGreaterThan(0);
  expect(statuses.filter((status) => status.status !== 'created')).toEqual([]);

  // Exactly one account per name (internal storage: one file per account), and no other.
  const accountsDir = join(stack.prosody.dir, 'data', 'meet%2ejitsi', 'accounts');
  const stored = (await readdir(accountsDir)).filter((name) => name.endsWith('.dat')).map((name) => name.slice(0, -4));
  expect(stored.sort()).toEqual(users.map((user) => user.username).sort());
  expect(await failedLogins(stack.prosody.c2sPort, users)).toEqual([]);

  expect(argv.sweeps).toBeGreaterThan(10);
  expect(argv.hits).toEqual([]);
}, 150_000);
