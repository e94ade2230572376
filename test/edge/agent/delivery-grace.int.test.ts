/**
 * A delivery's held answer waits for all its jobs, but not for one slow job: once the first job is finished, the
 * others get a short grace, then the answer goes out with what is done and "pending" for the rest (meet-auth asks
 * again for those). Real Prosody; the one seam is a create that takes 1.5 s for one name (Prosody busy, say).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ProsodyAccounts } from '../../../edge/agent/prosody/accounts.js';
import { generateSealingKeyPair } from '../../../edge/shared/sealing.js';
import { generateSigningSecret, parseSigningSecrets } from '../../../edge/shared/signing.js';
import { startAgentRig, type AgentRig } from '../../support/agent-rig.js';
import { makeJob, signedDeliveryInit, signedInit } from '../../support/jobs.js';
import type { TestProsody } from '../../support/prosody.js';
import { xmppLogin } from '../../support/xmpp.js';

/** Long enough that the fast jobs' answer, due well before, has room on a loaded machine. */
const SLOW_MS = 3000;
const sealing = generateSealingKeyPair();
const keys = parseSigningSecrets(generateSigningSecret());

let rig: AgentRig;
let prosody: TestProsody;
let app: AgentRig['app'];

beforeAll(async () => {
  rig = await startAgentRig({
    sealingKeys: [sealing.privateKey],
    signingKeys: keys,
    holdMs: 10_000,
    startWorker: true,
    name: 'agent-grace-',
    workerAccounts: (real): ProsodyAccounts => ({
      create: async (username, password) => {
        if (username.startsWith('slow')) await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
        return real.create(username, password);
      },
      verify: (username, password) => real.verify(username, password),
      close: () => real.close(),
    }),
  });
  ({ prosody, app } = rig);
});
afterAll(() => rig?.dispose());

it('answers the finished jobs without waiting for a slow one, which a repeat then gets as created', async () => {
  const fast = ['quick1', 'quick2'].map((user) => makeJob(sealing.publicKey, user, `${user} password`));
  const slow = makeJob(sealing.publicKey, 'slowpoke', 'slowpoke password');
  const started = performance.now();
  const response = await app.request('/jobs', signedDeliveryInit(keys, [fast[0]!, slow, fast[1]!]));
  const tookMs = performance.now() - started;
  expect(await response.json()).toEqual({
    jobs: [
      { id: fast[0]!.id, status: 'created' },
      { id: slow.id, status: 'pending' },
      { id: fast[1]!.id, status: 'created' },
    ],
  });
  // Well before the slow create ends (and far from the 10 s hold).
  expect(tookMs).toBeLessThan(SLOW_MS - 1500);
  // meet-auth's re-ask: held until the slow job is done.
  const again = await app.request('/jobs', signedDeliveryInit(keys, [slow]));
  expect(await again.json()).toEqual({ jobs: [{ id: slow.id, status: 'created' }] });
  expect(await xmppLogin({ port: prosody.c2sPort, username: 'slowpoke', password: 'slowpoke password' })).toBe(true);
});

it('a lone slow job is simply held until it is done (no grace without a finished delivery-mate)', async () => {
  const slow = makeJob(sealing.publicKey, 'slowalone', 'slow alone password');
  const started = performance.now();
  expect(await (await app.request('/jobs', signedInit(keys, slow))).json()).toEqual({ id: slow.id, status: 'created' });
  expect(performance.now() - started).toBeGreaterThanOrEqual(SLOW_MS - 50);
});
