import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentClient, AgentTimeoutError } from '../../../edge/auth/agent-client.js';
import { freePort } from '../../support/ports.js';

describe("AgentClient (the dispatcher's HTTP client)", () => {
  let server: Server;
  let url: string;
  const seen: Array<{ method?: string; headers: Record<string, unknown>; body: string }> = [];
  const client = new AgentClient(4);
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        seen.push({ method: req.method, headers: req.headers, body });
        if (req.url === '/json')
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: body }));
        else if (req.url === '/text') res.writeHead(200).end('not json');
        else if (req.url === '/503') res.writeHead(503).end('busy');
        else if (req.url === '/redirect') res.writeHead(302, { location: '/json' }).end();
        // '/silent': never answers
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    client.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('POSTs the exact body with its headers and Content-Length, and parses a JSON answer', async () => {
    const body = JSON.stringify({ id: 'job-1', username: 'ünï' });
    const reply = await client.post(
      `${url}/json`,
      { 'content-type': 'application/json', 'webhook-id': 'job-1' },
      body,
      5_000,
    );
    expect(reply).toEqual({ status: 200, json: { echo: body } });
    const request = seen.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.headers['webhook-id']).toBe('job-1');
    expect(request.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(request.body).toBe(body);
  });

  it('reports a non-JSON body as null, and other statuses (redirects included, not followed) without a body', async () => {
    expect(await client.post(`${url}/text`, {}, '{}', 5_000)).toEqual({ status: 200, json: null });
    expect(await client.post(`${url}/503`, {}, '{}', 5_000)).toEqual({ status: 503, json: null });
    expect(await client.post(`${url}/redirect`, {}, '{}', 5_000)).toEqual({ status: 302, json: null });
  });

  it('gives up on a silent agent with AgentTimeoutError, and fails on a closed port', async () => {
    await expect(client.post(`${url}/silent`, {}, '{}', 200)).rejects.toBeInstanceOf(AgentTimeoutError);
    const closed = await freePort();
    await expect(client.post(`http://127.0.0.1:${closed}/jobs`, {}, '{}', 5_000)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });
});
