import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { bodyText, nodeBodyLimit } from '../../../edge/shared/node-body.js';

/** Raw HTTP, so the test controls Content-Length vs chunked exactly. */
function send(
  port: number,
  method: string,
  body: string | undefined,
  chunked = false,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path: '/echo', headers: chunked ? { 'transfer-encoding': 'chunked' } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    if (body !== undefined && chunked) {
      // Two chunks, so the body really arrives as a stream without a length.
      req.write(body.slice(0, 3));
      req.end(body.slice(3));
    } else req.end(body);
  });
}

describe('node-body under @hono/node-server', () => {
  let server: ServerType;
  let port: number;
  beforeAll(async () => {
    const app = new Hono();
    app.use(nodeBodyLimit({ maxSize: 64 }));
    app.post('/echo', async (c) => c.text(`got:${await bodyText(c)}`));
    app.get('/echo', (c) => c.text('no body'));
    app.onError((error, c) =>
      error instanceof HTTPException ? c.text('too large', error.status) : c.text('oops', 500),
    );
    server = await new Promise((resolve) => {
      const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started));
    });
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads a body with Content-Length from the Node stream, UTF-8 intact', async () => {
    expect(await send(port, 'POST', 'user=ünï&x=1')).toEqual({ status: 200, text: 'got:user=ünï&x=1' });
  });

  it('refuses a body whose Content-Length is over the limit with 413', async () => {
    expect((await send(port, 'POST', 'x'.repeat(65))).status).toBe(413);
    expect(await send(port, 'POST', 'x'.repeat(64))).toEqual({ status: 200, text: `got:${'x'.repeat(64)}` });
  });

  it('chunked bodies go through hono: read when under the limit, 413 when over', async () => {
    expect(await send(port, 'POST', 'chunked body', true)).toEqual({ status: 200, text: 'got:chunked body' });
    expect((await send(port, 'POST', 'y'.repeat(100), true)).status).toBe(413);
  });

  it('lets a GET without a body through', async () => {
    expect(await send(port, 'GET', undefined)).toEqual({ status: 200, text: 'no body' });
  });
});

describe('node-body without a Node request (app.request in tests)', () => {
  it('falls back to hono for both the limit and the text', async () => {
    const app = new Hono();
    app.use(nodeBodyLimit({ maxSize: 8, onError: (c) => c.text('too large', 413) }));
    app.post('/', async (c) => c.text(await bodyText(c)));
    expect(await (await app.request('/', { method: 'POST', body: 'short' })).text()).toBe('short');
    expect((await app.request('/', { method: 'POST', body: 'much too long' })).status).toBe(413);
  });
});
