import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inbox } from '../../../edge/agent/inbox.js';
import type { AccountWorker } from '../../../edge/agent/worker.js';
import { generateSealingKeyPair } from '../../../edge/shared/sealing.js';
import { generateSigningSecret, parseSigningSecrets, signRequest } from '../../../edge/shared/signing.js';
import { startAgentRig, type AgentRig, type RigAccounts } from '../../support/agent-rig.js';
import { makeJob, signedDeliveryInit, signedInit } from '../../support/jobs.js';
import type { TestProsody } from '../../support/prosody.js';
import { until } from '../../support/until.js';
import { xmppLogin } from '../../support/xmpp.js';

const sealing = generateSealingKeyPair();
const [oldKey, newKey] = [parseSigningSecrets(generateSigningSecret()), parseSigningSecrets(generateSigningSecret())];
const stranger = parseSigningSecrets(generateSigningSecret());

let rig: AgentRig;
let prosody: TestProsody;
let inbox: Inbox;
let accounts: RigAccounts;
let app: AgentRig['app'];

beforeAll(async () => {
  // Rotation: the agent accepts both the old and the new key.
  rig = await startAgentRig({
    sealingKeys: [sealing.privateKey],
    signingKeys: [...newKey, ...oldKey],
    // Long: the hold ends when the jobs are done, and a loaded CI machine still answers "created".
    holdMs: 15_000,
    startWorker: true,
    name: 'agent-app-',
  });
  ({ prosody, inbox, accounts, app } = rig);
});
afterAll(() => rig?.dispose());

const post = (init: RequestInit) => app.request('/jobs', init);

