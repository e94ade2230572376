/** A 5xx never shows internals: unexpected errors are logged with their stack and answered generically. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.dispatcher.close();
  // Break the store under the running app: every query now throws "The database connection is not open".
  h.db.close();
});
afterAll(() => h.close());

describe('internal errors', () => {
  it('answer 500 with the generic message in JSON, and log the cause', async () => {
    const res = await h.get('/status/AAAAAAAAAAAAAAAAAAAAAA', { accept: 'application/json' });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'Something went wrong on our side. Try again later.', code: 'internal' });
    expect(h.logLines.join('')).toContain('database connection is not open');
  });

  it('answer 500 with a plain page for browsers, without a stack or the cause', async () => {
    const res = await h.postForm('/create', { user: 'x', password: 'y', token: `${'A'.repeat(16)}.${'B'.repeat(43)}` });
    expect(res.status).toBe(500);
    const page = await res.text();
    expect(page).toContain('Something went wrong on our side');
    expect(page).not.toMatch(/database|sqlite|at .*\.ts:\d+/i);
  });
});
