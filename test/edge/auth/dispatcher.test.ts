import { afterEach, describe, expect, it } from 'vitest';
import { listJobs, purgeDeadSeals, retryDeadJob } from '../../../edge/auth/store/outbox.js';
import { generateSigningSecret } from '../../../edge/shared/signing.js';
import { startAgentDouble } from './agent-double.js';
import { until } from '../../support/until.js';
import { GOOD_PASSWORD, startHarness, type Harness } from './harness.js';
import { redeem } from './redeem.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function statusOf(harness: Harness, request: string) {
  return (await (await harness.get(`/status/${request}`, { accept: 'application/json' })).json()) as {
    status: string;
    servers: { name: string; status: string }[];
  };
}

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
