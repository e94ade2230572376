/** Redeeming one ticket through /create, as the dispatcher tests start most of their deliveries. */
import { expect } from 'vitest';
import { GOOD_PASSWORD, type Harness } from './harness.js';

/** POSTs /create for `user` with a fresh ticket; the answer must be 202 (the request, and its status so far). */
export async function redeem(harness: Harness, user: string): Promise<{ request: string; status: string }> {
  const res = await harness.post('/create', { user, password: GOOD_PASSWORD, token: await harness.ticket() });
  expect(res.status).toBe(202);
  return (await res.json()) as { request: string; status: string };
}
