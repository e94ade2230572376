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

describe('AgentClient on its own thread', () => {
  it('sends a job while meet-auth’s main thread is busy (its event loop blocked), and returns the reply afterwards', async () => {
    const { AgentClient } = await import('../../../edge/auth/agent-client.js');
    const { Worker } = await import('node:worker_threads');
    // The agent here runs on another thread and raises a shared flag when a job arrives.
    const arrived = new Int32Array(new SharedArrayBuffer(4));
    const agent = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       const flag = new Int32Array(workerData.flag);
       const server = require('node:http').createServer((req, res) => {
         req.resume();
         req.on('end', () => {
           Atomics.store(flag, 0, 1);
           Atomics.notify(flag, 0);
           res.setHeader('content-type', 'application/json');
           res.end(JSON.stringify({ id: 'busy-1', status: 'created' }));
         });
       });
       server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
       parentPort.on('message', () => server.close(() => parentPort.close()));`,
      { eval: true, workerData: { flag: arrived.buffer } },
    );
    const client = new AgentClient(4);
    try {
      const port = await new Promise<number>((resolve) => agent.once('message', resolve));
      const reply = client.post(
        `http://127.0.0.1:${port}/jobs`,
        { 'content-type': 'application/json' },
        '{"id":"busy-1"}',
        20_000,
      );
      // Block this thread outright: a request sent from this thread's event loop could not leave until it ends.
      expect(Atomics.wait(arrived, 0, 0, 15_000)).toBe('ok');
      expect(await reply).toEqual({ status: 200, json: { id: 'busy-1', status: 'created' } });
    } finally {
      client.close();
      agent.postMessage('stop');
      await agent.terminate();
    }
  });

  it('rejects posts after close', async () => {
    const { AgentClient } = await import('../../../edge/auth/agent-client.js');
    const client = new AgentClient(1);
    client.close();
    await expect(client.post('http://127.0.0.1:9/jobs', {}, '{}', 1_000)).rejects.toThrow('closed');
  });
});
