import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerRefused, type Refusal } from '../../../edge/shared/refusal.js';

let server: Server;
let base: string;
beforeAll(async () => {
  // The refusal kind comes in the path: /busy or /rate_limited.
  server = createServer((request, response) => answerRefused(request, response, request.url!.slice(1) as Refusal));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

const ask = (refusal: Refusal, accept?: string) =>
  fetch(`${base}/${refusal}`, { headers: accept === undefined ? {} : { accept } });

describe('answerRefused', () => {
  it('answers 503 when everyone together is over a limit and 429 when one client is, both with Retry-After', async () => {
    for (const [refusal, status] of [
      ['busy', 503],
      ['rate_limited', 429],
    ] as const) {
      const response = await ask(refusal);
      expect(response.status).toBe(status);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('connection')).toBe('close');
      await response.text();
    }
  });

  it('speaks JSON with a machine-readable error to clients that ask for JSON only', async () => {
    const response = await ask('busy', 'application/json');
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual({
      error: 'unavailable',
      message: 'The service is busy. Try again in a moment.',
    });
    const limited = await ask('rate_limited', 'application/json');
    expect(((await limited.json()) as { error: string }).error).toBe('rate_limited');
  });

  it('gives browsers a small page (HTML wins over JSON when both are accepted) and others plain text', async () => {
    const page = await ask('rate_limited', 'text/html,application/json;q=0.9');
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<p>Too many requests from your address at once. Try again in a moment.</p>');
    const text = await ask('busy');
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await text.text()).toBe('The service is busy. Try again in a moment.\n');
  });
});
