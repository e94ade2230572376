// How the dispatcher schedules deliveries: "pending" answers asked again, jobs batched into deliveries, and the
// in-flight caps and job selection that keep many deliveries going at once.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Dispatcher, type DispatcherOptions } from '../../../edge/auth/dispatcher.js';
import { dueJobs, listJobs } from '../../../edge/auth/store/outbox.js';
import { redeem as redeemInStore } from '../../../edge/auth/store/requests.js';
import { seal } from '../../../edge/shared/sealing.js';
import { parseSigningSecrets } from '../../../edge/shared/signing.js';
import type { AgentDouble } from './agent-double.js';
import { until } from '../../support/until.js';
import { GOOD_PASSWORD, startHarness, type Harness } from './harness.js';
import { redeem } from './redeem.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/**
 * Writes `count` redeemed requests straight into the store, one job each for `agent`; returns the job ids.
 * The harness's own dispatcher is closed first, so that only the test's dispatcher delivers them.
 */
async function seedJobs(harness: Harness, agent: AgentDouble, count: number, prefix = 'bulk'): Promise<string[]> {
  await harness.dispatcher.close();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const [selector] = (await harness.ticket()).split('.');
    const id = `${prefix}-job-${String(i).padStart(4, '0')}`;
    const username = `${prefix}${i}`;
    const jobs = [
      { id, server: agent.name, sealedPassword: seal(agent.sealingPublicKey, GOOD_PASSWORD, `${id}\n${username}`) },
    ];
    const outcome = redeemInStore(harness.db, {
      requestId: `${prefix}-request-${String(i).padStart(8, '0')}`,
      selector: selector!,
      issuer: 'Ada',
      username,
      jobs,
      now: Date.now(),
    });
    expect(outcome).toEqual({ ok: true });
    ids.push(id);
  }
  return ids;
}

/** A dispatcher of its own for `agent`. */
function ownDispatcher(harness: Harness, agent: AgentDouble, options: Partial<DispatcherOptions> = {}): Dispatcher {
  const agents = [
    {
      name: agent.name,
      url: agent.url,
      sealingPublicKey: agent.sealingPublicKey,
      signingKeys: parseSigningSecrets(agent.signingSecrets),
    },
  ];
  return new Dispatcher({
    db: harness.db,
    agents,
    config: harness.config.dispatch,
    log: pino({ level: 'silent' }),
    ...options,
  });
}