describe('POST /jobs', () => {
  it('creates the account in one round trip and answers created', async () => {
    const job = makeJob(sealing.publicKey, 'alice', 'alice password 1');
    const response = await post(signedInit(newKey, job));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: job.id, status: 'created' });
    expect(await xmppLogin({ port: prosody.c2sPort, username: 'alice', password: 'alice password 1' })).toBe(true);
  });

  it('accepts the old key during a rotation, and a sender signing with both', async () => {
    const viaOld = makeJob(sealing.publicKey, 'rotold', 'rotation password 1');
    expect(await (await post(signedInit(oldKey, viaOld))).json()).toMatchObject({ status: 'created' });
    const viaBoth = makeJob(sealing.publicKey, 'rotboth', 'rotation password 2');
    expect(await (await post(signedInit([...stranger, ...newKey], viaBoth))).json()).toMatchObject({
      status: 'created',
    });
  });

  it('answers a repeat of a job id with the stored result and creates nothing again', async () => {
    const job = makeJob(sealing.publicKey, 'repeat', 'repeat password 1');
    expect(await (await post(signedInit(newKey, job))).json()).toEqual({ id: job.id, status: 'created' });
    const before = inbox.get(job.id);
    const again = await post(signedInit(newKey, job));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ id: job.id, status: 'created' });
    expect(inbox.get(job.id)).toEqual(before);
  });

  it('answers conflict for a name that exists with another password, and leaves that account alone', async () => {
    expect(await accounts.create('taken', 'original password 1')).toEqual({ kind: 'created' });
    const job = makeJob(sealing.publicKey, 'taken', 'intruder password 2');
    const body = (await (await post(signedInit(newKey, job))).json()) as { detail: string };
    expect(body).toMatchObject({ id: job.id, status: 'conflict' });
    expect(body.detail).not.toContain('intruder');
    expect(
      await xmppLogin({
        port: prosody.c2sPort,
        username: 'taken',
        password: 'original password 1',
        mechanism: 'PLAIN',
      }),
    ).toBe(true);
    expect(
      await xmppLogin({
        port: prosody.c2sPort,
        username: 'taken',
        password: 'intruder password 2',
        mechanism: 'PLAIN',
      }),
    ).toBe(false);
  });

  describe('refuses with 401 and changes nothing', () => {
    const cases: Array<[string, (job: ReturnType<typeof makeJob>) => RequestInit]> = [
      ['unsigned', (job) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: job.body })],
      ['signed with an unknown key', (job) => signedInit(stranger, job)],
      [
        'tampered body',
        (job) => ({ ...signedInit(newKey, job), body: job.body.replace('"username":"', '"username":"x') }),
      ],
      ['stale (6 minutes old)', (job) => signedInit(newKey, job, new Date(Date.now() - 360_000))],
      ['from the future (6 minutes ahead)', (job) => signedInit(newKey, job, new Date(Date.now() + 360_000))],
      [
        'signature of another job id',
        (job) => ({
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...signRequest(newKey, 'other-id', job.body),
            'webhook-id': job.id,
          },
          body: job.body,
        }),
      ],
    ];
    for (const [name, build] of cases) {
      it(name, async () => {
        const job = makeJob(sealing.publicKey, `refused${cases.findIndex(([n]) => n === name)}`, 'refused password 1');
        const counts = inbox.counts();
        const response = await post(build(job));
        expect(response.status).toBe(401);
        expect(await response.json()).toMatchObject({ code: 'unauthorized' });
        expect(inbox.get(job.id)).toBeUndefined();
        expect(inbox.counts()).toEqual(counts);
        expect(await accounts.verify(job.username, 'refused password 1').catch(() => false)).toBe(false);
      });
    }
  });

  it('answers every error as {"error": <message>, "code": <code>}, the shape meet-auth answers with', async () => {
    const unknown = await app.request('/nope');
    expect([unknown.status, await unknown.json()]).toEqual([404, { error: 'no such route', code: 'not_found' }]);
    const job = makeJob(sealing.publicKey, 'errorshape', 'error shape password');
    const refused = await post(signedInit(stranger, job));
    const body = (await refused.json()) as Record<string, unknown>;
    expect(refused.status).toBe(401);
    expect(Object.keys(body).sort()).toEqual(['code', 'error']);
    expect(body).toMatchObject({ code: 'unauthorized', error: expect.any(String) });
  });

  it('accepts a request 4 minutes old (inside the ±300 s window)', async () => {
    const job = makeJob(sealing.publicKey, 'slightlyold', 'slightly old password');
    expect(await (await post(signedInit(newKey, job, new Date(Date.now() - 240_000)))).json()).toMatchObject({
      status: 'created',
    });
  });

  describe('refuses a malformed body with 400, stores nothing', () => {
    const bodies: Array<[string, unknown]> = [
      ['not JSON', '{nope'],
      ['missing sealedPassword', { username: 'x1' }],
      ['username not folded', { username: 'Alice', sealedPassword: 'abc' }],
      ['username with a space', { username: 'has space', sealedPassword: 'abc' }],
      ['extra field', { username: 'x2', sealedPassword: 'abc', password: 'plaintext' }],
    ];
    for (const [name, shape] of bodies) {
      it(name, async () => {
        const id = `malformed-${name.replace(/\W+/g, '-')}`;
        const body = typeof shape === 'string' ? shape : JSON.stringify({ id, ...(shape as object) });
        const counts = inbox.counts();
        const response = await post({
          method: 'POST',
          headers: { 'content-type': 'application/json', ...signRequest(newKey, id, body) },
          body,
        });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ code: 'bad_request' });
        expect(inbox.counts()).toEqual(counts);
      });
    }

    it('webhook-id differing from the body id', async () => {
      const job = makeJob(sealing.publicKey, 'idmismatch', 'id mismatch password');
      const body = job.body;
      const response = await post({
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signRequest(newKey, 'another-id', body) },
        body,
      });
      expect(response.status).toBe(400);
      expect(inbox.get(job.id)).toBeUndefined();
    });
  });

  it('answers failed for a seal made for another job (a seal cannot be moved)', async () => {
    const original = makeJob(sealing.publicKey, 'moved', 'moved password 1');
    const { sealedPassword } = JSON.parse(original.body);
    const id = 'moved-seal-job';
    const body = JSON.stringify({ id, username: 'moved', sealedPassword });
    const response = await post({
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signRequest(newKey, id, body) },
      body,
    });
    expect(await response.json()).toMatchObject({
      id,
      status: 'failed',
      detail: expect.stringContaining('does not open'),
    });
    expect(await accounts.verify('moved', 'moved password 1').catch(() => false)).toBe(false);
  });

  it('refuses a body over the size limit with 413', async () => {
    const body = JSON.stringify({ id: 'big', username: 'big', sealedPassword: 'a'.repeat(200_000) });
    const response = await post({
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signRequest(newKey, 'big', body) },
      body,
    });
    expect(response.status).toBe(413);
    expect(inbox.get('big')).toBeUndefined();
  });
});

