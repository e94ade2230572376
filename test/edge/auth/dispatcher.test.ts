import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay, Dispatcher, type DispatcherOptions } from '../../../edge/auth/dispatcher.js';
import { dueJobs, listJobs, purgeDeadSeals, retryDeadJob } from '../../../edge/auth/store/outbox.js';
import { redeem as redeemInStore } from '../../../edge/auth/store/requests.js';
import { seal } from '../../../edge/shared/sealing.js';
import { generateSigningSecret, parseSigningSecrets } from '../../../edge/shared/signing.js';
import { startAgentDouble, type AgentDouble } from './agent-double.js';
import { seededRandom } from '../../support/seeded-random.js';
import { until } from '../../support/until.js';
import { GOOD_PASSWORD, startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function redeem(harness: Harness, user: string): Promise<{ request: string; status: string }> {
  const res = await harness.post('/create', { user, password: GOOD_PASSWORD, token: await harness.ticket() });
  expect(res.status).toBe(202);
  return (await res.json()) as { request: string; status: string };
}

async function statusOf(harness: Harness, request: string) {
  return (await (await harness.get(`/status/${request}`, { accept: 'application/json' })).json()) as {
    status: string;
    servers: { name: string; status: string }[];
  };
}

describe('backoffDelay', () => {
  it('grows exponentially, is capped, and jitters within [step/2, step]', () => {
    const config = { baseDelayMs: 1000, maxDelayMs: 60_000 };
    expect(backoffDelay(1, config, () => 0)).toBe(500);
    expect(backoffDelay(1, config, () => 0.999999)).toBe(1000);
    expect(backoffDelay(3, config, () => 0)).toBe(2000);
    expect(backoffDelay(4, config, () => 0.5)).toBe(6000);
    expect(backoffDelay(20, config, () => 0.999999)).toBe(60_000);
    const random = seededRandom();
    const samples = new Set(Array.from({ length: 50 }, () => backoffDelay(5, config, random.next)));
    expect(samples.size).toBeGreaterThan(10);
    for (const sample of samples) {
      expect(sample).toBeGreaterThanOrEqual(8000);
      expect(sample).toBeLessThanOrEqual(16_000);
    }
  });
});

describe('delivery', () => {
  it('signs every job, and the seal opens only for that job and username', async () => {
    h = await startHarness({ agents: [{ name: 'a' }, { name: 'b' }] });
    const { status } = await redeem(h, 'signed');
    expect(status).toBe('created');
    for (const agent of h.agents) {
      expect(agent.rejected).toEqual([]);
      expect(agent.jobs).toHaveLength(1);
      expect(agent.jobs[0]).toMatchObject({ username: 'signed', password: GOOD_PASSWORD, delivery: 1 });
    }
    expect(h.agents[0]!.jobs[0]!.id).not.toBe(h.agents[1]!.jobs[0]!.id);
  });

  it('retries 500s with backoff until created, and the job keeps its id (idempotency key)', async () => {
    let failures = 3;
    h = await startHarness({
      agents: [{ name: 'flaky', behave: () => (failures-- > 0 ? { http: 500 } : { status: 'created' }) }],
      holdMs: 3000,
    });
    const { request, status } = await redeem(h, 'flaky');
    expect(status).toBe('created');
    const jobs = h.agents[0]!.jobs;
    expect(jobs.map((job) => job.delivery)).toEqual([1, 2, 3, 4]);
    expect(new Set(jobs.map((job) => job.id)).size).toBe(1);
    expect(listJobs(h.db)[0]).toMatchObject({ status: 'created', attempts: 4, requestId: request });
  });

  it('treats a timeout like a network error and retries', async () => {
    let first = true;
    h = await startHarness({
      agents: [{ name: 'slow', behave: () => (first ? ((first = false), { hangMs: 800 }) : { status: 'created' }) }],
      dispatch: { requestTimeoutMs: 200 },
      holdMs: 3000,
    });
    expect((await redeem(h, 'slowpoke')).status).toBe('created');
    expect(h.agents[0]!.jobs.length).toBe(2);
  });

  it('asks again after "pending" and takes the later "created"', async () => {
    h = await startHarness({
      agents: [{ name: 'queued', behave: (job) => (job.delivery < 3 ? { status: 'pending' } : { status: 'created' }) }],
      holdMs: 3000,
    });
    expect((await redeem(h, 'patient')).status).toBe('created');
    expect(h.agents[0]!.jobs.map((job) => job.delivery)).toEqual([1, 2, 3]);
  });

  it('answers 202 pending when the servers are slower than MEET_HOLD_MS, then settles', async () => {
    h = await startHarness({
      agents: [{ name: 'late', behave: (job) => (job.delivery < 4 ? { status: 'pending' } : { status: 'created' }) }],
      holdMs: 10,
      dispatch: { baseDelayMs: 100 },
    });
    const { request, status } = await redeem(h, 'later');
    expect(status).toBe('pending');
    expect((await statusOf(h, request)).status).toBe('pending');
    const page = await (await h.get(`/status/${request}`)).text();
    expect(page).toContain('http-equiv="refresh"');
    expect(page).toContain('created on 0 of 1 server so far');
    expect(
      (
        await until(
          'the request settles',
          () => statusOf(h!, request),
          (s) => s.status !== 'pending',
        )
      ).status,
    ).toBe('created');
  });

  it('a conflict on one server fails the request, gives the ticket use back and releases the name', async () => {
    h = await startHarness({
      agents: [{ name: 'one' }, { name: 'two', behave: () => ({ status: 'conflict', detail: 'user exists' }) }],
    });
    const ticket = await h.ticket();
    const res = await h.post('/create', { user: 'handmade', password: GOOD_PASSWORD, token: ticket });
    const { request } = (await res.json()) as { request: string };
    const status = await until(
      'the request settles',
      () => statusOf(h!, request),
      (s) => s.status !== 'pending',
    );
    expect(status).toEqual({
      status: 'failed',
      servers: [
        { name: 'one', status: 'created' },
        { name: 'two', status: 'conflict' },
      ],
    });
    expect(h.db.prepare('SELECT uses FROM tickets WHERE selector = ?').get(ticket.split('.')[0])).toEqual({ uses: 0 });
    expect(h.db.prepare('SELECT count(*) AS n FROM usernames WHERE username = ?').get('handmade')).toEqual({ n: 0 });
    // Finished jobs hold no seal.
    expect(h.db.prepare('SELECT count(*) AS n FROM jobs WHERE sealed_password IS NOT NULL').get()).toEqual({ n: 0 });
    const page = await (await h.get(`/status/${request}`)).text();
    expect(page).toContain('created on 1 of 2 servers');
    expect(page).toContain('already exists on this server');
    // The same ticket works again, with another name.
    h.agents[1]!.behave = () => ({ status: 'created' });
    expect(
      (await (await h.post('/create', { user: 'handmade2', password: GOOD_PASSWORD, token: ticket })).json()) as object,
    ).toMatchObject({ status: 'created' });
  });

  it('marks a job dead after maxAttempts; an admin retry delivers it and revives the request', async () => {
    let down = true;
    h = await startHarness({
      agents: [{ name: 'down', behave: () => (down ? { http: 503 } : { status: 'created' }) }],
      dispatch: { maxAttempts: 3 },
      holdMs: 3000,
    });
    const ticket = await h.ticket();
    const { request, status } = (await (
      await h.post('/create', { user: 'outage', password: GOOD_PASSWORD, token: ticket })
    ).json()) as { request: string; status: string };
    // It failed while held (3 attempts within the hold): the answer says so (`POST /create`'s documented status values).
    expect(status).toBe('failed');
    expect(await statusOf(h, request)).toEqual({ status: 'failed', servers: [{ name: 'down', status: 'dead' }] });
    const [dead] = listJobs(h.db, { status: 'dead' });
    expect(dead).toMatchObject({ attempts: 3, retryable: true, server: 'down' });
    expect(dead!.lastError).toContain('HTTP 503');
    expect(h.db.prepare('SELECT uses FROM tickets WHERE selector = ?').get(ticket.split('.')[0])).toEqual({ uses: 0 });
    down = false;
    retryDeadJob(h.db, dead!.id);
    expect(
      (
        await until(
          'the request is created',
          () => statusOf(h!, request),
          (s) => s.status === 'created',
        )
      ).status,
    ).toBe('created');
    expect(h.db.prepare('SELECT sealed_password FROM jobs WHERE id = ?').get(dead!.id)).toEqual({
      sealed_password: null,
    });
    expect(h.db.prepare('SELECT request_id FROM usernames WHERE username = ?').get('outage')).toEqual({
      request_id: request,
    });
    // The ticket's use was given back on failure and is not taken again: the admin's retry is a grant.
    expect(() => retryDeadJob(h!.db, dead!.id)).toThrow(/not dead/);
  });

  it('an agent\'s permanent refusal is "failed" at once (not dead: no retry can fix it)', async () => {
    h = await startHarness({
      agents: [{ name: 'strict', behave: () => ({ status: 'failed', detail: 'prosody refused the name' }) }],
    });
    const { request } = await redeem(h, 'refused');
    expect(await statusOf(h, request)).toEqual({ status: 'failed', servers: [{ name: 'strict', status: 'failed' }] });
    expect(h.agents[0]!.jobs).toHaveLength(1);
    expect(listJobs(h.db, { status: 'failed' })[0]!.lastError).toContain('prosody refused the name');
    expect(listJobs(h.db, { status: 'dead' })).toEqual([]);
  });

  it('refuses to revive a request whose name someone else took meanwhile', async () => {
    h = await startHarness({ agents: [{ name: 'gone', behave: () => ({ http: 500 }) }], dispatch: { maxAttempts: 1 } });
    await redeem(h, 'contested');
    const [dead] = listJobs(h.db, { status: 'dead' });
    h.agents[0]!.behave = () => ({ status: 'created' });
    await redeem(h, 'contested');
    expect(() => retryDeadJob(h!.db, dead!.id)).toThrow(/since been reserved/);
  });

  it('drops the seals of jobs dead longer than the retention', async () => {
    h = await startHarness({ agents: [{ name: 'gone', behave: () => ({ http: 500 }) }], dispatch: { maxAttempts: 1 } });
    await redeem(h, 'expiring');
    expect(purgeDeadSeals(h.db, Date.now() - 60_000)).toBe(0);
    expect(purgeDeadSeals(h.db, Date.now() + 1)).toBe(1);
    const [dead] = listJobs(h.db, { status: 'dead' });
    expect(dead!.retryable).toBe(false);
    expect(() => retryDeadJob(h!.db, dead!.id)).toThrow(/no longer holds/);
  });
});

describe('signing key rotation', () => {
  it('signs with every configured key, so an agent holding only the old or only the new key accepts', async () => {
    const [newer, older] = [generateSigningSecret(), generateSigningSecret()];
    h = await startHarness({ agents: [{ name: 'rot' }] });
    const onlyOld = await startAgentDouble('old', { acceptSecrets: [older] });
    const onlyNew = await startAgentDouble('new', { acceptSecrets: [newer] });
    const wrong = await startAgentDouble('wrong');
    const { Dispatcher } = await import('../../../edge/auth/dispatcher.js');
    const { parseSigningSecrets } = await import('../../../edge/shared/signing.js');
    const agents = [onlyOld, onlyNew, wrong].map((agent) => ({
      name: agent.name,
      url: agent.url,
      sealingPublicKey: agent.sealingPublicKey,
      signingKeys: parseSigningSecrets(`${newer} ${older}`),
    }));
    const dispatcher = new Dispatcher({
      db: h.db,
      agents,
      config: { ...h.config.dispatch, maxAttempts: 2 },
      log: (await import('pino')).pino({ level: 'silent' }),
    });
    const { seal } = await import('../../../edge/shared/sealing.js');
    const { redeem: redeemInStore } = await import('../../../edge/auth/store/requests.js');
    const ticket = await h.ticket();
    const [selector] = ticket.split('.');
    const jobs = agents.map((agent, index) => ({
      id: `rotation-job-${index}`,
      server: agent.name,
      sealedPassword: seal(agent.sealingPublicKey, GOOD_PASSWORD, `rotation-job-${index}\nrotor`),
    }));
    redeemInStore(h.db, {
      requestId: 'rotation-request-000000',
      selector: selector!,
      issuer: 'Ada',
      username: 'rotor',
      jobs,
      now: Date.now(),
    });
    await h.dispatcher.close();
    dispatcher.kick(jobs.map((job) => job.id));
    dispatcher.start();
    await until(
      'no job is pending',
      () => listJobs(h!.db).filter((job) => job.status === 'pending').length,
      (n) => n === 0,
      { timeoutMs: 3000 },
    );
    await dispatcher.close();
    const byServer = Object.fromEntries(listJobs(h.db).map((job) => [job.server, job.status]));
    expect(byServer).toEqual({ old: 'created', new: 'created', wrong: 'dead' });
    expect(wrong.rejected).toEqual(['bad-signature', 'bad-signature']);
    await Promise.all([onlyOld, onlyNew, wrong].map((agent) => agent.close()));
  });
});

describe('shutdown', () => {
  it('close() waits for deliveries in flight and records them', async () => {
    h = await startHarness({ agents: [{ name: 'slowish', behave: () => ({ hangMs: 300 }) }], holdMs: 0 });
    const { request } = await redeem(h, 'inflight');
    await h.dispatcher.close();
    expect(listJobs(h.db)[0]).toMatchObject({ status: 'created', requestId: request });
  });
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

describe('AgentClient on its own thread', () => {
  it('sends a job while meet-auth’s main thread is busy (its event loop blocked), and returns the reply afterwards', async () => {
    const { AgentClient } = await import('../../../edge/auth/agent-client.js');
    const { Worker } = await import('node:worker_threads');
    // The agent here runs on another thread and raises a shared flag when a job arrives.
    const arrived = new Int32Array(new SharedArrayBuffer(4));
    const agent = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       const flag = new Int32Array(workerData.flag);
       const server = require('node:http').createServer((req, res) => {
         req.resume();
         req.on('end', () => {
           Atomics.store(flag, 0, 1);
           Atomics.notify(flag, 0);
           res.setHeader('content-type', 'application/json');
           res.end(JSON.stringify({ id: 'busy-1', status: 'created' }));
         });
       });
       server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
       parentPort.on('message', () => server.close(() => parentPort.close()));`,
      { eval: true, workerData: { flag: arrived.buffer } },
    );
    const client = new AgentClient(4);
    try {
      const port = await new Promise<number>((resolve) => agent.once('message', resolve));
      const reply = client.post(
        `http://127.0.0.1:${port}/jobs`,
        { 'content-type': 'application/json' },
        '{"id":"busy-1"}',
        20_000,
      );
      // Block this thread outright: a request sent from this thread's event loop could not leave until it ends.
      expect(Atomics.wait(arrived, 0, 0, 15_000)).toBe('ok');
      expect(await reply).toEqual({ status: 200, json: { id: 'busy-1', status: 'created' } });
    } finally {
      client.close();
      agent.postMessage('stop');
      await agent.terminate();
    }
  });

  it('rejects posts after close', async () => {
    const { AgentClient } = await import('../../../edge/auth/agent-client.js');
    const client = new AgentClient(1);
    client.close();
    await expect(client.post('http://127.0.0.1:9/jobs', {}, '{}', 1_000)).rejects.toThrow('closed');
  });
});