describe('"pending" answers', () => {
  it('are not failed attempts: the job is asked again at once and never dies of them', async () => {
    // Five "pending" answers against maxAttempts 2: were they counted, the job would be dead after two.
    h = await startHarness({
      agents: [{ name: 'busy', behave: (job) => (job.delivery <= 5 ? { status: 'pending' } : { status: 'created' }) }],
      dispatch: { maxAttempts: 2, pollIntervalMs: 10 },
      holdMs: 5000,
    });
    const { request, status } = await redeem(h, 'waiter');
    expect(status).toBe('created');
    expect(h.agents[0]!.jobs.map((job) => job.delivery)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(listJobs(h.db)[0]).toMatchObject({ requestId: request, status: 'created', attempts: 1 });
  });

  it('real failures between them still count and back off', async () => {
    const answers = [{ status: 'pending' }, { http: 500 }, { status: 'pending' }, { status: 'created' }] as const;
    h = await startHarness({
      agents: [{ name: 'mixed', behave: (job) => answers[job.delivery - 1] ?? { status: 'created' } }],
      holdMs: 5000,
    });
    expect((await redeem(h, 'mixed')).status).toBe('created');
    // One counted failure (the 500) and the final answer.
    expect(listJobs(h.db)[0]).toMatchObject({ status: 'created', attempts: 2 });
  });

  it('after a long pending stretch the slot is handed back; the job comes back from the poll, attempts untouched', async () => {
    h = await startHarness({ agents: [{ name: 'slowpoke', behave: () => ({ status: 'pending' }) }] });
    const agent = h.agents[0]!;
    const [jobId] = await seedJobs(h, agent, 1, 'stretch');
    const dispatcher = ownDispatcher(h, agent, { pendingLoopMs: 0, pendingSlowRecheckMs: 0 });
    await dispatcher.poll();
    expect(dispatcher.inFlightCount).toBe(0);
    const [job] = listJobs(h.db);
    expect(job).toMatchObject({ id: jobId, status: 'pending', attempts: 0 });
    expect(job!.lastError).toContain('not finished yet');
    agent.behave = () => ({ status: 'created' });
    await dispatcher.poll();
    expect(listJobs(h.db)[0]).toMatchObject({ id: jobId, status: 'created', attempts: 1 });
    expect(agent.jobs.map((received) => received.delivery)).toEqual([1, 2]);
    await dispatcher.close();
  });
});

describe('deliveries of several jobs', () => {
  it('sends the jobs redeemed in one turn together, in deliveries of at most maxJobsPerDelivery', async () => {
    h = await startHarness({ agents: [{ name: 'batcher' }] });
    const agent = h.agents[0]!;
    const ids = await seedJobs(h, agent, 40, 'turn');
    const dispatcher = ownDispatcher(h, agent, { maxJobsPerDelivery: 16 });
    // As /create does: each redemption kicks its job; all forty in one turn of the event loop.
    for (const id of ids) dispatcher.kick([id]);
    expect(agent.deliveries).toEqual([]);
    await until(
      '40 jobs are created',
      () => listJobs(h!.db, { status: 'created' }).length,
      (n) => n === 40,
    );
    expect(agent.deliveries.map((delivery) => delivery.length)).toEqual([16, 16, 8]);
    expect(agent.deliveries.flat().sort()).toEqual([...ids].sort());
    await dispatcher.close();
  });

  it('records each job of a delivery on its own: created, conflict, and pending asked again alone', async () => {
    h = await startHarness({
      agents: [
        {
          name: 'mixer',
          behave: (job) => {
            if (job.username === 'mix1') return { status: 'conflict', detail: 'exists here' };
            if (job.username === 'mix2' && job.delivery === 1) return { status: 'pending' };
            return { status: 'created' };
          },
        },
      ],
      dispatch: { pollIntervalMs: 10 },
    });
    const agent = h.agents[0]!;
    const ids = await seedJobs(h, agent, 3, 'mix');
    const dispatcher = ownDispatcher(h, agent);
    for (const id of ids) dispatcher.kick([id]);
    await until(
      'no job is pending',
      () => listJobs(h!.db, { status: 'pending' }).length,
      (n) => n === 0,
    );
    const byId = Object.fromEntries(listJobs(h.db).map((job) => [job.id, job]));
    expect(byId[ids[0]!]).toMatchObject({ status: 'created', attempts: 1 });
    expect(byId[ids[1]!]).toMatchObject({ status: 'conflict', lastError: 'exists here' });
    expect(byId[ids[2]!]).toMatchObject({ status: 'created', attempts: 1 });
    expect(agent.deliveries).toEqual([ids, [ids[2]]]);
    await dispatcher.close();
  });

  it('a failed delivery is a failed attempt of each of its jobs, retried and delivered again together', async () => {
    h = await startHarness({
      agents: [{ name: 'flaky', behave: (job) => (job.delivery === 1 ? { http: 503 } : { status: 'created' }) }],
    });
    const agent = h.agents[0]!;
    const ids = await seedJobs(h, agent, 3, 'flaky');
    const dispatcher = ownDispatcher(h, agent);
    for (const id of ids) dispatcher.kick([id]);
    // The retry comes due after the backoff and leaves from the poll.
    await until(
      '3 jobs are created',
      () => dispatcher.poll().then(() => listJobs(h!.db, { status: 'created' }).length),
      (n) => n === 3,
    );
    expect(listJobs(h.db).map((job) => job.attempts)).toEqual([2, 2, 2]);
    expect(agent.deliveries[0]).toEqual(ids);
    await dispatcher.close();
  });
});

describe('job selection', () => {
  it('leaves the jobs in flight out in the query itself, however many there are', async () => {
    h = await startHarness({ agents: [{ name: 'sel' }] });
    const ids = await seedJobs(h, h.agents[0]!, 260, 'sel');
    // The 250 oldest are in flight: the query must still find the 10 behind them.
    const found = dueJobs(h.db, Date.now(), 50, { server: 'sel', exclude: ids.slice(0, 250) });
    expect(found.map((job) => job.id)).toEqual(ids.slice(250));
    expect(dueJobs(h.db, Date.now(), 50, { server: 'other' })).toEqual([]);
  });

  it('keeps more than 200 deliveries in flight, caps them per agent, and fills each freed slot without waiting for a poll', async () => {
    const gates: Array<() => void> = [];
    h = await startHarness({
      agents: [
        { name: 'holder', behave: () => new Promise((resolve) => gates.push(() => resolve({ status: 'created' }))) },
      ],
      dispatch: { requestTimeoutMs: 60_000 },
    });
    const agent = h.agents[0]!;
    await seedJobs(h, agent, 300, 'wide');
    // One poll only (at start): everything after it must come from freed slots.
    const dispatcher = ownDispatcher(h, agent, { maxInFlightPerAgent: 250 });
    dispatcher.start();
    await until(
      'the agent got 250 jobs',
      () => agent.jobs.length,
      (n) => n >= 250,
      { timeoutMs: 20_000 },
    );
    expect(agent.jobs).toHaveLength(250);
    expect(dispatcher.inFlightCount).toBe(250);
    // Release them as they come: the other 50 follow as slots free up.
    const releasing = setInterval(() => gates.splice(0).forEach((open) => open()), 5);
    await until(
      '300 jobs are created',
      () => listJobs(h!.db, { status: 'created' }).length,
      (n) => n === 300,
      { timeoutMs: 20_000 },
    );
    clearInterval(releasing);
    expect(listJobs(h.db, { status: 'created' })).toHaveLength(300);
    expect(new Set(agent.jobs.map((job) => job.id)).size).toBe(300);
    expect(agent.jobs.every((job) => job.delivery === 1)).toBe(true);
    await dispatcher.close();
  });
});
