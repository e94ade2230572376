/**
 * The replay guard of the agent's account routes (signedRequest + onlyOnce over a real inbox) while the agent's
 * wall clock steps forward and back: a request accepted once is never accepted again, whatever the clock does.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentError } from '../../../../edge/agent/errors.js';
import { Inbox, REPLAY_WINDOW_MS } from '../../../../edge/agent/inbox.js';
import { onlyOnce } from '../../../../edge/agent/middleware/only-once.js';
import { signedRequest } from '../../../../edge/agent/middleware/signed-request.js';
import { generateSigningSecret, parseSigningSecrets, signRequest } from '../../../../edge/shared/signing.js';

const keys = parseSigningSecrets(generateSigningSecret());
const DAY = 86_400_000;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function guarded(path: string, clock: { now: number }) {
  const inbox = new Inbox(path);
  let handled = 0;
  const app = new Hono();
  app.use(
    '*',
    signedRequest(keys, () => new Date(clock.now)),
    onlyOnce(inbox),
  );
  app.post('/accounts/delete', (c) => ((handled += 1), c.json({ status: 'absent' })));
  app.onError((error, c) =>
    c.json({ error: error.message, code: (error as AgentError).code }, (error as AgentError).status ?? 500),
  );
  return { inbox, app, handled: () => handled };
}

/** A signed delete as the signer would make it at `at` (its own clock). */
function captured(at: number) {
  const body = JSON.stringify({ username: 'someone' });
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signRequest(keys, randomUUID(), body, new Date(at)) },
    body,
  };
}

const send = async (app: Hono, request: RequestInit) => {
  const res = await app.request('/accounts/delete', request);
  return { status: res.status, body: (await res.json()) as { message?: string } };
};

describe('onlyOnce across clock steps', () => {
  it('refuses a captured request again after the clock stepped forward (ids purged) and then back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-replay-'));
    dirs.push(dir);
    const t0 = Date.parse('2026-03-01T12:00:00Z');
    const clock = { now: t0 };
    const agent = guarded(join(dir, 'agent.sqlite'), clock);
    const old = captured(t0);
    expect(await send(agent.app, old)).toMatchObject({ status: 200 });
    // Forward a day, with a signer whose clock moved too: accepted, and the old id is forgotten.
    clock.now = t0 + DAY;
    expect(await send(agent.app, captured(t0 + DAY))).toMatchObject({ status: 200 });
    // Back to just after the capture, in the signature window of the captured request again.
    for (const back of [t0 + 10_000, t0 - 200_000, t0 + 250_000]) {
      clock.now = back;
      expect(await send(agent.app, old)).toMatchObject({
        status: 401,
        body: { error: expect.stringContaining('stale') },
      });
    }
    expect(agent.handled()).toBe(2);
    agent.inbox.close();
    // Also after a restart (the ids and what they imply are on disk).
    const restarted = guarded(join(dir, 'agent.sqlite'), clock);
    expect(await send(restarted.app, old)).toMatchObject({ status: 401 });
    restarted.inbox.close();
  });

  it('within the window every id is kept, whatever the clock: a replay is refused as replayed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-replay-'));
    dirs.push(dir);
    const t0 = Date.parse('2026-03-01T12:00:00Z');
    const clock = { now: t0 };
    const agent = guarded(join(dir, 'agent.sqlite'), clock);
    const requests = [captured(t0 - 290_000), captured(t0), captured(t0 + 290_000)];
    for (const request of requests) expect(await send(agent.app, request)).toMatchObject({ status: 200 });
    // The clock steps far forward (the old code dropped every id whose expiry passed) and back.
    clock.now = t0 + 30 * DAY;
    clock.now = t0;
    for (const request of requests)
      expect(await send(agent.app, request)).toMatchObject({
        status: 401,
        body: { error: expect.stringContaining('replayed') },
      });
    // New requests from a signer within ±300 s of the agent are still accepted.
    for (const skew of [-299_000, 0, 299_000])
      expect(await send(agent.app, captured(t0 + skew))).toMatchObject({ status: 200 });
    agent.inbox.close();
  });

  it('keeps only the ids that are still within the window of the newest one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-replay-'));
    dirs.push(dir);
    const inbox = new Inbox(join(dir, 'agent.sqlite'));
    const t0 = 1_800_000_000_000;
    for (let i = 0; i < 50; i++) expect(inbox.firstSighting(`id-${i}`, t0 + i * 60_000)).toBe('first');
    // Every id older than REPLAY_WINDOW_MS before the newest is gone, and its timestamp refused.
    const newest = t0 + 49 * 60_000;
    expect(inbox.firstSighting('id-0', t0)).toBe('too-old');
    expect(inbox.firstSighting('id-49', newest)).toBe('replayed');
    expect(inbox.firstSighting('id-45', t0 + 45 * 60_000)).toBe('replayed');
    expect(inbox.firstSighting('fresh', newest - REPLAY_WINDOW_MS + 1000)).toBe('first');
    inbox.close();
  });
});