describe('POST /jobs with a delivery of several jobs', () => {
  it('stores and creates them all in one round trip and answers each, in order', async () => {
    const users = ['batch-a', 'batch-b', 'batch-c', 'batch-d'];
    const jobs = users.map((user) => makeJob(sealing.publicKey, user, `${user} password`));
    const response = await post(signedDeliveryInit(newKey, jobs));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ jobs: jobs.map((job) => ({ id: job.id, status: 'created' })) });
    for (const user of users)
      expect(await xmppLogin({ port: prosody.c2sPort, username: user, password: `${user} password` })).toBe(true);
  });

  it('answers each job on its own: a repeat gets its stored result, an id stored for another name fails alone', async () => {
    const [done, other] = ['batch-done', 'batch-other'].map((user) =>
      makeJob(sealing.publicKey, user, `${user} password`),
    );
    expect(await (await post(signedDeliveryInit(newKey, [done!, other!]))).json()).toMatchObject({
      jobs: [{ status: 'created' }, { status: 'created' }],
    });
    const before = inbox.get(other!.id);
    const fresh = makeJob(sealing.publicKey, 'batch-fresh', 'batch fresh password');
    // Shares the finished job's id but names someone else: it fails alone, and the stored job stays as it was.
    const forged = makeJob(sealing.publicKey, 'batch-forged', 'batch forged password', other!.id);
    const response = await post(signedDeliveryInit(newKey, [done!, fresh, forged]));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      jobs: [
        { id: done!.id, status: 'created' },
        { id: fresh.id, status: 'created' },
        { id: other!.id, status: 'failed', detail: expect.stringContaining('another username') },
      ],
    });
    expect(inbox.get(other!.id)).toEqual(before);
    expect(await accounts.verify('batch-forged', 'batch forged password').catch(() => false)).toBe(false);
  });

  it('a job it refuses (a name Prosody would fold otherwise, a bad seal) fails alone with its reason; the others are created', async () => {
    const good = makeJob(sealing.publicKey, 'batch-good', 'batch good password');
    // Names that are not folded as Prosody folds them, and a seal that is not base64url.
    const unfolded = [
      makeJob(sealing.publicKey, 'Upper', 'batch upper password'),
      makeJob(sealing.publicKey, 'Batch', 'batch b password'),
    ];
    const badSeal = {
      id: 'batch-bad-seal',
      username: 'batch-bad-seal',
      body: JSON.stringify({ id: 'batch-bad-seal', username: 'batch-bad-seal', sealedPassword: 'not a seal!' }),
    };
    const response = await post(signedDeliveryInit(newKey, [unfolded[0]!, good, badSeal, unfolded[1]!]));
    expect(response.status).toBe(200);
    const refused = { status: 'failed', detail: expect.stringMatching(/^malformed job: /) };
    expect(await response.json()).toEqual({
      jobs: [
        { id: unfolded[0]!.id, ...refused },
        { id: good.id, status: 'created' },
        { id: badSeal.id, ...refused },
        { id: unfolded[1]!.id, ...refused },
      ],
    });
    for (const job of [...unfolded, badSeal]) expect(inbox.get(job.id)).toBeUndefined();
    expect(await xmppLogin({ port: prosody.c2sPort, username: 'batch-good', password: 'batch good password' })).toBe(
      true,
    );
  });

  it.each([
    [
      'a job id twice',
      () => {
        const job = makeJob(sealing.publicKey, 'batch-twice', 'batch twice password');
        return [job, job];
      },
      'twice',
    ],
    [
      'more than 32 jobs',
      () => Array.from({ length: 33 }, (_, i) => makeJob(sealing.publicKey, `batch-many${i}`, 'many password')),
      '1 to 32 jobs',
    ],
    ['no job at all', () => [], '1 to 32 jobs'],
  ])('refuses a delivery with %s (400) and stores none of it', async (_, build, message) => {
    const jobs = build();
    const response = await post(signedDeliveryInit(newKey, jobs));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain(message);
    for (const job of jobs) expect(inbox.get(job.id)).toBeUndefined();
  });

  it('refuses an unsigned or tampered delivery (401) and stores none of it', async () => {
    const jobs = ['batch-x1', 'batch-x2'].map((user) => makeJob(sealing.publicKey, user, 'tampered password'));
    const signed = signedDeliveryInit(newKey, jobs);
    const tampered = await post({ ...signed, body: String(signed.body).replace('batch-x2', 'batch-x3') });
    expect(tampered.status).toBe(401);
    const unsigned = await post({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: signed.body as string,
    });
    expect(unsigned.status).toBe(401);
    for (const job of jobs) expect(inbox.get(job.id)).toBeUndefined();
  });
});

