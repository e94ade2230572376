/** /metrics only with the configured bearer token, /healthz public and minimal, and our own request ids in the logs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadAuthConfig } from '../../../edge/auth/config.js';
import { clientRequestId } from '../../../edge/auth/middleware/request-log.js';
import { startHarness, type Harness } from './harness.js';

const TOKEN = 'a-metrics-token-of-forty-characters-0123';
let open: Harness;
let guarded: Harness;
beforeAll(async () => {
  [open, guarded] = await Promise.all([startHarness(), startHarness({ env: { MEET_METRICS_TOKEN: TOKEN } })]);
});
afterAll(() => Promise.all([open.close(), guarded.close()]));

describe('/metrics and /healthz', () => {
  it('serves no /metrics at all without a configured token', async () => {
    const res = await open.get('/metrics', { accept: 'application/json' });
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('meet_auth_');
  });

  it('serves /metrics only with the exact bearer token', async () => {
    for (const authorization of [
      undefined,
      'Bearer wrong',
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Basic ${TOKEN}`,
      TOKEN,
    ]) {
      const res = await guarded.get('/metrics', {
        accept: 'application/json',
        ...(authorization ? { authorization } : {}),
      });
      expect([400, 401], String(authorization)).toContain(res.status);
      const body = await res.text();
      expect(body).not.toContain('meet_auth_');
      expect(JSON.parse(body)).toMatchObject({ error: expect.any(String) });
    }
    const res = await guarded.get('/metrics', { authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('meet_auth_http_requests_total');
  });

  it('keeps /healthz public and minimal', async () => {
    const res = await guarded.get('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('refuses a short or malformed token at start, without echoing it', () => {
    const env = (token: string) => ({
      MEET_AGENTS: JSON.stringify([{ name: 'a', url: 'http://127.0.0.1:9', sealingPublicKey: 'A'.repeat(43) }]),
      MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ a: `whsec_${Buffer.alloc(32, 1).toString('base64')}` }),
      MEET_METRICS_TOKEN: token,
    });
    for (const token of ['short-secret-value', 'has spaces in it and is long enough ok', `${'x'.repeat(40)}\n`]) {
      let error: unknown;
      try {
        loadAuthConfig(env(token));
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('MEET_METRICS_TOKEN');
      expect((error as Error).message).not.toContain(token.trim());
    }
  });
});

describe('request ids', () => {
  const requestLines = (h: Harness) =>
    h.logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'request');

  it("logs our own id, whatever the client sends, and the client's id apart", async () => {
    const before = requestLines(open).length;
    const res = await open.get('/healthz', { 'x-request-id': 'chosen-by-the-client' });
    const line = requestLines(open).slice(before).at(-1)!;
    expect(line.req).toMatch(/^[0-9a-f-]{36}$/);
    expect(line.req).not.toBe('chosen-by-the-client');
    expect(line.clientReq).toBe('chosen-by-the-client');
    expect(res.headers.get('x-request-id')).toBe(line.req);
    // Two requests with the same client id still get two ids of ours.
    await open.get('/healthz', { 'x-request-id': 'chosen-by-the-client' });
    const [first, second] = requestLines(open).slice(-2);
    expect(first!.req).not.toBe(second!.req);
  });

  it('logs no clientReq without one, and a hostile one only sanitised and bounded', async () => {
    const before = requestLines(open).length;
    await open.get('/healthz');
    expect(requestLines(open).slice(before).at(-1)).not.toHaveProperty('clientReq');
    expect(clientRequestId('a b\u001b[2J\r\nc\u202e')).toBe('ab[2Jc');
    expect(clientRequestId('x'.repeat(1000))).toBe('x'.repeat(64));
    expect(clientRequestId('\u0000\u0007 ')).toBeUndefined();
    expect(clientRequestId(undefined)).toBeUndefined();
  });
});