describe('GET /healthz', () => {
  it('answers ok with the inbox counts', async () => {
    const response = await app.request('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', inbox: { created: expect.any(Number) } });
  });
});

describe('held answers (long-poll)', () => {
  let slow: AgentRig;
  let slowProsody: TestProsody;
  let slowInbox: Inbox;
  let slowWorker: AccountWorker;
  let answerAtOnce: AgentRig['app'];
  let holdLong: AgentRig['app'];

  beforeAll(async () => {
    slow = await startAgentRig({
      sealingKeys: [sealing.privateKey],
      signingKeys: newKey,
      startWorker: true,
      worker: { retryBaseMs: 20, retryMaxMs: 100 },
      name: 'agent-hold-',
    });
    ({ prosody: slowProsody, inbox: slowInbox, worker: slowWorker } = slow);
    // Two fronts on one inbox and worker: one answers at once, one holds (far longer than any test needs).
    answerAtOnce = slow.appWith({ holdMs: 0 });
    holdLong = slow.appWith({ holdMs: 60_000 });
  });
  afterAll(() => slow?.dispose());

  it('holds a repeat of a pending job and answers created as soon as the job is done', async () => {
    await slowProsody.stop();
    const job = makeJob(sealing.publicKey, 'longpoll', 'long poll password 1');
    expect(await (await answerAtOnce.request('/jobs', signedInit(newKey, job))).json()).toEqual({
      id: job.id,
      status: 'pending',
    });
    let answered = false;
    const repeat = Promise.resolve(holdLong.request('/jobs', signedInit(newKey, job))).then((response) => {
      answered = true;
      return response;
    });
    // The worker keeps failing on the stopped Prosody (each failure puts the job back): the repeat stays held.
    const attemptsBefore = slowInbox.get(job.id)!.attempts;
    await until('the worker failed twice more', () => slowInbox.get(job.id)!.attempts >= attemptsBefore + 2);
    expect(answered).toBe(false);
    expect(slowInbox.get(job.id)).toMatchObject({ status: 'attempting' });
    await slowProsody.start();
    const response = await repeat;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: job.id, status: 'created' });
    expect(await xmppLogin({ port: slowProsody.c2sPort, username: 'longpoll', password: 'long poll password 1' })).toBe(
      true,
    );
  });

  it('holds many requests without adding a listener per request to the worker', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      await slowProsody.stop();
      const jobs = Array.from({ length: 40 }, (_, i) => makeJob(sealing.publicKey, `held${i}`, `held password ${i}`));
      const answers = jobs.map((job) => Promise.resolve(holdLong.request('/jobs', signedInit(newKey, job))));
      await until('every job is in the inbox', () => jobs.every((job) => slowInbox.get(job.id) !== undefined));
      expect(slowWorker.listenerCount('settled')).toBe(0);
      await slowProsody.start();
      const bodies = await Promise.all(answers.map(async (answer) => (await answer).json()));
      expect(bodies).toEqual(jobs.map((job) => ({ id: job.id, status: 'created' })));
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((warning) => warning.includes('MaxListeners'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
